// The `top` loop, shared by `gort top` and `gort demo`.
#pragma once

#include <functional>

#include "user/cli/commands/commands.h"
#include "user/session/session.h"

namespace gort::cli {

// Where a snapshot goes instead of a view (gort serve publishes it on its endpoint).
using SnapshotSink = std::function<void(const session::Snapshot &)>;

// Renders the session every interval until --duration, SIGINT/SIGTERM, `q` on a terminal, or the
// end of every traced process; prints a final snapshot. Returns the exit code. With a sink, each
// snapshot goes to it and nothing is printed on stdout.
int top__loop(session::Session &session, const TopOptions &opts, const SnapshotSink &sink = {});

// The session a command needs for its selection (--all, filters) and slow-syscall threshold.
session::SessionOptions session_options__for(const Selection &select, std::chrono::nanoseconds syscall_threshold);

// Attaches every -p PID, or with --all every running Go process that passes the filters,
// printing the "attached" line for each (and a note for each Go process refused).
void top__attach_all(session::Session &session, const Selection &select);

// Prints what system-wide mode attached or refused since the last call.
void top__print_session_news(session::Session &session);

} // namespace gort::cli
