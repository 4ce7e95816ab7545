// SIGINT/SIGTERM/SIGHUP as a flag a command loop polls: the handler only sets it, the loop ends and every
// destructor runs (probes detached, files closed). The previous handlers come back on destruction.
#pragma once

#include <signal.h>

#include <chrono>
#include <thread>

namespace gort {

class StopSignals {
public:
	// Nested (a command holds one around attaching, its loop another): a signal that arrived
	// while attaching is still seen by the loop.
	StopSignals()
	{
		if (depth_++ == 0)
			requested_ = 0;
		struct sigaction sa {};
		sa.sa_handler = [](int) { requested_ = 1; };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_int_);
		sigaction(SIGTERM, &sa, &old_term_);
		// The terminal or ssh session went away: stop as cleanly as on SIGTERM (record writes
		// its end record and last chunk) rather than die mid-chunk.
		sigaction(SIGHUP, &sa, &old_hup_);
	}
	~StopSignals()
	{
		depth_--;
		sigaction(SIGINT, &old_int_, nullptr);
		sigaction(SIGTERM, &old_term_, nullptr);
		sigaction(SIGHUP, &old_hup_, nullptr);
	}
	StopSignals(const StopSignals &) = delete;
	StopSignals &operator=(const StopSignals &) = delete;

	bool requested() const { return requested_ != 0; }
	// Waits `d` unless a signal comes first (gort goroutines --watch between its two reads);
	// returns false if one did. Short sleeps: the handler only sets the flag, it cannot wake us.
	bool wait_for(std::chrono::nanoseconds d) const
	{
		auto until = std::chrono::steady_clock::now() + d;
		while (std::chrono::steady_clock::now() < until && !requested())
			std::this_thread::sleep_for(std::chrono::milliseconds(50));
		return !requested();
	}

private:
	static inline volatile sig_atomic_t requested_ = 0;
	static inline int depth_ = 0;
	struct sigaction old_int_ {}, old_term_ {}, old_hup_ {};
};

} // namespace gort
