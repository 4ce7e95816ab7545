// SIGINT/SIGTERM/SIGHUP as a flag a command loop polls: the handler only sets it, the loop ends and every
// destructor runs (probes detached, files closed). The previous handlers come back on destruction.
#pragma once

#include <signal.h>

namespace gort::cli {

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

private:
	static inline volatile sig_atomic_t requested_ = 0;
	static inline int depth_ = 0;
	struct sigaction old_int_ {}, old_term_ {}, old_hup_ {};
};

} // namespace gort::cli
