/* Stop-the-world pauses and GC cycles.
 *
 * Runtime facts relied on (docs/go-runtime.md §8; runtime/mgc.go of each version):
 *  - every pause ends in startTheWorldWithSema(now, w worldStop) (1.22+), which returns the
 *    `now` the runtime itself uses: GC adds `now - w.startedStopping` (1.23+; `w.start` in 1.22)
 *    to work.pauseNS, the figure MemStats.PauseTotalNs sums. So the pause is taken from the
 *    runtime's own two timestamps: worldStop at STTWS entry, `now` in RAX after the CALL returns;
 *  - Go 1.21 passes no worldStop: the reason is stopTheWorldWithSema's AL, and a GC pause starts
 *    at runtime.work.pauseStart;
 *  - Go 1.19-1.20 pass no reason to stopTheWorldWithSema: stopTheWorld(reason string) stores it
 *    in m.preemptoff, gcStart and gcMarkDone stop the world themselves (proc.go:1086,
 *    mgc.go:661/:850 in 1.19). Each of those runs on the goroutine whose M then switches to g0
 *    (systemstack) for stopTheWorldWithSema, so the reason is noted per goid at their entry and
 *    found again at STWWS through g0.m.curg. Their pause boundaries are those of 1.21;
 *  - the world is stopped serially under worldsema, so one slot per process pairs start and end;
 *  - gcMarkTermination runs once per completed cycle (gcStart may return early, and mark
 *    termination may restart the world and retry), matching MemStats.NumGC.
 */
#include "gort.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct stw_slot {
	__u64 start_ns;
	__u32 reason;
	__u32 pending;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GORT_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct stw_slot);
} stw_slots SEC(".maps") __weak;

#define STW_REASON_GC_MARK_TERM 1
#define STW_REASON_GC_SWEEP_TERM 2

/* Go 1.19-1.20: the stop reason of the goroutine about to stop the world (key: tgid, goid).
 * LRU because gcStart may return without stopping the world, leaving an entry behind. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct gort_goid_key);
	__type(value, __u32);
} stw_pending_reason SEC(".maps") __weak;

static __always_inline __u64 g__goid(const struct gort_proc_config *cfg, __u64 g)
{
	return g ? user__read_u64(g + cfg->off.g_goid) : 0;
}

static __always_inline void stw_reason__note(struct pt_regs *ctx, __u32 reason)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct gort_proc_config *cfg = bpf_map_lookup_elem(&procs, &tgid);
	if (!cfg || cfg->phase == GORT_PHASE_ATTACHING || cfg->stw_abi != GORT_STW_ABI_GOROUTINE_REASON)
		return;
	struct gort_goid_key key = {.tgid = tgid, .goid = g__goid(cfg, ctx->r14)};
	bpf_map_update_elem(&stw_pending_reason, &key, &reason, BPF_ANY);
}

/* gort_stw_reason__hash of a Go string {ptr, len}: FNV-1a over its first bytes, then its length
 * (user/gobinary/runtime_layout.cpp computes the same over the texts it finds in the binary). */
static __always_inline __u32 go_string__reason_hash(__u64 ptr, __u64 len)
{
	/* twice the bytes hashed, so the masked length the verifier sees always fits */
	char buf[GORT_STW_REASON_HASH_BYTES * 2] = {};
	__u32 n = len < GORT_STW_REASON_HASH_BYTES ? len : GORT_STW_REASON_HASH_BYTES;
	if (n)
		bpf_probe_read_user(buf, n & (GORT_STW_REASON_HASH_BYTES * 2 - 1), (const void *)ptr);
	__u32 h = GORT_FNV32_OFFSET;
	for (int i = 0; i < GORT_STW_REASON_HASH_BYTES; i++) {
		if (i >= n)
			break;
		h = (h ^ (__u8)buf[i]) * GORT_FNV32_PRIME;
	}
	h = (h ^ (__u32)len) * GORT_FNV32_PRIME;
	return GORT_STW_REASON_HASHED | (h & ~GORT_STW_REASON_HASHED);
}

/* Go 1.19-1.20 runtime.stopTheWorld(reason string) entry: RAX = ptr, RBX = len, R14 = caller. */
SEC("uprobe")
int BPF_UPROBE(stw_reason_named)
{
	stw_reason__note(ctx, go_string__reason_hash(ctx->ax, ctx->bx));
	return 0;
}

/* Go 1.19-1.20 runtime.gcStart entry: its stop is sweep termination (m.preemptoff ""). */
SEC("uprobe")
int BPF_UPROBE(stw_reason_sweep)
{
	stw_reason__note(ctx, STW_REASON_GC_SWEEP_TERM);
	return 0;
}

/* Go 1.19-1.20 runtime.gcMarkDone entry: its stop is mark termination (m.preemptoff "gcing"). */
SEC("uprobe")
int BPF_UPROBE(stw_reason_mark)
{
	stw_reason__note(ctx, STW_REASON_GC_MARK_TERM);
	return 0;
}

static __always_inline struct stw_slot *stw_slot__get(__u32 tgid)
{
	struct stw_slot *slot = bpf_map_lookup_elem(&stw_slots, &tgid);
	if (slot)
		return slot;
	struct stw_slot zero = {};
	bpf_map_update_elem(&stw_slots, &tgid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&stw_slots, &tgid);
}

/* The current process's config and STW slot; NULL unless it is traced and its probes started. */
static __always_inline struct stw_slot *stw_slot__current(__u32 *tgid, struct gort_proc_config **cfg)
{
	*tgid = bpf_get_current_pid_tgid() >> 32;
	*cfg = bpf_map_lookup_elem(&procs, tgid);
	if (!*cfg || (*cfg)->phase == GORT_PHASE_ATTACHING)
		return NULL;
	return stw_slot__get(*tgid);
}

/* stopTheWorldWithSema entry. Go 1.21: (reason stwReason) in AL. Go 1.19-1.20: no argument;
 * R14 is g0 (systemstack), whose m.curg noted its reason on the way here. */
SEC("uprobe")
int BPF_UPROBE(world_stopping)
{
	__u32 tgid;
	struct gort_proc_config *cfg;
	struct stw_slot *slot = stw_slot__current(&tgid, &cfg);
	if (!slot)
		return 0;
	if (cfg->stw_abi == GORT_STW_ABI_GOROUTINE_REASON) {
		__u64 m = ctx->r14 ? user__read_u64(ctx->r14 + cfg->off.g_m) : 0;
		__u64 curg = m ? user__read_u64(m + cfg->off.m_curg) : 0;
		struct gort_goid_key key = {.tgid = tgid, .goid = g__goid(cfg, curg)};
		__u32 *reason = bpf_map_lookup_elem(&stw_pending_reason, &key);
		slot->reason = reason ? *reason : 0; /* 0: stwUnknown's "unknown" */
		if (reason)
			bpf_map_delete_elem(&stw_pending_reason, &key);
	} else {
		slot->reason = ctx->ax & 0xff;
	}
	slot->start_ns = bpf_ktime_get_ns();
	return 0;
}

/* startTheWorldWithSema entry: the pause's reason and start. */
SEC("uprobe")
int BPF_UPROBE(world_starting)
{
	__u32 tgid;
	struct gort_proc_config *cfg;
	struct stw_slot *slot = stw_slot__current(&tgid, &cfg);
	if (!slot)
		return 0;
	switch (cfg->stw_abi) {
	case GORT_STW_ABI_REASON_AT_STOP:
	case GORT_STW_ABI_GOROUTINE_REASON:
		if ((slot->reason == STW_REASON_GC_MARK_TERM || slot->reason == STW_REASON_GC_SWEEP_TERM) &&
		    cfg->work_pause_start_addr)
			slot->start_ns = user__read_u64(cfg->work_pause_start_addr);
		break;
	case GORT_STW_ABI_WORLDSTOP_START:
	case GORT_STW_ABI_WORLDSTOP_STOPPING:
		/* (now int64, w worldStop): RAX, then w.reason in BL and w.start(edStopping) in RCX */
		slot->reason = ctx->bx & 0xff;
		slot->start_ns = ctx->cx;
		break;
	default:
		return 0;
	}
	slot->pending = 1;
	return 0;
}

/* Go 1.19-1.21's mark termination ends its pause at gcMarkTermination's own `now`, stored in
 * memstats.last_gc_nanotime before the world restarts (1.19 mgc.go:1000-1004). A restart from
 * gcMarkDone (more work found) leaves it at the previous cycle's value, older than this pause's
 * start. */
static __always_inline __u64 stw_end__go121(const struct gort_proc_config *cfg, const struct stw_slot *slot, __u64 now)
{
	if ((cfg->stw_abi != GORT_STW_ABI_REASON_AT_STOP && cfg->stw_abi != GORT_STW_ABI_GOROUTINE_REASON) ||
	    slot->reason != STW_REASON_GC_MARK_TERM || !cfg->last_gc_nanotime_addr)
		return now;
	__u64 t = user__read_u64(cfg->last_gc_nanotime_addr);
	return (t > slot->start_ns && t <= now) ? t : now;
}

/* The instruction after each `CALL runtime.startTheWorldWithSema`: RAX = the returned now. */
SEC("uprobe")
int BPF_UPROBE(world_started)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct gort_proc_config *cfg = bpf_map_lookup_elem(&procs, &tgid);
	struct gort_proc_stats *st = bpf_map_lookup_elem(&proc_stats, &tgid);
	struct stw_slot *slot = bpf_map_lookup_elem(&stw_slots, &tgid);
	if (!cfg || !st || !slot || !slot->pending)
		return 0;
	slot->pending = 0;
	__sync_fetch_and_add(&st->stw_pauses, 1);

	struct gort_stw_event *ev = event__reserve(st, sizeof(*ev), GORT_EV_STW, tgid);
	if (!ev)
		return 0;
	ev->start_ns = slot->start_ns;
	ev->end_ns = stw_end__go121(cfg, slot, ctx->ax);
	ev->reason = slot->reason;
	ev->_pad = 0;
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

/* runtime.gcMarkTermination entry: one completed GC cycle. */
SEC("uprobe")
int BPF_UPROBE(gc_cycle_done)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct gort_proc_config *cfg = bpf_map_lookup_elem(&procs, &tgid);
	struct gort_proc_stats *st = bpf_map_lookup_elem(&proc_stats, &tgid);
	if (!cfg || !st || cfg->phase == GORT_PHASE_ATTACHING)
		return 0;
	__sync_fetch_and_add(&st->gc_cycles, 1);
	struct gort_gc_event *ev = event__reserve(st, sizeof(*ev), GORT_EV_GC_CYCLE, tgid);
	if (ev)
		bpf_ringbuf_submit(ev, 0);
	return 0;
}
