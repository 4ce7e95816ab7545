/* Types shared by gort's BPF programs (bpf/) and its C++ side (user/).
 *
 * Plain fixed-width C types only: the same bytes are written by BPF and read by C++, so every
 * struct here is 8-byte aligned with explicit padding, and user/probes static_asserts the sizes.
 */
#ifndef GORT_BPF_SHARED_H
#define GORT_BPF_SHARED_H

#ifdef __BPF__
/* vmlinux.h provides __u8.. __s64 */
#else
#include <linux/types.h>
#endif

#define GORT_MAX_PROCS 1024 /* traced processes at once (entries of the per-process maps) */
#define GORT_MAX_SYS_RANGES 64
#define GORT_MAX_STW_REASON 32 /* stwReason is a uint8 enum with 17 values in Go 1.21-1.27 */

/* How startTheWorldWithSema/stopTheWorldWithSema pass the pause boundaries, per Go version
 * (docs/go-runtime.md §8). Chosen in user/gobinary, never tested by version in BPF. */
enum gort_stw_abi {
	GORT_STW_ABI_NONE = 0,
	/* 1.21: stopTheWorldWithSema(reason) AL; GC pauses start at runtime.work.pauseStart */
	GORT_STW_ABI_REASON_AT_STOP = 1,
	/* 1.22: startTheWorldWithSema(now, worldStop{reason, start}): RAX, BL, RCX */
	GORT_STW_ABI_WORLDSTOP_START = 2,
	/* 1.23+: worldStop{reason, startedStopping, finishedStopping, cpu}: RAX, BL, RCX, RDI, RSI */
	GORT_STW_ABI_WORLDSTOP_STOPPING = 3,
	/* 1.19-1.20: stopTheWorld(reason string) and stopTheWorldWithSema() with no argument. The
	 * reason is noted per goroutine where each stop path begins (stopTheWorld entry: RAX/RBX
	 * string; gcStart: sweep termination; gcMarkDone: mark termination) and picked up at
	 * stopTheWorldWithSema through g0.m.curg's goid; otherwise as GORT_STW_ABI_REASON_AT_STOP. */
	GORT_STW_ABI_GOROUTINE_REASON = 4,
};

/* Go 1.19-1.20 pass the stop reason as a string. BPF reports it as this bit plus a 31-bit
 * FNV-1a hash of its first GORT_STW_REASON_HASH_BYTES bytes and its length (bpf/stw.bpf.c
 * go_string__reason_hash; runtime_layout__stw_reason_hash), which user/gobinary maps back to
 * the texts it finds in the binary; the GC reasons take the stwReason numbers of 1.21+
 * (1 mark, 2 sweep termination). */
#define GORT_STW_REASON_HASHED 0x80000000u
#define GORT_STW_REASON_HASH_BYTES 32
#define GORT_FNV32_OFFSET 2166136261u
#define GORT_FNV32_PRIME 16777619u

/* Byte offsets of the runtime structs the probes read, from the target's DWARF. */
/* Where a traced process is in its attach sequence. Probes are attached one by one, so every
 * program ignores a process until all of them are live: then one map update starts them all at
 * the same instant, and no goroutine is seen created by one probe but not ended by another. */
enum gort_phase {
	GORT_PHASE_ATTACHING = 0,
	/* Counting, and also recording goids created or ended, so the goroutines alive at attach
	 * can be reconciled exactly with runtime.allgs (user/session/alive_at_attach.h). */
	GORT_PHASE_BASELINE = 1,
	GORT_PHASE_TRACING = 2,
	/* Sampled mode (user/session/sampler.h): the goroutine probes are attached but do not count
	 * yet (or any more), so that a sampling window's start and end are two map updates whose
	 * times user space knows, not the tens of milliseconds an attach or detach takes. */
	GORT_PHASE_PAUSED = 3,
};

struct gort_go_offsets {
	__u32 g_goid;
	__u32 g_startpc;
	__u32 g_gopc;
	__u32 g_m;
	__u32 m_g0;
	__u32 m_curg;
};

struct gort_addr_range {
	__u64 lo, hi;
};

/* Per traced process (key: tgid as the host sees it). */
struct gort_proc_config {
	struct gort_go_offsets off;
	/* g of the current thread = *(task->thread.fsbase + tls_g_offset): -8 for Go-linked
	 * binaries, other values when cgo's C code owns TLS (runtime.tlsg vs PT_TLS). */
	__s64 tls_g_offset;
	/* Go 1.21 only: runtime.work.pauseStart, where GC pauses start, and
	 * runtime.memstats.last_gc_nanotime, the `now` gcMarkTermination ends its pause at (it takes
	 * it before restarting the world, unlike 1.22+ which passes it to startTheWorldWithSema). */
	__u64 work_pause_start_addr;
	__u64 last_gc_nanotime_addr;
	__u32 stw_abi;             /* enum gort_stw_abi */
	__u32 phase; /* enum gort_phase */
	__u32 nr_sys_ranges;
	__u32 record_lifecycle;    /* 1: send every goroutine create/exit through the ring buffer */
	/* Sampled mode re-attaches the goroutine probes every window while the previous window's
	 * links may still be on their way out (a uprobe's removal waits for a grace period): only
	 * links whose BPF cookie equals this count, so no goroutine is counted twice. */
	__u32 goroutine_generation;
	__u32 _pad1;
	/* Start functions of runtime-internal goroutines (name "runtime.*" except runtime.main), as
	 * merged address ranges: runtime.NumGoroutine() does not count them (isSystemGoroutine). */
	struct gort_addr_range sys_ranges[GORT_MAX_SYS_RANGES];
};

/* Cumulative counters per traced process since attach (key: tgid), updated atomically in BPF. */
struct gort_proc_stats {
	__u64 created;        /* user goroutines (what runtime.NumGoroutine counts) */
	__u64 exited;
	__u64 sys_created;    /* runtime-internal goroutines */
	__u64 sys_exited;
	__s64 live_delta;     /* created - exited: may go negative, goroutines older than attach exit */
	__s64 peak_delta;     /* running maximum of live_delta */
	__u64 gc_cycles;      /* completed GC cycles (gcMarkTermination), as MemStats.NumGC counts */
	__u64 stw_pauses;
	__u64 slow_syscalls;  /* goroutine syscalls >= threshold */
	__u64 runtime_waits;  /* syscalls >= threshold made on g0: the runtime's idle waits */
	__u64 lost_events;    /* ring buffer full or a map full: a fact that could not be kept */
	__u64 _reserved;
};

struct gort_site_key {
	__u32 tgid;
	__u32 _pad;
	__u64 startpc; /* g.startpc: the function the goroutine runs (maybe a go wrapper) */
	__u64 gopc;    /* g.gopc: PC of the go statement */
};

struct gort_site_stats {
	__u64 created;
	__u64 exited;
};

struct gort_goid_key {
	__u32 tgid;
	__u32 _pad;
	__u64 goid;
};

/* A g by its address: a reused g is marked runnable before its new goid is assigned
 * (runtime.newproc1), so a snapshot can see a new goroutine under its previous goid. */
struct gort_g_key {
	__u32 tgid;
	__u32 _pad;
	__u64 g;
};

/* A thread by its kernel ids (both in the initial PID namespace). */
struct gort_thread_key {
	__u32 tgid;
	__u32 tid;
};

enum gort_syscall_kind {
	GORT_SYSCALL_GOROUTINE = 0, /* made by a user goroutine (TLS g != g0) */
	GORT_SYSCALL_RUNTIME = 1,   /* made on g0: futex sleeps, netpoll, ... */
};

struct gort_syscall_key {
	__u32 tgid;
	__u32 nr;
	__u32 kind; /* enum gort_syscall_kind */
	__u32 _pad;
};

struct gort_syscall_stats {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
};

/* Ring-buffer records. Every record starts with gort_event_header. */
enum gort_event_kind {
	GORT_EV_STW = 1,
	GORT_EV_GC_CYCLE = 2,
	GORT_EV_SLOW_SYSCALL = 3,
	GORT_EV_GOROUTINE_CREATED = 4,
	GORT_EV_GOROUTINE_EXITED = 5,
	GORT_EV_EXEC = 6, /* a process called execve (system-wide mode only) */
	GORT_EV_GC_TRACE = 7, /* one completed GC cycle's bookkeeping (struct gort_gc_trace_event) */
};

struct gort_event_header {
	__u32 kind; /* enum gort_event_kind */
	__u32 tgid;
	__u64 ktime_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, the clock of Go's nanotime() */
};

struct gort_stw_event {
	struct gort_event_header hdr;
	__u64 start_ns; /* the runtime's own start (worldStop.startedStopping / work.pauseStart) */
	__u64 end_ns;   /* the `now` startTheWorldWithSema returned */
	__u32 reason;   /* stwReason */
	__u32 _pad;
};

struct gort_gc_event {
	struct gort_event_header hdr;
};

struct gort_syscall_event {
	struct gort_event_header hdr; /* ktime_ns: syscall exit */
	__u64 duration_ns;
	__u64 goid;
	__u64 startpc;
	__u64 gopc;
	__u32 tid;
	__u32 nr;
	__u32 kind; /* enum gort_syscall_kind */
	__u32 _pad;
};

struct gort_goroutine_event {
	struct gort_event_header hdr;
	__u64 goid;
	__u64 startpc;
	__u64 gopc;
};

struct gort_exec_event {
	struct gort_event_header hdr; /* tgid: the process that exec'd */
	char comm[16];                /* the new comm (the binary's name) */
};

/* The runtime's own bookkeeping of one GC cycle, as its gctrace=1 line prints it (mgc.go
 * gcMarkTermination), plus the pacer settings in force. bpf/gc.bpf.c reads each field from
 * the address user/gobinary found for it (0: absent in this Go version), masked to its size;
 * floats travel as their bits. Field names are the runtime's. */
enum gort_gc_field {
	GORT_GC_NUMGC = 0,            /* memstats.numgc (this cycle's number) */
	GORT_GC_T_SWEEP_TERM,         /* work.tSweepTerm ... work.tEnd: nanotime() of each phase */
	GORT_GC_T_MARK,
	GORT_GC_T_MARK_TERM,
	GORT_GC_T_END,
	GORT_GC_HEAP0,                /* work.heap0, heap1, heap2: heap at start, end, marked */
	GORT_GC_HEAP1,
	GORT_GC_HEAP2,
	GORT_GC_STWPROCS,             /* work.stwprocs: min(GOMAXPROCS, ncpu) during STW */
	GORT_GC_MAXPROCS,             /* work.maxprocs: the "N P" */
	GORT_GC_USER_FORCED,          /* work.userForced: " (forced)" */
	GORT_GC_ASSIST_TIME,          /* gcController.assistTime ... idleMarkTime */
	GORT_GC_DEDICATED_MARK_TIME,
	GORT_GC_FRACTIONAL_MARK_TIME,
	GORT_GC_IDLE_MARK_TIME,
	GORT_GC_HEAP_GOAL,            /* gcController.lastHeapGoal */
	GORT_GC_STACK_SCAN,           /* gcController.lastStackScan (maxStackScan in 1.19-1.20) */
	GORT_GC_GLOBALS_SCAN,         /* gcController.globalsScan */
	GORT_GC_CPU_FRACTION,         /* memstats.gc_cpu_fraction (float64 bits) */
	GORT_GC_RUNTIME_INIT_TIME,    /* runtimeInitTime: the "@T s" origin */
	GORT_GC_PAUSE_NS,             /* work.pauseNS: this cycle's STW time */
	GORT_GC_PAUSE_TOTAL_NS,       /* memstats.pause_total_ns */
	GORT_GC_GC_PERCENT,           /* gcController.gcPercent: GOGC (int32) */
	GORT_GC_MEMORY_LIMIT,         /* gcController.memoryLimit (int64) */
	GORT_GC_GOMAXPROCS,           /* gomaxprocs (int32) */
	GORT_GC_HEAP_MARKED,          /* gcController.heapMarked */
	GORT_GC_NR_FIELDS
};

/* Per traced process (key: tgid): where each gort_gc_field lives, link address + load bias. */
struct gort_gc_layout {
	__u64 addr[GORT_GC_NR_FIELDS];
	__u8 size[GORT_GC_NR_FIELDS]; /* bytes: 1, 4 or 8 */
	__u8 _pad[(8 - GORT_GC_NR_FIELDS % 8) % 8];
};

struct gort_gc_trace_event {
	struct gort_event_header hdr;
	__u64 v[GORT_GC_NR_FIELDS]; /* by enum gort_gc_field, zero-extended */
};

#endif /* GORT_BPF_SHARED_H */
