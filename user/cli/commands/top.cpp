#include "user/common/escape.h"
#include "user/common/output.h"
#include "user/cli/commands/top.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <regex>

#include <fmt/format.h>

#include "user/cli/commands/stop_signals.h"
#include "user/views/views.h"

namespace gort::cli {

namespace {

// On a terminal: keys without Enter and no echo (for `q`), cursor hidden; restored on exit.
class InteractiveTerminal {
public:
	InteractiveTerminal()
	{
		if (tcgetattr(STDIN_FILENO, &saved_) == 0) {
			termios raw = saved_;
			raw.c_lflag &= ~(ICANON | ECHO);
			raw.c_cc[VMIN] = 0;
			raw.c_cc[VTIME] = 0;
			restore_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		}
		std::cout << "\x1b[?25l" << std::flush;
	}
	~InteractiveTerminal()
	{
		if (restore_)
			tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
		std::cout << "\x1b[?25h" << std::flush;
	}

	// Whatever was typed since the last call (arrow keys arrive as ESC [ A/B).
	std::string keys()
	{
		std::string typed;
		pollfd pfd{STDIN_FILENO, POLLIN, 0};
		if (::poll(&pfd, 1, 0) <= 0)
			return typed;
		char buf[64];
		ssize_t n;
		while ((n = read(STDIN_FILENO, buf, sizeof buf)) > 0)
			typed.append(buf, n);
		return typed;
	}

	static std::pair<int, int> size()
	{
		winsize ws{};
		if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0)
			return {ws.ws_col, ws.ws_row};
		return {80, 24};
	}

private:
	termios saved_{};
	bool restore_ = false;
};

// The terminal view's state: system-wide mode shows a process table, or one process in focus.
struct ViewState {
	views::TableState table;
	std::optional<pid_t> focus;
	bool quit = false;

	// Applies typed keys; returns true if the view changed.
	bool apply(const std::string &keys, const session::Snapshot &last, bool table_mode)
	{
		bool changed = false;
		auto rows = views::table__rows(last, table.sort);
		for (size_t i = 0; i < keys.size(); i++) {
			char c = keys[i];
			bool up = c == 'k', down = c == 'j';
			if (c == '\x1b' && i + 2 < keys.size() && keys[i + 1] == '[') {
				up = keys[i + 2] == 'A';
				down = keys[i + 2] == 'B';
				i += 2;
			} else if (c == '\x1b' || c == 'b' || c == 0x7f) {
				changed |= focus.has_value();
				focus.reset();
				continue;
			}
			if (c == 'q' || c == 'Q') {
				quit = true;
				return changed;
			}
			if (!table_mode || focus)
				continue;
			if (c == 's') {
				table.sort = views::sort_key__next(table.sort);
				changed = true;
			} else if (up && table.selected > 0) {
				table.selected--;
				changed = true;
			} else if (down && table.selected + 1 < rows.size()) {
				table.selected++;
				changed = true;
			} else if ((c == '\n' || c == '\r') && table.selected < rows.size()) {
				focus = rows[table.selected]->pid;
				changed = true;
			}
		}
		return changed;
	}
};

} // namespace

session::SessionOptions session_options__for(const Selection &select, std::chrono::nanoseconds syscall_threshold)
{
	session::SessionOptions so;
	so.slow_syscall_ns = static_cast<uint64_t>(syscall_threshold.count());
	so.system_wide = select.all;
	if (!select.comm.empty())
		so.filter.comm = std::regex(select.comm);
	so.filter.exclude.insert(select.exclude.begin(), select.exclude.end());
	so.filter.max_procs = select.max_procs;
	return so;
}

void top__print_session_news(session::Session &session)
{
	for (const auto &s : session.take_attached())
		fmt::print(stderr, "{}\n", text__escape(session::attach_summary__line(s)));
	for (const auto &note : session.take_notes())
		fmt::print(stderr, "{}\n", text__escape(note));
	std::fflush(stderr);
}

void top__attach_all(session::Session &session, const Selection &select)
{
	if (select.all) {
		session.follow_all();
		top__print_session_news(session);
		fmt::print(stderr, "gort: following every Go process{} (new ones as they start)\n",
			   select.comm.empty() ? "" : fmt::format(" whose command matches '{}'", select.comm));
	}
	for (pid_t pid : select.pids)
		fmt::print(stderr, "{}\n", text__escape(session::attach_summary__line(session.attach(pid))));
	std::fflush(stderr);
}

int top__loop(session::Session &session, const TopOptions &opts, const SnapshotSink &sink)
{
	using clock = std::chrono::steady_clock;
	StopSignals signals;
	const bool interactive = !sink && !opts.json && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
	std::optional<InteractiveTerminal> terminal;
	if (interactive)
		terminal.emplace();

	ViewState view;
	session::Snapshot last;
	auto draw = [&] {
		auto [w, h] = InteractiveTerminal::size();
		std::string screen;
		if (opts.select.all && view.focus) {
			session::Snapshot one{last.time, {}};
			for (const auto &p : last.processes)
				if (p.pid == *view.focus)
					one.processes.push_back(p);
			if (one.processes.empty())
				view.focus.reset(); // it ended and was dropped: back to the table
			else
				screen = views::tui__render(one, w, h);
		}
		if (screen.empty())
			screen = opts.select.all ? views::tui__render_table(last, w, h, view.table) : views::tui__render(last, w, h);
		std::cout << "\x1b[H\x1b[2J" << screen;
		stdout__flush();
	};
	auto render = [&](const session::Snapshot &snap) {
		if (sink) {
			sink(snap);
		} else if (opts.json) {
			views::json__write_line(std::cout, snap);
		} else if (interactive) {
			last = snap;
			draw();
		} else {
			views::text__write(std::cout, snap);
		}
		// A reader that went away or a full disk ends gort here (detached as it unwinds).
		stdout__flush();
	};

	const auto start = clock::now();
	const auto deadline = opts.duration ? start + *opts.duration : clock::time_point::max();
	auto next = start + opts.interval;
	if (interactive)
		render(session.snapshot());
	while (!signals.requested()) {
		auto now = clock::now();
		auto wake = std::min(next, deadline);
		// Short polls so `q`, signals and ended processes are noticed promptly.
		auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count();
		for (pid_t pid : session.poll(static_cast<int>(std::clamp<int64_t>(wait, 0, 100))))
			if (!interactive)
				fmt::print(stderr, "gort: PID {} exited\n", pid);
		if (!interactive) {
			top__print_session_news(session);
		} else {
			session.take_attached(); // the table shows them
			session.take_notes();
		}
		if (terminal) {
			if (view.apply(terminal->keys(), last, opts.select.all))
				draw();
			if (view.quit)
				break;
		}
		// System-wide mode runs until told to stop, even with nothing to trace yet.
		if (!opts.select.all && !session.has_live_processes())
			break;
		now = clock::now();
		if (now >= deadline)
			break;
		if (now >= next) {
			render(session.snapshot());
			while (next <= now)
				next += opts.interval;
		}
	}
	session.poll(0);
	render(session.snapshot());
	if (interactive)
		std::cout << "\n";
	stdout__flush();
	return 0;
}

int top__run(const TopOptions &opts)
{
	// Before attaching: a SIGTERM that arrives right after the "attached" line (or during a long
	// attach) stops gort cleanly instead of killing it with its probes still being set up.
	StopSignals signals;
	session::SessionOptions so = session_options__for(opts.select, opts.syscall_threshold);
	so.goroutine_mode = opts.goroutine_mode;
	so.overhead = opts.overhead;
	session::Session session(so);
	top__attach_all(session, opts.select);
	return top__loop(session, opts);
}

} // namespace gort::cli
