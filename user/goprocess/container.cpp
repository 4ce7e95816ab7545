#include "user/goprocess/container.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <cerrno>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace gort::goprocess {

namespace {

// A pod's environment is a few KiB; a process can make its own as large as ARG_MAX allows.
constexpr size_t kMaxEnviron = 256 * 1024;
constexpr size_t kMaxCgroupFile = 64 * 1024;
constexpr size_t kMaxName = 253;  // Kubernetes names are DNS subdomains

bool is_hex(std::string_view s)
{
	return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) { return s.size() >= p.size() && s.substr(s.size() - p.size()) == p; }

// "<64 hex>", or "<runtime>-<64 hex>.scope" as the systemd cgroup driver names containers.
std::string container_id_of(std::string_view component)
{
	if (ends_with(component, ".scope")) {
		component.remove_suffix(6);
		size_t dash = component.rfind('-');
		if (dash == std::string_view::npos)
			return {};
		component = component.substr(dash + 1);
	}
	if (component.size() == 64 && is_hex(component))
		return std::string(component);
	return {};
}

// "pod<uid>" (cgroupfs) or "kubepods-<qos>-pod<uid with _>.slice" (systemd).
std::string pod_uid_of(std::string_view component)
{
	if (ends_with(component, ".slice")) {
		component.remove_suffix(6);
		size_t at = component.rfind("-pod");
		if (!starts_with(component, "kubepods") || at == std::string_view::npos)
			return {};
		component = component.substr(at + 1);
	}
	if (!starts_with(component, "pod"))
		return {};
	std::string uid(component.substr(3));
	std::replace(uid.begin(), uid.end(), '_', '-');
	if (uid.size() != 36)
		return {};
	for (size_t i = 0; i < uid.size(); i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? uid[i] != '-' : !is_hex(std::string_view(&uid[i], 1)))
			return {};
	}
	return uid;
}

ContainerInfo from_path(std::string_view path)
{
	ContainerInfo info;
	std::vector<std::string_view> parts;
	for (size_t pos = 0; pos <= path.size();) {
		size_t slash = path.find('/', pos);
		if (slash == std::string_view::npos)
			slash = path.size();
		if (slash > pos)
			parts.push_back(path.substr(pos, slash - pos));
		pos = slash + 1;
	}
	bool kube = !parts.empty() && starts_with(parts[0], "kubepods");
	for (auto part : parts) {
		if (std::string id = container_id_of(part); !id.empty())
			info.container_id = id; // the deepest one
		if (kube)
			if (std::string uid = pod_uid_of(part); !uid.empty())
				info.pod_uid = uid;
	}
	return info;
}

std::string read_bounded(const std::string &path, size_t max)
{
	std::string out;
	int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return out;
	char buf[8192];
	while (out.size() < max) {
		ssize_t n = read(fd, buf, std::min(sizeof buf, max - out.size()));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		out.append(buf, static_cast<size_t>(n));
	}
	close(fd);
	return out;
}

} // namespace

ContainerInfo container__from_cgroup(std::string_view text)
{
	// The unified (v2) line "0::/path" first; otherwise the first v1 line that names a container.
	ContainerInfo best;
	bool from_v2 = false;
	for (size_t pos = 0; pos < text.size();) {
		size_t nl = text.find('\n', pos);
		std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
		pos = nl == std::string_view::npos ? text.size() : nl + 1;
		size_t c1 = line.find(':');
		size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
		if (c2 == std::string_view::npos)
			continue;
		bool v2 = line.substr(0, c1) == "0" && c2 == c1 + 1;
		ContainerInfo info = from_path(line.substr(c2 + 1));
		if (info.container_id.empty() && info.pod_uid.empty())
			continue;
		if (v2 && !from_v2) {
			best = info;
			from_v2 = true;
		} else if (!from_v2 && best.container_id.empty() && best.pod_uid.empty()) {
			best = info;
		}
	}
	return best;
}

void container__add_environ(ContainerInfo &info, std::string_view env)
{
	if (info.pod_uid.empty())
		return;
	std::string_view pod_name, hostname, ns;
	for (size_t pos = 0; pos < env.size();) {
		size_t nul = env.find('\0', pos);
		std::string_view entry = env.substr(pos, nul == std::string_view::npos ? std::string_view::npos : nul - pos);
		pos = nul == std::string_view::npos ? env.size() : nul + 1;
		auto value = [&](std::string_view key) -> std::optional<std::string_view> {
			if (starts_with(entry, key) && entry.size() > key.size() && entry[key.size()] == '=')
				return entry.substr(key.size() + 1);
			return std::nullopt;
		};
		// The first definition is the one getenv returns.
		if (auto v = value("POD_NAME"); v && pod_name.empty())
			pod_name = *v;
		else if (auto v = value("HOSTNAME"); v && hostname.empty())
			hostname = *v;
		else if (auto v = value("POD_NAMESPACE"); v && ns.empty())
			ns = *v;
	}
	std::string_view name = !pod_name.empty() ? pod_name : hostname;
	if (name.size() <= kMaxName)
		info.pod_name = std::string(name);
	if (ns.size() <= kMaxName)
		info.pod_namespace = std::string(ns);
}

ContainerInfo container__of(pid_t pid)
{
	ContainerInfo info = container__from_cgroup(read_bounded(fmt::format("/proc/{}/cgroup", pid), kMaxCgroupFile));
	if (!info.pod_uid.empty())
		container__add_environ(info, read_bounded(fmt::format("/proc/{}/environ", pid), kMaxEnviron));
	return info;
}

} // namespace gort::goprocess
