#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "user/common/escape.h"
#include "user/cli/commands/commands.h"
#include "user/cli/commands/stop_signals.h"
#include "user/cli/commands/top.h"
#include "user/record/recorder.h"
#include "user/record/writer.h"
#include "user/session/session.h"

namespace gort::cli {

namespace {

std::string progress__bytes(uint64_t n)
{
	if (n < 1024)
		return fmt::format("{} B", n);
	if (n < 1024 * 1024)
		return fmt::format("{:.1f} KiB", n / 1024.0);
	return fmt::format("{:.1f} MiB", n / (1024.0 * 1024.0));
}

std::string progress__elapsed(std::chrono::nanoseconds d)
{
	auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
	return s < 60 ? fmt::format("{}s", s) : fmt::format("{}m{:02}s", s / 60, s % 60);
}

} // namespace

int record__run(const RecordOptions &opts)
{
	using clock = std::chrono::steady_clock;
	StopSignals signals;
	const bool tty = isatty(STDERR_FILENO);

	// The file first: a name that is taken is refused before anything is attached. If attaching
	// fails, the Writer removes the file (no chunk was written: the recording never started).
	record::Writer writer(opts.output, opts.force,
			      record::header__now(static_cast<uint64_t>(opts.syscall_threshold.count()),
						  static_cast<uint64_t>(opts.interval.count())));
	session::SessionOptions so = session_options__for(opts.select, opts.syscall_threshold);
	so.record_lifecycle = true;
	so.forget_ended = true;
	session::Session session(so);
	record::Recorder recorder(writer, session);
	session.add_sink(recorder);
	session.set_before_detach([&](pid_t pid, session::Clock now) { recorder.on_exit(pid, now); });

	// With --all, processes are attached inside session.poll(); their records come from the next
	// poll on, so announcing them to the recorder right after each poll keeps the file in order.
	auto record_attached = [&](const session::AttachSummary &s) {
		recorder.on_attach(s.pid);
		fmt::print(stderr, "{}{}\n", tty ? "\r\x1b[K" : "", text__escape(session::attach_summary__line(s)));
	};
	auto record_news = [&] {
		for (const auto &s : session.take_attached())
			record_attached(s);
		for (const auto &note : session.take_notes())
			fmt::print(stderr, "{}{}\n", tty ? "\r\x1b[K" : "", text__escape(note));
		std::fflush(stderr);
	};
	if (opts.select.all) {
		session.follow_all();
		record_news();
		fmt::print(stderr, "gort: recording every Go process{} (new ones as they start)\n",
			   opts.select.comm.empty() ? "" : fmt::format(" whose command matches '{}'", opts.select.comm));
	}
	for (pid_t pid : opts.select.pids)
		record_attached(session.attach(pid));
	std::fflush(stderr);
	// Every process is attached: from this first chunk on, the file is a recording.
	writer.flush();

	const auto start = clock::now();
	auto progress = [&](bool done) {
		if (!tty)
			return;
		fmt::print(stderr, "\r\x1b[Kgort: recording to {}: {}, {} events, {}, {} lost{}", opts.output,
			   progress__elapsed(clock::now() - start), writer.events_written(),
			   progress__bytes(writer.bytes_written()), recorder.lost_events(), done ? "\n" : "");
		std::fflush(stderr);
	};

	// Chunks reach the file at least every second, so a recorder that is killed loses at most that.
	constexpr auto kFlushEvery = std::chrono::seconds(1);
	const auto deadline = opts.duration ? start + *opts.duration : clock::time_point::max();
	auto next_interval = start + opts.interval;
	auto next_flush = start + kFlushEvery;
	progress(false);
	while (!signals.requested()) {
		auto wake = std::min({next_interval, next_flush, deadline});
		auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake - clock::now()).count();
		// Short polls so signals and ended processes are noticed promptly.
		std::vector<pid_t> ended = session.poll(static_cast<int>(std::clamp<int64_t>(wait, 0, 100)));
		recorder.check();
		for (pid_t pid : ended)
			fmt::print(stderr, "{}gort: PID {} exited\n", tty ? "\r\x1b[K" : "", pid);
		record_news();
		// System-wide recording runs until told to stop, even with nothing to trace yet.
		if (!opts.select.all && !session.has_live_processes())
			break;
		auto now = clock::now();
		if (now >= deadline)
			break;
		if (now >= next_interval) {
			recorder.on_interval(session::clock__now());
			while (next_interval <= now)
				next_interval += opts.interval;
		}
		if (now >= next_flush) {
			writer.flush();
			progress(false);
			next_flush = now + kFlushEvery;
		}
	}
	session.poll(0);
	recorder.check();
	recorder.finish(session::clock__now());
	progress(true);
	return 0;
}

} // namespace gort::cli
