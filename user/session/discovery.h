// Finding Go processes: the one way `gort ps`, `--all` (now and at every exec) and `-p` look at a
// process — recognised by its binary's Go build info (never by name), each binary inspected once
// per file identity however many processes run it, the reason said when gort cannot trace it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "user/common/error.h"
#include "user/gobinary/go_binary.h"
#include "user/gobinary/runtime_layout.h"
#include "user/goprocess/process.h"
#include "user/session/sources.h"

namespace gort::session {

// A binary inspected once per file identity, however many processes run it.
struct InspectedBinary {
	std::shared_ptr<const gobinary::GoBinary> binary;  // null: not a Go program
	gobinary::RuntimeLayout layout;
	std::string refusal;  // why it cannot be traced; empty if it can
	ExitCode refusal_code = ExitCode::ok;
	std::shared_ptr<SiteNameCache> names = std::make_shared<SiteNameCache>();
	// --all: the tracer keeps the binary's shared links while this is held, so they linger
	// exactly as long as the inspection does (kBinaryLinger).
	mutable std::shared_ptr<const void> links;
};

// A Go process found on the machine and what its binary is.
struct FoundProcess {
	goprocess::ProcessInfo info;
	std::shared_ptr<const InspectedBinary> inspected;  // binary never null here
};

class Discovery {
public:
	// The process's binary, inspected once per file identity. Throws UserError: no_process (it
	// ended), permission (its binary is not readable), unsupported (a kernel thread).
	std::shared_ptr<const InspectedBinary> inspect(const goprocess::ProcessInfo &info);
	// One process: nullopt when it is a kernel thread, not `wanted` (looked at before any binary
	// is read) or not a Go program. Throws as inspect().
	std::optional<FoundProcess> examine(pid_t pid,
					    const std::function<bool(const goprocess::ProcessInfo &)> &wanted = {});
	// Forgets binaries no process uses any more (each holds its file open), after a linger.
	void expire();

private:
	struct FileId {
		dev_t dev;
		ino_t ino;
		int64_t size, mtime_ns;
		auto operator<=>(const FileId &) const = default;
	};
	struct CachedBinary {
		std::shared_ptr<const InspectedBinary> inspected;
		std::chrono::steady_clock::time_point last_used;
	};
	// Binaries no traced process runs any more are forgotten after this long (each holds its
	// file open), and with them their uprobes (--all: removing one waits for a grace period, tens
	// of ms per link here): a restarting service, or a loop of short runs of one program, reuses
	// both meanwhile instead of paying for inspection, attach and teardown every time.
	static constexpr std::chrono::seconds kBinaryLinger{5};
	std::map<FileId, CachedBinary> binaries_;
};

// What `gort ps` shows of a Go process: how it was built, whether gort can trace it, and where
// each probe would go.
struct GoProcessReport {
	goprocess::ProcessInfo info;
	std::string go_version;
	std::vector<std::string> build;  // pie, cgo, static, stripped, no-dwarf, pgo
	bool traceable = false;
	std::string why_not;
	std::vector<gobinary::ProbeAttachment> probes;
	std::vector<std::string> probe_at;  // "runtime.goexit1+0x6", per probe
	std::vector<gobinary::OffsetOrigin> offsets;  // each offset traced with, and its source
};

// Every Go process on the machine now, gort itself aside, through Discovery::examine. `hidden`:
// processes whose binary this user may not read (another user's, without root).
std::vector<GoProcessReport> go_processes__report(size_t &hidden);

} // namespace gort::session
