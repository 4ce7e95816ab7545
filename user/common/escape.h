// Strings another user controls (a process's comm and executable path, names read from a binary,
// the contents of a recording) may hold terminal control sequences: printed raw, `ESC ] 0 ;` sets
// root's window title, `ESC [ 2 J` clears the screen, a C1 CSI (U+009B) does the same on terminals
// that honour 8-bit controls. Everything such a string carries to a terminal goes through this.
#pragma once

#include <string>
#include <string_view>

namespace gort {

// Visible escapes for everything a terminal could act on: C0 controls and DEL become \n, \t,
// \e, \xNN; C1 controls (U+0080-U+009F) and the bidirectional overrides/isolates
// (U+202A-U+202E, U+2066-U+2069, which reorder what follows them) become \u{NNNN}; bytes that
// are not valid UTF-8 become \xNN; a backslash becomes \\ so an escape cannot be forged. Valid
// printable UTF-8 (Go's non-ASCII identifiers, paths) is kept as it is.
std::string text__escape(std::string_view s);

} // namespace gort
