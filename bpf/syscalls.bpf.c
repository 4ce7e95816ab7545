/* Slow syscalls of traced processes, split into goroutine syscalls and the runtime's own waits,
 * seen from the scheduler so that processes gort does not trace pay nothing per syscall.
 *
 * Why not sys_enter/sys_exit: attaching anything to those tracepoints sets
 * SYSCALL_WORK_SYSCALL_TRACEPOINT on every task of the machine, so every syscall of every process
 * takes the slow entry/exit path and runs the program (kernel/trace/trace_syscalls.c). Measured
 * here with `dd bs=1` (2 syscalls per byte) on a quiet moment of this VM: an EMPTY program on both
 * costs dd +50 % CPU, gort's previous filtering one +60-80 % (+13-18 % under the VM's usual load,
 * scripts/bench-syscall-tax.sh); filtering inside the program cannot help. Perf tracepoint events opened
 * per traced thread do not help either: a BPF program on a perf tracepoint runs whenever the
 * tracepoint fires, whatever task the perf event was opened for (perf_trace_run_bpf_submit runs
 * the prog array before looking at the event list), and the slow syscall path stays on for all.
 *
 * What this does instead: a syscall slower than the threshold blocks its thread, and a blocked
 * thread leaves the CPU through sched_switch, which fires per context switch (rare next to
 * syscalls: `dd bs=1` makes millions of syscalls and a handful of switches). So:
 *  - switch-out of a traced thread blocked INSIDE a syscall handler: note the time, the thread's
 *    CPU time so far, the syscall and, while its memory is still the current one, its g (kind,
 *    goid, creation site);
 *  - switch-in of that thread: the off-CPU stretch is the slow part of the syscall; if it reaches
 *    the threshold it is counted (per process/syscall/kind, and an event).
 *  - The switch-in is not always seen: about one 30 ms nanosleep in 1 500 here under load (30
 *    sleepers per run, tests/workloads/groundtruth -sleepers 30) left its entry in place until
 *    the thread's next switch-out, with task storage as with this hash; counting at sched_wakeup
 *    instead missed too (cause not found; the program shows no recursion misses). So an entry
 *    found at a thread's switch-out is a stretch whose end was not seen: the thread has run
 *    without a break since (any switch-out would have found the entry), so the stretch lasted
 *    (now - noted) - (CPU time since: task_struct.se.sum_exec_runtime, brought up to date by
 *    update_curr before the tracepoint), and is counted then. Measured: 300 runs of 30 sleepers,
 *    none missed (one counted this way).
 * What it measures: the time the thread was off the CPU inside the syscall (waiting and then
 * waiting for a CPU), i.e. the syscall's duration minus the few microseconds it ran in the
 * kernel before blocking and after waking. A syscall that reaches the threshold by running on the
 * CPU without ever leaving it, or by several separate short waits, is not counted.
 *
 * Facts relied on (x86-64, arch/x86/entry/entry_64.S and common.c; docs/go-runtime.md §4):
 *  - entering by SYSCALL saves orig_ax = nr, ax = -ENOSYS, cx = ip and r11 = flags in the user
 *    pt_regs; do_syscall_x64 overwrites ax with the return value when the handler returns. So
 *    "orig_ax >= 0 && ax == -ENOSYS && cx == ip && r11 == flags" means: inside a syscall handler,
 *    not in an exception (a page fault's orig_ax is its error code) and not already returning;
 *  - sched_switch runs in the outgoing task's context (current == prev), so its user memory is
 *    the current one: the g can be read then, not at switch-in;
 *  - the thread's current g is *(fs_base + tls_g_offset); on g0 (g == g.m.g0) the runtime is
 *    waiting for itself (futex sleeps, netpoll, sysmon's usleep): not a goroutine syscall.
 * Threads come and go: a thread has an entry only while it is off the CPU inside a syscall (the
 * entry is deleted when it is back on a CPU, or at its next switch-out if that was missed), keyed
 * by (tgid, tid). A thread cannot end, nor its tid be reused, without first running again, so an
 * entry never outlives its thread; user space deletes a process's entries when it detaches. Why
 * not task local storage: creating an element from sched_switch is refused whenever another
 * task-storage operation is in progress on that CPU (bpf_task_storage_busy,
 * kernel/bpf/bpf_task_storage.c) and allocates from a per-CPU cache that a burst of new threads
 * can empty. A preallocated hash only fails when full, and that is counted as lost.
 */
#include "gort.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set before load: syscalls shorter than this are not counted. */
const volatile __u64 slow_syscall_ns = 1000000;

#define NR_exit 60
#define NR_exit_group 231
#define ENOSYS 38

/* A traced thread off the CPU inside a syscall. */
struct syscall_block {
	__u64 off_cpu_ns;
	__u64 exec_ns;  /* the thread's se.sum_exec_runtime then */
	__u64 goid;
	__u64 startpc;
	__u64 gopc;
	__u32 nr;
	__u32 kind;
};

/* Threads of traced processes blocked in a syscall at once, over all of them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, struct gort_thread_key);
	__type(value, struct syscall_block);
} syscall_blocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct gort_syscall_key);
	__type(value, struct gort_syscall_stats);
} syscall_stats SEC(".maps") __weak;

/* Counts an off-CPU stretch of `duration` of thread tid inside syscall b, if it was slow. */
static __always_inline void syscall__count(const struct syscall_block *b, __u32 tgid, __u32 tid, __u64 duration)
{
	if (duration < slow_syscall_ns)
		return;
	/* Detached meanwhile: its entries are gone and it is no longer counted. */
	struct gort_proc_config *cfg = bpf_map_lookup_elem(&procs, &tgid);
	struct gort_proc_stats *st = bpf_map_lookup_elem(&proc_stats, &tgid);
	if (!cfg || !st)
		return;

	struct gort_syscall_key key = {.tgid = tgid, .nr = b->nr, .kind = b->kind};
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

	if (b->kind == GORT_SYSCALL_RUNTIME) {
		__sync_fetch_and_add(&st->runtime_waits, 1);
		return;
	}
	__sync_fetch_and_add(&st->slow_syscalls, 1);
	struct gort_syscall_event *ev = event__reserve(st, sizeof(*ev), GORT_EV_SLOW_SYSCALL, tgid);
	if (!ev)
		return;
	ev->duration_ns = duration;
	ev->goid = b->goid;
	ev->startpc = b->startpc;
	ev->gopc = b->gopc;
	ev->tid = tid;
	ev->nr = b->nr;
	ev->kind = b->kind;
	ev->_pad = 0;
	bpf_ringbuf_submit(ev, 0);
}

/* Takes the thread's entry out of the map into *out; false if it had none. */
static __always_inline bool syscall_block__take(const struct gort_thread_key *key, struct syscall_block *out)
{
	struct syscall_block *found = bpf_map_lookup_elem(&syscall_blocks, key);
	if (!found)
		return false;
	/* Copied out before the delete: the element is reused once deleted. */
	*out = *found;
	bpf_map_delete_elem(&syscall_blocks, key);
	return true;
}

/* prev (== current) leaves the CPU: remember it if it is blocked inside a syscall handler (and
 * count the stretch a missed switch-in left behind). */
static __always_inline void syscall__blocked(struct task_struct *prev)
{
	__u32 tgid = prev->tgid;
	struct gort_proc_config *cfg = bpf_map_lookup_elem(&procs, &tgid);
	if (!cfg || cfg->phase == GORT_PHASE_ATTACHING)
		return;
	struct gort_thread_key key = {.tgid = tgid, .tid = prev->pid};
	struct syscall_block stale;
	__u64 now = bpf_ktime_get_ns(), exec_ns = BPF_CORE_READ(prev, se.sum_exec_runtime);
	if (syscall_block__take(&key, &stale)) {
		/* Its switch-in was not seen (see the top of this file). */
		__u64 ran = exec_ns - stale.exec_ns, since = now - stale.off_cpu_ns;
		if (since > ran)
			syscall__count(&stale, tgid, key.tid, since - ran);
	}
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(prev);
	if (!regs)
		return;
	long nr = (long)regs->orig_ax;
	if (nr < 0 || nr == NR_exit || nr == NR_exit_group || (long)regs->ax != -ENOSYS ||
	    regs->cx != regs->ip || regs->r11 != regs->flags)
		return;
	struct syscall_block blk = {};
	struct syscall_block *b = &blk;
	__u64 fsbase = BPF_CORE_READ(prev, thread.fsbase);
	__u64 g = user__read_u64(fsbase + cfg->tls_g_offset);
	__u64 m = g ? user__read_u64(g + cfg->off.g_m) : 0;
	__u64 g0 = m ? user__read_u64(m + cfg->off.m_g0) : 0;
	b->kind = (!g || g == g0) ? GORT_SYSCALL_RUNTIME : GORT_SYSCALL_GOROUTINE;
	if (b->kind == GORT_SYSCALL_GOROUTINE) {
		b->goid = user__read_u64(g + cfg->off.g_goid);
		b->startpc = user__read_u64(g + cfg->off.g_startpc);
		b->gopc = user__read_u64(g + cfg->off.g_gopc);
	}
	b->nr = (__u32)nr;
	b->off_cpu_ns = now;
	b->exec_ns = exec_ns;
	if (bpf_map_update_elem(&syscall_blocks, &key, b, BPF_ANY))
		proc_stats__lost(bpf_map_lookup_elem(&proc_stats, &tgid));
}

/* A thread noted by syscall__blocked is back on a CPU: count the stretch if it was slow. */
static __always_inline void syscall__resumed(struct task_struct *next)
{
	struct gort_thread_key key = {.tgid = next->tgid, .tid = next->pid};
	struct syscall_block b;
	if (syscall_block__take(&key, &b))
		syscall__count(&b, key.tgid, key.tid, bpf_ktime_get_ns() - b.off_cpu_ns);
}

/* Runs on every context switch of the machine: for untraced tasks it costs one lookup in
 * syscall_blocks (absent) and one in procs. */
SEC("tp_btf/sched_switch")
int BPF_PROG(syscall_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	syscall__resumed(next);
	syscall__blocked(prev);
	return 0;
}
