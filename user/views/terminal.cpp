#include "user/views/terminal.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <iostream>

#include "user/common/output.h"

namespace gort::views {

InteractiveTerminal::InteractiveTerminal()
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

InteractiveTerminal::~InteractiveTerminal()
{
	if (restore_)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
	std::cout << "\x1b[?25h" << std::flush;
}

bool InteractiveTerminal::available()
{
	return isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
}

std::string InteractiveTerminal::keys()
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

std::pair<int, int> InteractiveTerminal::size()
{
	winsize ws{};
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0)
		return {ws.ws_col, ws.ws_row};
	return {80, 24};
}

void InteractiveTerminal::draw(const std::string &screen)
{
	std::cout << "\x1b[H\x1b[2J" << screen;
	stdout__flush();
}

} // namespace gort::views
