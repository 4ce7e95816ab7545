#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "user/cli/commands/commands.h"
#include "user/cli/commands/selection.h"
#include "user/record/recorder.h"
#include "user/record/writer.h"
#include "user/session/driver.h"
#include "user/views/views.h"

namespace gort::cli {

namespace {

using steady = std::chrono::steady_clock;

// The recorder on the driver's moments, with a progress line on a terminal.
class RecordHooks : public session::DriverHooks {
public:
	RecordHooks(const session::Session &session, record::Writer &writer, record::Recorder &recorder,
		    const RecordOptions &opts)
	    : session_(session), writer_(writer), recorder_(recorder), output_(opts.output), tty_(isatty(STDERR_FILENO))
	{
	}
	// The progress line is redrawn in place: a message first clears it.
	void say(std::string_view line) override
	{
		fmt::print(stderr, "{}{}\n", tty_ ? "\r\x1b[K" : "", line);
		std::fflush(stderr);
	}
	// With --all, processes are attached inside session.poll(); their records come from the next
	// poll on, so announcing them to the recorder right after each poll keeps the file in order.
	void attached(const session::AttachSummary &s) override
	{
		// Gone already (attached and ended within one poll, forgotten at once): on_exit wrote it.
		if (const session::TracedProcess *p = session_.find_process(s.pid))
			recorder_.on_attach(*p);
	}
	void begin() override
	{
		// Every process is attached: from this first chunk on, the file is a recording.
		writer_.flush();
		start_ = steady::now();
		next_flush_ = start_ + kFlushEvery;
		progress(false);
	}
	void polled() override
	{
		recorder_.check();
		if (auto now = steady::now(); now >= next_flush_) {
			writer_.flush();
			progress(false);
			next_flush_ = now + kFlushEvery;
		}
	}
	void tick() override { recorder_.on_tick(clock__now()); }
	steady::time_point wake_by() override { return next_flush_; }
	void finish() override
	{
		recorder_.check();
		recorder_.finish(clock__now());
		progress(true);
	}

private:
	// Chunks reach the file at least every second, so a recorder that is killed loses at most that.
	static constexpr auto kFlushEvery = std::chrono::seconds(1);

	void progress(bool done)
	{
		if (!tty_)
			return;
		fmt::print(stderr, "\r\x1b[K{}{}", views::record_progress__line(output_, steady::now() - start_,
				writer_.events_written(), writer_.bytes_written(), recorder_.lost_events()), done ? "\n" : "");
		std::fflush(stderr);
	}

	const session::Session &session_;
	record::Writer &writer_;
	record::Recorder &recorder_;
	std::string output_;
	bool tty_;
	steady::time_point start_, next_flush_ = steady::time_point::max();
};

} // namespace

int record__run(const RecordOptions &opts)
{
	// The file first: a name that is taken is refused before anything is attached. If attaching
	// fails, the Writer removes the file (no chunk was written: the recording never started).
	StopSignals signals;
	record::Writer writer(opts.output, opts.force,
			      record::header__now(static_cast<uint64_t>(opts.syscall_threshold.count()),
						  static_cast<uint64_t>(opts.interval.count())));
	session::SessionOptions so = session_options__for(opts.select, opts.syscall_threshold);
	so.record_lifecycle = true;
	so.forget_ended = true;
	so.goroutine_mode = opts.goroutine_mode;
	so.overhead = opts.overhead;
	session::DriverOptions o = driver_options__for(opts.select, opts.interval, opts.duration);
	o.verb = "recording";
	session::Driver driver(so, o);
	record::Recorder recorder(writer, driver.session().counters());
	driver.session().add_sink(recorder);
	driver.session().set_reading_sink(recorder);
	driver.session().set_before_detach([&](const session::TracedProcess &p, Clock now) { recorder.on_exit(p, now); });
	RecordHooks hooks(driver.session(), writer, recorder, opts);
	driver.attach(hooks);
	return driver.run(hooks);
}

} // namespace gort::cli
