#include "user/views/live_view.h"

#include <iostream>

#include "user/common/output.h"

namespace gort::views {

bool LiveView::Keys::apply(const std::string &keys, const session::Snapshot &last, bool table_mode)
{
	bool changed = false;
	auto rows = table__rows(last, table.sort);
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
			table.sort = sort_key__next(table.sort);
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

LiveView::LiveView(session::Session &session, bool json, bool system_wide)
    : session_(session), json_(json), system_wide_(system_wide),
      interactive_(!json && InteractiveTerminal::available())
{
}

void LiveView::say(std::string_view line)
{
	// The screen shows the processes: lines on stderr would scroll it away.
	if (!terminal_)
		session::DriverHooks::say(line);
}

void LiveView::begin()
{
	if (!interactive_)
		return;
	terminal_.emplace();
	show(session_.snapshot());
}

void LiveView::polled()
{
	if (terminal_ && keys_.apply(terminal_->keys(), last_, system_wide_))
		draw();
}

void LiveView::tick()
{
	show(session_.snapshot());
}

void LiveView::finish()
{
	show(session_.snapshot());
	if (interactive_)
		std::cout << "\n";
	stdout__flush();
}

void LiveView::draw()
{
	auto [w, h] = InteractiveTerminal::size();
	std::string screen;
	if (system_wide_ && keys_.focus) {
		session::Snapshot one{last_.time, {}};
		for (const auto &p : last_.processes)
			if (p.pid == *keys_.focus)
				one.processes.push_back(p);
		if (one.processes.empty())
			keys_.focus.reset(); // it ended and was dropped: back to the table
		else
			screen = tui__render(one, w, h);
	}
	if (screen.empty())
		screen = system_wide_ ? tui__render_table(last_, w, h, keys_.table) : tui__render(last_, w, h);
	terminal_->draw(screen);
}

void LiveView::show(const session::Snapshot &snap)
{
	if (json_) {
		json__write_line(std::cout, snap);
	} else if (terminal_) {
		last_ = snap;
		draw();
	} else {
		text__write(std::cout, snap);
	}
	// A reader that went away or a full disk ends gort here (detached as it unwinds).
	stdout__flush();
}

} // namespace gort::views
