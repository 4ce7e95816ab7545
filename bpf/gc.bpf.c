/* GC cycles as the runtime's own gctrace=1 line sees them.
 *
 * Runtime facts relied on (runtime/mgc.go gcMarkTermination, Go 1.19-1.27):
 *  - every figure the gctrace line prints (work.tSweepTerm..tEnd, heap0..2, stwprocs, maxprocs,
 *    userForced, gcController's mark times, lastHeapGoal, lastStackScan, globalsScan,
 *    memstats.numgc and gc_cpu_fraction) is final before gcMarkTermination restarts the world,
 *    and stays so until the next gcStart: that needs worldsema, which gcMarkTermination holds
 *    until after its own print;
 *  - gcMarkTermination (or its systemstack closure) calls startTheWorldWithSema exactly once
 *    per completed cycle; the restart of gcMarkDone ("more work found") is in another function.
 * So this program runs on the instruction after that one CALL (user/gobinary/runtime_layout.cpp)
 * and copies the fields into one record: exact however quickly cycles follow each other, where
 * a later read of /proc/PID/mem from user space could see the next cycle's values. It runs after
 * the world restarted, so its cost is not added to the pause.
 */
#include "gort.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GORT_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct gort_gc_layout);
} gc_layouts SEC(".maps") __weak;

SEC("uprobe")
int BPF_UPROBE(gc_cycle_read)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct gort_proc_config *cfg = bpf_map_lookup_elem(&procs, &tgid);
	struct gort_proc_stats *st = bpf_map_lookup_elem(&proc_stats, &tgid);
	struct gort_gc_layout *lay = bpf_map_lookup_elem(&gc_layouts, &tgid);
	if (!cfg || !st || !lay || cfg->phase == GORT_PHASE_ATTACHING)
		return 0;
	struct gort_gc_trace_event *ev = event__reserve(st, sizeof(*ev), GORT_EV_GC_TRACE, tgid);
	if (!ev)
		return 0;
	for (int i = 0; i < GORT_GC_NR_FIELDS; i++) {
		__u64 v = lay->addr[i] ? user__read_u64(lay->addr[i]) : 0;
		switch (lay->size[i]) {
		case 1:
			v &= 0xff;
			break;
		case 4:
			v &= 0xffffffffull;
			break;
		default:
			break;
		}
		ev->v[i] = v;
	}
	bpf_ringbuf_submit(ev, 0);
	return 0;
}
