/* New processes, for system-wide mode: every successful execve is reported so user space can
 * inspect the new binary and, if it is a Go program, attach within milliseconds — before the Go
 * runtime has started its first goroutines in most cases.
 *
 * sched_process_exec fires after the new image is mapped and the old one released (fs/exec.c
 * exec_binprm), in the context of the exec'ing task: /proc/PID/exe already names the new binary.
 */
#include "gort.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set before load: `--all` sessions follow every exec; others only those of a traced process
 * (`-p`: the program under the PID was replaced, so its figures end there). */
const volatile bool follow_exec = false;

/* Exec records the ring buffer had no room for: user space rescans /proc when this moves. */
__u64 exec_lost = 0;

SEC("raw_tp/sched_process_exec")
int BPF_PROG(process_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (!follow_exec && !bpf_map_lookup_elem(&procs, &tgid))
		return 0;
	struct gort_exec_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		__sync_fetch_and_add(&exec_lost, 1);
		return 0;
	}
	ev->hdr.kind = GORT_EV_EXEC;
	ev->hdr.tgid = tgid;
	ev->hdr.ktime_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	bpf_ringbuf_submit(ev, 0);
	return 0;
}
