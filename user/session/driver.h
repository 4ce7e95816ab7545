// The one loop every live command runs (top, demo, record, gctrace, serve): attach what was
// selected, poll the ring buffer, tick every interval, stop at the deadline, on SIGINT/SIGTERM/
// SIGHUP, when the view asks (`q`) or when every -p process has ended; then a last poll. The
// commands only say what they want done at each of these moments (DriverHooks), so the timing,
// the signals and the messages on stderr are the same for all of them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "user/common/stop_signals.h"
#include "user/session/session.h"

namespace gort::session {

// What a command plugs into the loop; every hook is optional.
class DriverHooks {
public:
	virtual ~DriverHooks() = default;
	// One line for the user on stderr ("attached", a process exited, a note). A full-screen view
	// swallows them (its screen shows the processes); a progress line clears itself first.
	virtual void say(std::string_view line);
	// A process's probes are live; its "attached" line was just said.
	virtual void attached(const AttachSummary &) {}
	// Every process selected at start is attached; the loop begins.
	virtual void begin() {}
	// After each poll of the ring buffer (records delivered, ended processes detached).
	virtual void polled() {}
	// True to stop now (the user pressed `q`).
	virtual bool done() { return false; }
	// Once per interval.
	virtual void tick() {}
	// A moment before the next interval this hook needs the loop awake at (record's flush).
	virtual std::chrono::steady_clock::time_point wake_by() { return std::chrono::steady_clock::time_point::max(); }
	// After the loop's last poll: the final figures.
	virtual void finish() {}
};

struct DriverOptions {
	std::vector<pid_t> pids;  // attached one by one (-p)
	// System-wide (--all; the SessionOptions say system_wide too): every Go process now and as
	// they start, and the loop runs until told to stop even with nothing to trace yet.
	bool all = false;
	std::string comm;               // --comm, for the "following every Go process" line
	const char *verb = "following"; // "recording every Go process ..."
	std::chrono::nanoseconds interval = std::chrono::seconds(1);
	std::optional<std::chrono::nanoseconds> duration;
};

class Driver {
public:
	// Signals are caught from here on: a SIGTERM during a long attach (or right after the
	// "attached" line) stops gort cleanly instead of killing it with probes half set up.
	Driver(const SessionOptions &session_opts, DriverOptions opts);

	Session &session() { return session_; }
	// One more process for attach() (demo: its child, started once the session is ready).
	void add_pid(pid_t pid) { opts_.pids.push_back(pid); }

	// Attaches every -p PID, or with --all every running Go process that passes the filters,
	// saying the "attached" line for each (tests synchronise on it) and a note for each refused.
	void attach(DriverHooks &hooks);
	// The loop, until the deadline, a signal, hooks.done() or the end of every -p process.
	// Returns the exit code.
	int run(DriverHooks &hooks);

private:
	void news(DriverHooks &hooks);

	StopSignals signals_;
	DriverOptions opts_;
	Session session_;
};

} // namespace gort::session
