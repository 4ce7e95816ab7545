#include "user/session/driver.h"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "user/common/escape.h"

namespace gort::session {

void DriverHooks::say(std::string_view line)
{
	fmt::print(stderr, "{}\n", line);
	std::fflush(stderr);
}

Driver::Driver(const SessionOptions &session_opts, DriverOptions opts)
    : opts_(std::move(opts)), session_(session_opts)
{
}

// What system-wide mode (or an exec under -p) attached or refused since the last call. Names
// come from the target: escaped before they reach a terminal.
void Driver::news(DriverHooks &hooks)
{
	for (const auto &s : session_.take_attached()) {
		hooks.say(text__escape(attach_summary__line(s)));
		hooks.attached(s);
	}
	for (const auto &note : session_.take_notes())
		hooks.say(text__escape(note));
}

void Driver::attach(DriverHooks &hooks)
{
	if (opts_.all) {
		session_.follow_all();
		news(hooks);
		hooks.say(fmt::format("gort: {} every Go process{} (new ones as they start)", opts_.verb,
				      opts_.comm.empty() ? "" : fmt::format(" whose command matches '{}'", opts_.comm)));
	}
	for (pid_t pid : opts_.pids) {
		AttachSummary s = session_.attach(pid);
		hooks.say(text__escape(attach_summary__line(s)));
		hooks.attached(s);
	}
}

int Driver::run(DriverHooks &hooks)
{
	using clock = std::chrono::steady_clock;
	const auto start = clock::now();
	const auto deadline = opts_.duration ? start + *opts_.duration : clock::time_point::max();
	auto next = start + opts_.interval;
	hooks.begin();
	while (!signals_.requested()) {
		auto wake = std::min({next, deadline, hooks.wake_by()});
		auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake - clock::now()).count();
		// Short polls so signals, keys and ended processes are noticed promptly.
		std::vector<pid_t> ended = session_.poll(static_cast<int>(std::clamp<int64_t>(wait, 0, 100)));
		hooks.polled();
		for (pid_t pid : ended)
			hooks.say(fmt::format("gort: PID {} exited", pid));
		news(hooks);
		if (hooks.done())
			break;
		// System-wide mode runs until told to stop, even with nothing to trace yet.
		if (!opts_.all && !session_.has_live_processes())
			break;
		auto now = clock::now();
		if (now >= deadline)
			break;
		if (now >= next) {
			hooks.tick();
			while (next <= now)
				next += opts_.interval;
		}
	}
	session_.poll(0);
	hooks.finish();
	return 0;
}

} // namespace gort::session
