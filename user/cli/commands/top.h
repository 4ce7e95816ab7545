// The `top` loop, shared by `gort top` and `gort demo`.
#pragma once

#include "user/cli/commands/commands.h"
#include "user/session/session.h"

namespace gort::cli {

// Renders the session every interval until --duration, SIGINT/SIGTERM, `q` on a terminal, or the
// end of every traced process; prints a final snapshot. Returns the exit code.
int top__loop(session::Session &session, const TopOptions &opts);

// Creates the session and attaches every PID, printing the "attached" line for each.
void top__attach_all(session::Session &session, const std::vector<pid_t> &pids);

} // namespace gort::cli
