/* Stop-the-world pauses and GC cycles.
 *
 * Runtime facts relied on (../shared/notes/go-runtime.md §6; runtime/mgc.go of each version):
 *  - every pause ends in startTheWorldWithSema(now, w worldStop) (1.22+), which returns the
 *    `now` the runtime itself uses: GC adds `now - w.startedStopping` (1.23+; `w.start` in 1.22)
 *    to work.pauseNS, the figure MemStats.PauseTotalNs sums. So the pause is taken from the
 *    runtime's own two timestamps: worldStop at STTWS entry, `now` in RAX after the CALL returns;
 *  - Go 1.21 passes no worldStop: the reason is stopTheWorldWithSema's AL, and a GC pause starts
 *    at runtime.work.pauseStart;
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

static __always_inline struct stw_slot *stw_slot__get(__u32 tgid)
{
	struct stw_slot *slot = bpf_map_lookup_elem(&stw_slots, &tgid);
	if (slot)
		return slot;
	struct stw_slot zero = {};
	bpf_map_update_elem(&stw_slots, &tgid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&stw_slots, &tgid);
}

/* Go 1.21: stopTheWorldWithSema(reason stwReason) — AL. */
SEC("uprobe")
int BPF_UPROBE(world_stopping)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct gort_proc_config *cfg = bpf_map_lookup_elem(&procs, &tgid);
	if (!cfg || cfg->phase == GORT_PHASE_ATTACHING)
		return 0;
	struct stw_slot *slot = stw_slot__get(tgid);
	if (!slot)
		return 0;
	slot->reason = ctx->ax & 0xff;
	slot->start_ns = bpf_ktime_get_ns();
	return 0;
}

/* startTheWorldWithSema entry: the pause's reason and start. */
SEC("uprobe")
int BPF_UPROBE(world_starting)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct gort_proc_config *cfg = bpf_map_lookup_elem(&procs, &tgid);
	if (!cfg || cfg->phase == GORT_PHASE_ATTACHING)
		return 0;
	struct stw_slot *slot = stw_slot__get(tgid);
	if (!slot)
		return 0;
	switch (cfg->stw_abi) {
	case GORT_STW_ABI_REASON_AT_STOP:
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

/* Go 1.21's mark termination ends its pause at gcMarkTermination's own `now`, stored in
 * memstats.last_gc_nanotime before the world restarts. A restart from gcMarkDone (more work
 * found) leaves it at the previous cycle's value, older than this pause's start. */
static __always_inline __u64 stw_end__go121(const struct gort_proc_config *cfg, const struct stw_slot *slot, __u64 now)
{
	if (cfg->stw_abi != GORT_STW_ABI_REASON_AT_STOP || slot->reason != STW_REASON_GC_MARK_TERM ||
	    !cfg->last_gc_nanotime_addr)
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
