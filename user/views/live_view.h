// What `top` and `demo` show while the driver runs: a snapshot every interval as NDJSON, as plain
// text, or — when stdout and stdin are a terminal — the interactive screen (one process, or with
// --all a table of processes to sort, select and focus).
#pragma once

#include <optional>
#include <string>

#include "user/session/driver.h"
#include "user/views/terminal.h"
#include "user/views/views.h"

namespace gort::views {

class LiveView : public session::DriverHooks {
public:
	// system_wide: the terminal shows the process table (--all).
	LiveView(session::Session &session, bool json, bool system_wide);

	void say(std::string_view line) override;
	void begin() override;
	void polled() override;
	bool done() override { return keys_.quit; }
	void tick() override;
	void finish() override;

private:
	// The terminal view's state: system-wide mode shows a process table, or one process in focus.
	struct Keys {
		TableState table;
		std::optional<pid_t> focus;
		bool quit = false;
		// Applies typed keys; returns true if the view changed.
		bool apply(const std::string &keys, const session::Snapshot &last, bool table_mode);
	};

	void show(const session::Snapshot &snap);
	void draw();

	session::Session &session_;
	const bool json_, system_wide_, interactive_;
	std::optional<InteractiveTerminal> terminal_;  // while the loop runs, when interactive_
	Keys keys_;
	session::Snapshot last_;
};

} // namespace gort::views
