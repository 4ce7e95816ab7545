/* Goroutine creation and exit, counted per creation site in BPF.
 *
 * Runtime facts relied on (docs/go-runtime.md §2, §3, §5):
 *  - every `go` statement runs runtime.newproc.func1 on g0, which calls newproc1 and then
 *    runqput(pp, newg, true): at that CALL, RBX holds the new g with goid, startpc and gopc set;
 *  - every goroutine ends in runtime.goexit1 (from goexit or runtime.Goexit), where R14 is the
 *    exiting g (ABIInternal keeps the current g in R14);
 *  - g.startpc / g.gopc identify the creation site for the whole life of the goroutine.
 */
#include "gort.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct gort_site_key);
	__type(value, struct gort_site_stats);
} sites SEC(".maps") __weak;

/* Only in GORT_PHASE_BASELINE (the moments between attach and the user-space read of
 * runtime.allgs): the g of every goroutine created since attach (by address: see gort_g_key),
 * and goroutines older than attach that exited, by goid, with their site. Together with allgs
 * they give the exact goroutines alive at attach. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct gort_g_key);
	__type(value, __u64); /* its goid */
} attach_created SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct gort_goid_key);
	__type(value, struct gort_site_key);
} attach_exited SEC(".maps") __weak;

/* Only in GORT_PHASE_ATTACHING: goroutines that passed goexit1 before the probes started. The
 * runtime marks their g dead microseconds later (gdestroy), so allgs read just after the start
 * may still show one running: it did not exist at attach, and its exit will never be counted. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct gort_goid_key);
	__type(value, __u8);
} exited_before_attach SEC(".maps") __weak;

struct goroutine {
	__u64 goid, startpc, gopc;
};

static __always_inline void goroutine__read(const struct gort_proc_config *cfg, __u64 g, struct goroutine *out)
{
	out->goid = user__read_u64(g + cfg->off.g_goid);
	out->startpc = user__read_u64(g + cfg->off.g_startpc);
	out->gopc = user__read_u64(g + cfg->off.g_gopc);
}

/* runtime.isSystemGoroutine: started at a "runtime.*" function other than runtime.main. */
static __always_inline bool goroutine__is_system(const struct gort_proc_config *cfg, __u64 startpc)
{
	for (int i = 0; i < GORT_MAX_SYS_RANGES; i++) {
		if (i >= cfg->nr_sys_ranges)
			break;
		if (startpc >= cfg->sys_ranges[i].lo && startpc < cfg->sys_ranges[i].hi)
			return true;
	}
	return false;
}

static __always_inline struct gort_site_stats *site__get(struct gort_proc_stats *st, const struct gort_site_key *key)
{
	struct gort_site_stats *s = bpf_map_lookup_elem(&sites, key);
	if (s)
		return s;
	struct gort_site_stats zero = {};
	bpf_map_update_elem(&sites, key, &zero, BPF_NOEXIST);
	s = bpf_map_lookup_elem(&sites, key);
	if (!s)
		proc_stats__lost(st); /* sites map full */
	return s;
}

static __always_inline void lifecycle__emit(struct gort_proc_stats *st, __u32 kind, __u32 tgid, const struct goroutine *gr)
{
	struct gort_goroutine_event *ev = event__reserve(st, sizeof(*ev), kind, tgid);
	if (!ev)
		return;
	ev->goid = gr->goid;
	ev->startpc = gr->startpc;
	ev->gopc = gr->gopc;
	bpf_ringbuf_submit(ev, 0);
}

static __always_inline int goroutine__created(struct pt_regs *ctx, __u64 newg)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct gort_proc_config *cfg = bpf_map_lookup_elem(&procs, &tgid);
	struct gort_proc_stats *st = bpf_map_lookup_elem(&proc_stats, &tgid);
	if (!cfg || !st || cfg->phase == GORT_PHASE_ATTACHING || cfg->phase == GORT_PHASE_PAUSED ||
	    bpf_get_attach_cookie(ctx) != cfg->goroutine_generation)
		return 0;

	struct goroutine gr;
	goroutine__read(cfg, newg, &gr);
	struct gort_site_key key = {.tgid = tgid, .startpc = gr.startpc, .gopc = gr.gopc};
	struct gort_site_stats *site = site__get(st, &key);
	if (site)
		__sync_fetch_and_add(&site->created, 1);

	if (goroutine__is_system(cfg, gr.startpc)) {
		__sync_fetch_and_add(&st->sys_created, 1);
	} else {
		__sync_fetch_and_add(&st->created, 1);
		__s64 live = __sync_add_and_fetch(&st->live_delta, 1);
		atomic__max_s64(&st->peak_delta, live);
	}

	if (cfg->phase == GORT_PHASE_BASELINE) {
		struct gort_g_key gk = {.tgid = tgid, .g = newg};
		if (bpf_map_update_elem(&attach_created, &gk, &gr.goid, BPF_ANY))
			proc_stats__lost(st);
	}
	if (cfg->record_lifecycle)
		lifecycle__emit(st, GORT_EV_GOROUTINE_CREATED, tgid, &gr);
	return 0;
}

/* At `CALL runtime.runqput` in runtime.newproc.func1: runqput(pp=RAX, gp=RBX, next=CL). */
SEC("uprobe")
int BPF_UPROBE(goroutine_created_rbx)
{
	return goroutine__created(ctx, ctx->bx);
}

/* Fallback: the instruction after `CALL runtime.newproc1`, where RAX is its result (newg). */
SEC("uprobe")
int BPF_UPROBE(goroutine_created_rax)
{
	return goroutine__created(ctx, ctx->ax);
}

/* In runtime.goexit1 after its stack check: R14 is the exiting goroutine. */
SEC("uprobe")
int BPF_UPROBE(goroutine_exited_r14)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct gort_proc_config *cfg = bpf_map_lookup_elem(&procs, &tgid);
	struct gort_proc_stats *st = bpf_map_lookup_elem(&proc_stats, &tgid);
	if (!cfg || !st || cfg->phase == GORT_PHASE_PAUSED || bpf_get_attach_cookie(ctx) != cfg->goroutine_generation)
		return 0;

	struct goroutine gr;
	goroutine__read(cfg, ctx->r14, &gr);
	if (cfg->phase == GORT_PHASE_ATTACHING) {
		struct gort_goid_key gk = {.tgid = tgid, .goid = gr.goid};
		__u8 one = 1;
		bpf_map_update_elem(&exited_before_attach, &gk, &one, BPF_ANY); /* full: a rare +1 at worst */
		return 0;
	}
	struct gort_site_key key = {.tgid = tgid, .startpc = gr.startpc, .gopc = gr.gopc};
	struct gort_site_stats *site = site__get(st, &key);
	if (site)
		__sync_fetch_and_add(&site->exited, 1);

	if (goroutine__is_system(cfg, gr.startpc)) {
		__sync_fetch_and_add(&st->sys_exited, 1);
	} else {
		__sync_fetch_and_add(&st->exited, 1);
		__sync_fetch_and_add(&st->live_delta, -1);
	}

	if (cfg->phase == GORT_PHASE_BASELINE) {
		/* Created since attach if its g's latest creation was this very goroutine. */
		struct gort_g_key created = {.tgid = tgid, .g = ctx->r14};
		__u64 *created_goid = bpf_map_lookup_elem(&attach_created, &created);
		struct gort_goid_key gk = {.tgid = tgid, .goid = gr.goid};
		if ((!created_goid || *created_goid != gr.goid) &&
		    bpf_map_update_elem(&attach_exited, &gk, &key, BPF_ANY))
			proc_stats__lost(st);
	}
	if (cfg->record_lifecycle)
		lifecycle__emit(st, GORT_EV_GOROUTINE_EXITED, tgid, &gr);
	return 0;
}
