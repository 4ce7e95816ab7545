#include "user/record/replay.h"

#include <fmt/format.h>

namespace gort::record {

SiteNames ReplaySymbols::site(uint64_t startpc, uint64_t gopc) const
{
	auto it = sites_.find({startpc, gopc});
	if (it != sites_.end())
		return it->second;
	return {fmt::format("{:#x}", startpc), "", "", false};
}

// The same fallback as runtime_layout__stw_reason: the recorder stored the live names of every
// reason BPF can report up to GORT_MAX_STW_REASON.
std::string ReplaySymbols::stw_reason(uint32_t reason) const
{
	if (reason < stw_reasons_.size() && !stw_reasons_[reason].empty())
		return stw_reasons_[reason];
	return fmt::format("stw reason {}", reason);
}

namespace {

// A name longer than any a real binary or kernel gives is cut here, so that a crafted file's
// megabyte "names" are not copied into every figure they label (docs/file-format.md, Limits).
constexpr size_t kMaxName = 4096;
// Reason names past this index are never looked up (GORT_MAX_STW_REASON is far below it).
constexpr size_t kMaxStwReasons = 256;

std::string name__bounded(const std::string &s) { return s.size() <= kMaxName ? s : s.substr(0, kMaxName); }

} // namespace

void ReplaySymbols::add(const SiteNamesRecord &s)
{
	sites_[{s.startpc, s.gopc}] = {name__bounded(s.function), name__bounded(s.created_by),
				       name__bounded(s.created_at), s.system};
}

gort_proc_stats ReplayCounters::stats(pid_t pid) const
{
	auto it = latest_.find(pid);
	return it == latest_.end() ? gort_proc_stats{} : it->second.stats;
}

std::vector<std::pair<gort_site_key, gort_site_stats>> ReplayCounters::sites(pid_t pid) const
{
	auto it = latest_.find(pid);
	return it == latest_.end() ? std::vector<std::pair<gort_site_key, gort_site_stats>>{} : it->second.sites;
}

std::vector<std::pair<gort_syscall_key, gort_syscall_stats>> ReplayCounters::syscalls(pid_t pid) const
{
	auto it = latest_.find(pid);
	return it == latest_.end() ? std::vector<std::pair<gort_syscall_key, gort_syscall_stats>>{} : it->second.syscalls;
}

ProcessGauges ReplayCounters::gauges(pid_t pid) const
{
	auto it = latest_.find(pid);
	if (it == latest_.end())
		return {};
	const CountersRecord &c = it->second;
	return {c.os_threads, c.heap_known, c.heap_alloc, c.heap_objects, c.gomaxprocs};
}

void Replay::on_header(const FileHeader &h)
{
	header_ = h;
	aggregator_.emplace(h.slow_syscall_ns);
	clock_ = {h.start_mono_ns, h.start_wall_ns};
}

void Replay::on_process(const ProcessRecord &p)
{
	std::vector<std::string> reasons;
	for (size_t i = 0; i < p.stw_reasons.size() && i < kMaxStwReasons; i++)
		reasons.push_back(name__bounded(p.stw_reasons[i]));
	auto symbols = std::make_shared<ReplaySymbols>(std::move(reasons));
	symbols_[static_cast<pid_t>(p.pid)] = symbols;
	session::TracedProcess proc;
	proc.pid = static_cast<pid_t>(p.pid);
	proc.comm = name__bounded(p.comm);
	proc.exe = name__bounded(p.exe);
	proc.go_version = name__bounded(p.go_version);
	proc.symbols = symbols;
	for (const auto &a : p.alive_at_attach)
		proc.alive_at_attach[{a.startpc, a.gopc}] += a.count;
	proc.attached_mono_ns = p.attached_mono_ns;
	aggregator_->add_process(std::move(proc));
}

void Replay::on_site_names(const SiteNamesRecord &s)
{
	auto it = symbols_.find(static_cast<pid_t>(s.pid));
	if (it != symbols_.end())
		it->second->add(s);
}

void Replay::on_event(const gort_event_header &hdr, std::span<const uint8_t> raw)
{
	aggregator_->on_event(hdr, raw.data(), raw.size());
}

void Replay::on_counters(const CountersRecord &c)
{
	counters_.set(c);
	counted_.insert(static_cast<pid_t>(c.pid));
	advance(c.time);
}

// A tick is where the live session rendered a snapshot: advancing the rates and live history of
// the processes counted since the last one keeps those of the final model what they were live.
// Only those, and only that (not a whole snapshot, which sorts every pause so far): each tick
// costs what the records before it hold, so replay is linear in the file's length.
void Replay::on_tick(const TimeRecord &t) { on_tick(Clock{t.mono_ns, t.wall_ns}); }

void Replay::on_tick(Clock now)
{
	advance({now.mono_ns, now.wall_ns});
	ticked_.assign(counted_.begin(), counted_.end());
	counted_.clear();
	for (pid_t pid : ticked_)
		aggregator_->advance(pid, counters_, clock_);
}

std::optional<int64_t> Replay::live_goroutines(pid_t pid) const
{
	return aggregator_ ? aggregator_->live_goroutines(pid, counters_) : std::nullopt;
}

void Replay::on_exit(const ExitRecord &x)
{
	advance(x.time);
	aggregator_->freeze(static_cast<pid_t>(x.pid), counters_, {x.time.mono_ns, x.time.wall_ns});
}

void Replay::on_end(const TimeRecord &t) { advance(t); }

// A reading goes to the aggregator as the live session gave it, with the counters it was taken
// with: the figures of sampled mode are computed again, not stored.
void Replay::on_reading(const ReadingRecord &rec)
{
	advance(rec.time);
	session::GoroutineReading r;
	r.at = {rec.time.mono_ns, rec.time.wall_ns};
	r.counts.goidgen = rec.goidgen;
	r.counts.unused = rec.unused;
	r.counts.handed_out = rec.handed_out;
	r.counts.alive = rec.alive;
	r.counts.system = rec.system;
	for (const auto &c : rec.census)
		r.sites.push_back({{c.startpc, c.gopc}, c.live, c.system_goids});
	r.fraction = rec.fraction;
	r.sampled = rec.sampled;
	r.forced = rec.forced;
	r.budget = rec.budget;
	r.trap_ns = rec.trap_ns;
	aggregator_->set_trap_ns(rec.trap_ns);
	pid_t pid = static_cast<pid_t>(rec.pid);
	aggregator_->on_reading(pid, r, session::ReadingCounters(pid, rec.stats, rec.sites));
}

void Replay::on_mode_change(const ModeChangeRecord &m)
{
	advance(m.time);
	// A reason this gort does not know (a later revision) reads as a forced change.
	auto reason = m.reason >= 1 && m.reason <= 3 ? static_cast<session::ModeReason>(m.reason) : session::ModeReason::forced;
	aggregator_->on_mode_change(static_cast<pid_t>(m.pid), {{m.time.mono_ns, m.time.wall_ns}, m.sampled, reason, m.cost, m.budget});
}

void Replay::advance(const TimeRecord &t)
{
	// Time stamps come from one recorder's clock and only move forward; a corrupt one that goes
	// back is ignored rather than making durations negative.
	if (t.mono_ns >= clock_.mono_ns)
		clock_ = {t.mono_ns, t.wall_ns};
}

session::Snapshot Replay::snapshot()
{
	if (!aggregator_)
		return {};
	return aggregator_->snapshot(counters_, clock_);
}

const ReplaySymbols *Replay::symbols(pid_t pid) const
{
	auto it = symbols_.find(pid);
	return it == symbols_.end() ? nullptr : it->second.get();
}

session::Snapshot recording__report(const std::string &path, std::vector<std::string> &warnings)
{
	Replay replay;
	ReadSummary sum = recording__read(path, replay);
	warnings.insert(warnings.end(), sum.warnings.begin(), sum.warnings.end());
	return replay.snapshot();
}

} // namespace gort::record
