// Standard output is checked like any file: a closed pipe (its reader gone; SIGPIPE is ignored so
// gort can detach first) or a full disk ends the command with one line on stderr and a non-zero
// exit instead of tracing on into nothing or exiting 0 with nothing written.
#pragma once

#include <string_view>

namespace gort {

// Flushes std::cout and C's stdout (fmt::print and std::cout share it) and throws
// UserError(failure) if anything written to them was lost.
void stdout__flush();
// Writes `s` to stdout and flushes: stdout__flush's errors.
void stdout__write(std::string_view s);
// From here on a write to a closed pipe fails with EPIPE instead of killing gort (so it
// detaches and says why); called once at start.
void sigpipe__ignore();

} // namespace gort
