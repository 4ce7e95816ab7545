/* Maps and helpers shared by gort's BPF programs. Each concern (goroutines, stw, syscalls) is its
 * own .bpf.c; `bpftool gen object` links them into one object, merging these __weak map
 * definitions into a single map each. */
#ifndef GORT_BPF_H
#define GORT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "gort/bpf_shared.h"

/* Traced processes and how to read their runtime; written by user space before attach. A
 * process absent from this map is ignored by every program (the per-process filter). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GORT_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct gort_proc_config);
} procs SEC(".maps") __weak;

/* Created by user space together with the procs entry, so BPF only ever updates it in place. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GORT_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct gort_proc_stats);
} proc_stats SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps") __weak;

static __always_inline void proc_stats__lost(struct gort_proc_stats *st)
{
	if (st)
		__sync_fetch_and_add(&st->lost_events, 1);
}

/* Reserves a ring buffer record or counts it as lost: no fact is dropped silently. */
static __always_inline void *event__reserve(struct gort_proc_stats *st, __u64 size, __u32 kind, __u32 tgid)
{
	struct gort_event_header *hdr = bpf_ringbuf_reserve(&events, size, 0);
	if (!hdr) {
		proc_stats__lost(st);
		return NULL;
	}
	hdr->kind = kind;
	hdr->tgid = tgid;
	hdr->ktime_ns = bpf_ktime_get_ns();
	return hdr;
}

static __always_inline __u64 user__read_u64(__u64 addr)
{
	__u64 v = 0;
	bpf_probe_read_user(&v, sizeof(v), (const void *)addr);
	return v;
}

/* Lock-free running maximum (BPF_CMPXCHG, kernel >= 5.12); a bounded retry is enough because
 * only concurrent updates of the same counter make it retry. */
static __always_inline void atomic__max_u64(__u64 *slot, __u64 v)
{
	for (int i = 0; i < 8; i++) {
		__u64 old = *(volatile __u64 *)slot;
		if (v <= old || __sync_val_compare_and_swap(slot, old, v) == old)
			return;
	}
}

static __always_inline void atomic__max_s64(__s64 *slot, __s64 v)
{
	for (int i = 0; i < 8; i++) {
		__s64 old = *(volatile __s64 *)slot;
		if (v <= old || __sync_val_compare_and_swap(slot, old, v) == old)
			return;
	}
}

#endif /* GORT_BPF_H */
