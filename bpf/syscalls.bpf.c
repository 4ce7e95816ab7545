/* Slow syscalls of traced processes, split into goroutine syscalls and the runtime's own waits.
 *
 * Facts relied on (../shared/notes/go-runtime.md §3.2):
 *  - a syscall runs entirely on one thread, so enter/exit pair by thread id;
 *  - the thread's current g is *(fs_base + tls_g_offset) (-8 unless cgo's C code owns TLS);
 *  - on g0 (g == g.m.g0) the runtime is waiting for itself (futex sleeps, netpoll, sysmon's
 *    usleep): not a goroutine syscall. Otherwise the g is the goroutine that made the call.
 */
#include "gort.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set before load: syscalls shorter than this are not counted. */
const volatile __u64 slow_syscall_ns = 1000000;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32); /* tid */
	__type(value, struct gort_syscall_start);
} syscall_starts SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct gort_syscall_key);
	__type(value, struct gort_syscall_stats);
} syscall_stats SEC(".maps") __weak;

#define NR_exit 60
#define NR_exit_group 231

/* Raw tracepoints: attached by name with bpf_raw_tracepoint_open, so no tracefs is needed. */
SEC("raw_tp/sys_enter")
int BPF_PROG(syscall_enter, struct pt_regs *regs, long id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;
	struct gort_proc_config *cfg = bpf_map_lookup_elem(&procs, &tgid);
	if (!cfg || cfg->phase == GORT_PHASE_ATTACHING)
		return 0;
	if (id == NR_exit || id == NR_exit_group)
		return 0; /* never returns */
	struct gort_syscall_start s = {.ktime_ns = bpf_ktime_get_ns(), .nr = (__u32)id, .tgid = tgid};
	bpf_map_update_elem(&syscall_starts, &tid, &s, BPF_ANY);
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(syscall_exit, struct pt_regs *regs, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;
	struct gort_syscall_start *s = bpf_map_lookup_elem(&syscall_starts, &tid);
	if (!s)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	__u64 duration = now - s->ktime_ns;
	__u32 nr = s->nr;
	bpf_map_delete_elem(&syscall_starts, &tid);
	if (duration < slow_syscall_ns)
		return 0;

	struct gort_proc_config *cfg = bpf_map_lookup_elem(&procs, &tgid);
	struct gort_proc_stats *st = bpf_map_lookup_elem(&proc_stats, &tgid);
	if (!cfg || !st)
		return 0;

	struct task_struct *task = bpf_get_current_task_btf();
	__u64 fsbase = BPF_CORE_READ(task, thread.fsbase);
	__u64 g = user__read_u64(fsbase + cfg->tls_g_offset);
	__u64 m = g ? user__read_u64(g + cfg->off.g_m) : 0;
	__u64 g0 = m ? user__read_u64(m + cfg->off.m_g0) : 0;
	__u32 kind = (!g || g == g0) ? GORT_SYSCALL_RUNTIME : GORT_SYSCALL_GOROUTINE;

	struct gort_syscall_key key = {.tgid = tgid, .nr = nr, .kind = kind};
	struct gort_syscall_stats *agg = bpf_map_lookup_elem(&syscall_stats, &key);
	if (!agg) {
		struct gort_syscall_stats zero = {};
		bpf_map_update_elem(&syscall_stats, &key, &zero, BPF_NOEXIST);
		agg = bpf_map_lookup_elem(&syscall_stats, &key);
	}
	if (agg) {
		__sync_fetch_and_add(&agg->count, 1);
		__sync_fetch_and_add(&agg->total_ns, duration);
		atomic__max_u64(&agg->max_ns, duration);
	} else {
		proc_stats__lost(st);
	}

	if (kind == GORT_SYSCALL_RUNTIME) {
		__sync_fetch_and_add(&st->runtime_waits, 1);
		return 0;
	}
	__sync_fetch_and_add(&st->slow_syscalls, 1);
	struct gort_syscall_event *ev = event__reserve(st, sizeof(*ev), GORT_EV_SLOW_SYSCALL, tgid);
	if (!ev)
		return 0;
	ev->duration_ns = duration;
	ev->goid = user__read_u64(g + cfg->off.g_goid);
	ev->startpc = user__read_u64(g + cfg->off.g_startpc);
	ev->gopc = user__read_u64(g + cfg->off.g_gopc);
	ev->tid = tid;
	ev->nr = nr;
	ev->kind = kind;
	ev->_pad = 0;
	bpf_ringbuf_submit(ev, 0);
	return 0;
}
