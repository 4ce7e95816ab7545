// From a command's selection (-p / --all and its filters) to the session and driver options every
// live command (top, demo, record, gctrace, serve) starts from.
#pragma once

#include <chrono>
#include <optional>

#include "user/cli/commands/commands.h"
#include "user/session/driver.h"
#include "user/session/session.h"

namespace gort::cli {

// The session a command needs for its selection (--all, filters) and slow-syscall threshold.
session::SessionOptions session_options__for(const Selection &select, std::chrono::nanoseconds syscall_threshold);

// The driver loop for the selection: what it attaches, its interval and --duration.
session::DriverOptions driver_options__for(const Selection &select, std::chrono::nanoseconds interval,
					   std::optional<std::chrono::nanoseconds> duration);

} // namespace gort::cli
