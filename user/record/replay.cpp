#include "user/record/replay.h"

#include <fmt/format.h>

namespace gort::record {

session::SiteNames ReplaySymbols::site(uint64_t startpc, uint64_t gopc) const
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

void ReplaySymbols::add(const SiteNamesRecord &s)
{
	sites_[{s.startpc, s.gopc}] = {s.function, s.created_by, s.created_at, s.system};
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

void Replay::on_header(const FileHeader &h)
{
	header_ = h;
	aggregator_.emplace(h.slow_syscall_ns);
	clock_ = {h.start_mono_ns, h.start_wall_ns};
}

void Replay::on_process(const ProcessRecord &p)
{
	auto symbols = std::make_shared<ReplaySymbols>(p.stw_reasons);
	symbols_[static_cast<pid_t>(p.pid)] = symbols;
	session::TracedProcess proc;
	proc.pid = static_cast<pid_t>(p.pid);
	proc.comm = p.comm;
	proc.exe = p.exe;
	proc.go_version = p.go_version;
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
	advance(c.time);
}

// A tick is where the live session rendered a snapshot: taking one here too keeps the live-history
// and rates of the final model what they were live.
void Replay::on_tick(const TimeRecord &t)
{
	advance(t);
	aggregator_->snapshot(counters_, clock_);
}

void Replay::on_exit(const ExitRecord &x)
{
	advance(x.time);
	aggregator_->freeze(static_cast<pid_t>(x.pid), counters_, {x.time.mono_ns, x.time.wall_ns});
}

void Replay::on_end(const TimeRecord &t) { advance(t); }

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
