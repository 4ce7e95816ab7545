// Where a process runs in a fleet: its container and, under Kubernetes, its pod, read from the
// process's cgroup path and its own environment (no Kubernetes API client). Everything here comes
// from files the traced process (or whoever created its cgroup) controls: the parsers accept only
// the exact shapes below and leave a field empty otherwise.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace gort::goprocess {

struct ContainerInfo {
	std::string container_id;  // 64 hex digits (containerd, CRI-O, Docker, Podman)
	std::string pod_uid;       // 8-4-4-4-12 hex, dashes (systemd's slice names use underscores)
	std::string pod_name;      // POD_NAME (downward API), else HOSTNAME (the pod's name by default)
	std::string pod_namespace; // POD_NAMESPACE (downward API)
};

// From /proc/PID/cgroup text (cgroup v1 and v2 lines). Recognised paths, e.g.:
//   systemd driver: /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope
//   cgroupfs driver: /kubepods/burstable/pod<uid>/<id>
//   plain Docker/Podman: /system.slice/docker-<id>.scope, /docker/<id>, /machine.slice/libpod-<id>.scope
ContainerInfo container__from_cgroup(std::string_view proc_pid_cgroup);

// Adds the pod name and namespace from /proc/PID/environ text (NUL-separated), only for a
// process in a pod (pod_uid known): a host process's HOSTNAME names no pod.
void container__add_environ(ContainerInfo &info, std::string_view proc_pid_environ);

// Both, read from /proc/PID (bounded reads; unreadable files leave fields empty).
ContainerInfo container__of(pid_t pid);

} // namespace gort::goprocess
