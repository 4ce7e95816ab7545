#include "user/session/discovery.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace gort::session {

std::shared_ptr<const InspectedBinary> Discovery::inspect(const goprocess::ProcessInfo &info)
{
	if (info.kernel_thread)
		throw UserError(ExitCode::unsupported,
				fmt::format("PID {} ({}) is a kernel thread, not a Go program", info.pid, info.comm));
	// /proc/PID/exe reaches the binary even in another mount namespace (containers) or after it
	// was deleted or replaced on disk.
	std::string exe = fmt::format("/proc/{}/exe", info.pid);
	struct stat st {};
	if (stat(exe.c_str(), &st) != 0) {
		if (!goprocess::process__alive(info.pid))
			throw goprocess::process__exited_while_attaching(info.pid);
		throw UserError(ExitCode::permission,
				fmt::format("cannot read {}: {} (run gort as root)", exe, std::strerror(errno)));
	}
	FileId id{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec * 1'000'000'000ll + st.st_mtim.tv_nsec};
	auto now = std::chrono::steady_clock::now();
	if (auto it = binaries_.find(id); it != binaries_.end()) {
		it->second.last_used = now;
		return it->second.inspected;
	}

	auto inspected = std::make_shared<InspectedBinary>();
	try {
		inspected->binary = gobinary::GoBinary::open(exe);
		inspected->layout = gobinary::runtime_layout__inspect(*inspected->binary);
	} catch (const UserError &e) {
		if (!goprocess::process__alive(info.pid))
			throw goprocess::process__exited_while_attaching(info.pid);
		inspected->refusal = e.what();
		inspected->refusal_code = e.code();
	}
	// Bounded: a long system-wide session sees many binaries come and go.
	if (binaries_.size() >= 256)
		binaries_.clear();
	binaries_[id] = {inspected, now};
	return inspected;
}

std::optional<FoundProcess> Discovery::examine(pid_t pid, const std::function<bool(const goprocess::ProcessInfo &)> &wanted)
{
	goprocess::ProcessInfo info = goprocess::process__info(pid);
	if (info.kernel_thread || (wanted && !wanted(info)))
		return std::nullopt;
	std::shared_ptr<const InspectedBinary> inspected = inspect(info);
	if (!inspected->binary) // not a Go program
		return std::nullopt;
	return FoundProcess{std::move(info), std::move(inspected)};
}

void Discovery::expire()
{
	auto now = std::chrono::steady_clock::now();
	for (auto it = binaries_.begin(); it != binaries_.end();) {
		// use_count 1: only this cache holds it (the session holds another while a traced
		// process runs it; an ended one's symbols may hold the binary longer, not its links).
		// The linger counts from the last poll that saw it in use.
		bool unused = it->second.inspected.use_count() == 1;
		if (!unused)
			it->second.last_used = now;
		if (unused && now - it->second.last_used >= kBinaryLinger)
			it = binaries_.erase(it);
		else
			++it;
	}
}

namespace {

std::vector<std::string> build_modes(const gobinary::BuildInfo &b)
{
	std::vector<std::string> m;
	if (b.pie)
		m.push_back("pie");
	if (b.cgo)
		m.push_back("cgo");
	if (b.static_link)
		m.push_back("static");
	if (b.stripped)
		m.push_back("stripped");
	else if (!b.has_dwarf)
		m.push_back("no-dwarf");
	if (b.pgo)
		m.push_back("pgo");
	return m;
}

GoProcessReport report__of(const FoundProcess &found)
{
	const gobinary::GoBinary &bin = *found.inspected->binary;
	GoProcessReport p{found.info, bin.build_info().version.raw, build_modes(bin.build_info()), true, "", {}, {}, {}};
	if (!found.inspected->refusal.empty()) {
		p.traceable = false;
		p.why_not = found.inspected->refusal;
		return p;
	}
	p.probes = found.inspected->layout.probes;
	p.offsets = found.inspected->layout.offset_origins;
	for (const auto &pr : p.probes) {
		auto f = bin.function(pr.point.function);
		p.probe_at.push_back(fmt::format("{}+{:#x}", pr.point.function, pr.point.vaddr - (f ? f->addr : pr.point.vaddr)));
	}
	return p;
}

} // namespace

std::vector<GoProcessReport> go_processes__report(size_t &hidden)
{
	Discovery discovery;
	std::vector<GoProcessReport> out;
	for (pid_t pid : goprocess::process__list_all()) {
		if (pid == getpid())
			continue;
		struct stat st {};
		if (stat(fmt::format("/proc/{}/exe", pid).c_str(), &st) != 0 && errno == EACCES) {
			hidden += geteuid() != 0;  // root is refused only where nobody could look
			continue;
		}
		try {
			if (auto found = discovery.examine(pid))
				out.push_back(report__of(*found));
		} catch (const std::exception &) {
			continue; // it ended while being looked at, or cannot be looked at
		}
	}
	return out;
}

} // namespace gort::session
