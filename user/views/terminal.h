// The interactive terminal: keys without Enter and no echo (for `q`), cursor hidden, the screen
// redrawn whole; everything restored when the object goes, however gort leaves.
#pragma once

#include <termios.h>

#include <string>
#include <utility>

namespace gort::views {

class InteractiveTerminal {
public:
	InteractiveTerminal();
	~InteractiveTerminal();
	InteractiveTerminal(const InteractiveTerminal &) = delete;
	InteractiveTerminal &operator=(const InteractiveTerminal &) = delete;

	// True when stdout and stdin are both terminals: a full-screen view makes sense.
	static bool available();
	// Whatever was typed since the last call (arrow keys arrive as ESC [ A/B).
	std::string keys();
	// Columns and rows (80x24 when the terminal does not say).
	static std::pair<int, int> size();
	// Clears and draws `screen` from the top left corner.
	void draw(const std::string &screen);

private:
	termios saved_{};
	bool restore_ = false;
};

} // namespace gort::views
