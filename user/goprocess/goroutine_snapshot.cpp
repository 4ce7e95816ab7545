// Goroutines of a live process from runtime.allgs (notes §11): every g the process ever had,
// read through /proc/PID/mem with the g layout from DWARF, without stopping the target.
#include "user/goprocess/goroutine_snapshot.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "user/common/error.h"
#include "user/gobinary/runtime_globals.h"

namespace gort::goprocess {

namespace {

// _Gscan (runtime2.go) is OR-ed into atomicstatus while the GC scans a stack.
constexpr uint32_t G_SCAN = 0x1000;
// allgs only grows; a larger value means we read garbage (a torn slice header).
constexpr uint64_t MAX_GS = 10'000'000;

// Offset of a member of an embedded struct: g.sched.sp is g.sched + gobuf.sp.
std::optional<uint32_t> nested(std::optional<uint32_t> outer, std::optional<uint32_t> inner)
{
	if (!outer || !inner)
		return std::nullopt;
	return *outer + *inner;
}

} // namespace

std::string goroutine__status_name(uint32_t s)
{
	// runtime2.go gStatusStrings: 5 (_Gmoribund_unused) and 7 (_Genqueue_unused) are empty
	// entries; 10 and 11 exist from Go 1.26.
	static const char *const names[] = {"idle", "runnable", "running", "syscall", "waiting", "",
					    "dead", "", "copystack", "preempted", "leaked", "waiting for cgo callback"};
	return s < std::size(names) ? names[s] : "???";
}

GoroutineReader::GoroutineReader(const gobinary::GoBinary &bin, const ProcessMemory &mem, uint64_t load_bias)
	: bin_(bin), mem_(mem), bias_(load_bias)
{
	// DWARF offsets, else derived from the binary, else gort's table for this minor version.
	gobinary::StructOffsets offs = gobinary::StructOffsets::of(bin);
	auto allgs = gobinary::runtime_globals__allgs(bin, offs);
	if (!allgs)
		throw UserError(ExitCode::unsupported, bin.path() + ": cannot find runtime.allgs (no symbol, and "
								    "runtime.allgadd does not show it); rebuild without -ldflags=-s");
	allgs_ = *allgs;
	allglen_ = gobinary::runtime_globals__allglen(bin, offs);
	std::optional<uint32_t> goid, status, startpc, gopc;
	for (auto [member, out] : {std::pair{"goid", &goid}, {"atomicstatus", &status}, {"startpc", &startpc}, {"gopc", &gopc}}) {
		gobinary::ResolvedOffset r = offs.resolve("runtime.g", member);
		if (!r.value)
			throw UserError(ExitCode::unsupported, fmt::format("{} ({}): cannot read goroutines without the offset of {}; "
									   "rebuild it without -ldflags='-s -w' or update gort",
									   bin.path(), bin.build_info().version.raw, r.problem));
		*out = r.value;
	}
	goid_ = *goid, status_ = *status, startpc_ = *startpc, gopc_ = *gopc;
	waitreason_ = offs.get("runtime.g", "waitreason");
	waitsince_ = offs.get("runtime.g", "waitsince");
	tracking_seq_ = offs.get("runtime.g", "trackingSeq");
	parent_ = offs.get("runtime.g", "parentGoid");  // Go 1.21+
	lockedm_ = offs.get("runtime.g", "lockedm");
	// gobuf lost its `ret` member in Go 1.25 (bp moved from +48 to +40): the layout says where.
	sched_ = offs.get("runtime.g", "sched");
	sp_ = nested(sched_, offs.get("runtime.gobuf", "sp"));
	pc_ = nested(sched_, offs.get("runtime.gobuf", "pc"));
	bp_ = nested(sched_, offs.get("runtime.gobuf", "bp"));
	if (!sp_ || !pc_)
		sched_.reset();
	syscallsp_ = offs.get("runtime.g", "syscallsp");
	syscallpc_ = offs.get("runtime.g", "syscallpc");
	syscallbp_ = offs.get("runtime.g", "syscallbp");  // Go 1.23+
	stack_ = offs.get("runtime.g", "stack");
	lo_ = nested(stack_, offs.get("runtime.stack", "lo"));
	hi_ = nested(stack_, offs.get("runtime.stack", "hi"));
	if (!lo_ || !hi_)
		stack_.reset();
	span_ = std::max({*goid + 8u, *status + 4u, *startpc + 8u, *gopc + 8u});
	for (auto o : {waitsince_, parent_, sp_, pc_, bp_, syscallsp_, syscallpc_, syscallbp_, lo_, hi_, lockedm_})
		if (o)
			span_ = std::max<size_t>(span_, *o + 8u);
	for (auto o : {waitreason_, tracking_seq_})
		if (o)
			span_ = std::max<size_t>(span_, *o + 1u);
}

bool GoroutineReader::read_one(uint64_t gp, GoroutineRecord &r) const
{
	uint8_t buf[1024];
	if (!gp || span_ > sizeof buf || !mem_.read(gp, buf, span_))
		return false;
	decode(gp, buf, r);
	return true;
}

std::vector<bool> GoroutineReader::read_batch(const std::vector<uint64_t> &gps, std::vector<GoroutineRecord> &out) const
{
	// One buffer for all, read in batches of system calls: 100k g's in ~100 calls, not 100k.
	std::vector<uint8_t> bufs(gps.size() * span_);
	std::vector<ProcessMemory::Region> regions;
	regions.reserve(gps.size());
	for (size_t i = 0; i < gps.size(); i++)
		regions.push_back({gps[i], bufs.data() + i * span_, span_});
	std::vector<bool> ok = mem_.read_many(regions);
	out.assign(gps.size(), GoroutineRecord{});
	for (size_t i = 0; i < gps.size(); i++) {
		ok[i] = ok[i] && gps[i];
		if (ok[i])
			decode(gps[i], bufs.data() + i * span_, out[i]);
	}
	return ok;
}

void GoroutineReader::decode(uint64_t gp, const uint8_t *buf, GoroutineRecord &r) const
{
	auto u64 = [&](std::optional<uint32_t> off) -> uint64_t {
		if (!off)
			return 0;
		uint64_t v;
		memcpy(&v, buf + *off, 8);
		return v;
	};
	r = GoroutineRecord{};
	r.g = gp;
	r.goid = u64(goid_);
	uint32_t st;
	memcpy(&st, buf + status_, 4);
	r.status = st & ~G_SCAN;
	r.scan = st & G_SCAN;
	uint64_t spc = u64(startpc_), cpc = u64(gopc_);
	r.startpc = spc ? spc - bias_ : 0;
	r.gopc = cpc ? cpc - bias_ : 0;
	r.waitreason = waitreason_ ? buf[*waitreason_] : 0;
	r.tracking_seq = tracking_seq_ ? buf[*tracking_seq_] : 0;
	r.waitsince = static_cast<int64_t>(u64(waitsince_));
	r.parent_goid = u64(parent_);
	r.locked_to_thread = u64(lockedm_) != 0;
	r.sched_sp = u64(sp_), r.sched_pc = u64(pc_), r.sched_bp = u64(bp_);
	r.syscall_sp = u64(syscallsp_), r.syscall_pc = u64(syscallpc_), r.syscall_bp = u64(syscallbp_);
	r.stack_lo = u64(lo_), r.stack_hi = u64(hi_);
	r.has_sched = has_stacks();
}

std::vector<GoroutineRecord> GoroutineReader::read_all() const
{
	// allgs is a []*g {ptr, len, cap}; allglen is the count published for lock-free readers
	// (proc.go allgadd: it is stored after the slice is updated), so prefer it when present.
	uint64_t hdr[3];
	if (!mem_.read(allgs_ + bias_, hdr, sizeof hdr))
		throw UserError(ExitCode::no_process, "cannot read runtime.allgs of " + bin_.path() +
							      " from the process (did it exit?)");
	uint64_t n = hdr[1];
	if (allglen_)
		if (auto v = mem_.read_u64(*allglen_ + bias_); v && *v <= hdr[1])
			n = *v;
	if (n == 0 || !hdr[0])
		return {};
	if (n > MAX_GS)
		throw UserError(ExitCode::failure, "runtime.allgs of " + bin_.path() + " reads as " + std::to_string(n) +
							   " goroutines; the memory read raced, try again");
	std::vector<uint64_t> ptrs(n);
	if (!mem_.read(hdr[0], ptrs.data(), n * sizeof(uint64_t)))
		throw UserError(ExitCode::no_process, "cannot read the goroutine list of " + bin_.path() + " (did it exit?)");
	std::vector<GoroutineRecord> recs, out;
	std::vector<bool> ok = read_batch(ptrs, recs);
	out.reserve(n);
	for (size_t i = 0; i < recs.size(); i++)
		if (ok[i])
			out.push_back(recs[i]);
	return out;
}

std::vector<GoroutineRecord> goroutine_snapshot__read(const gobinary::GoBinary &bin, const ProcessMemory &mem, uint64_t load_bias)
{
	return GoroutineReader(bin, mem, load_bias).read_all();
}

size_t goroutine_snapshot__settle(const gobinary::GoBinary &bin, const ProcessMemory &mem, uint64_t load_bias,
				  std::vector<GoroutineRecord> &records,
				  const std::function<std::set<uint64_t>()> &created_since, std::chrono::milliseconds limit)
{
	GoroutineReader reader(bin, mem, load_bias);
	std::vector<GoroutineRecord *> pending;
	for (auto &r : records)
		if (r.status == G_RUNNABLE || r.status == G_RUNNING)
			pending.push_back(&r);
	auto deadline = std::chrono::steady_clock::now() + limit;
	while (!pending.empty()) {
		std::set<uint64_t> created = created_since();
		std::erase_if(pending, [&](GoroutineRecord *r) {
			if (created.count(r->g))
				return true; // its creation was recorded: the caller leaves it out
			GoroutineRecord now;
			if (!reader.read_one(r->g, now))
				return false;
			if (r->status == G_RUNNABLE)
				return now.status != G_RUNNABLE; // it ran, so newproc.func1 passed the probe
			if (now.goid != r->goid || now.status == G_DEAD || now.status == G_IDLE) {
				// It ended. Had it ended after the start, goexit1's probe recorded it before
				// the g went dead (the caller counts it from there): allgs caught a goroutine
				// that had passed goexit1 before the probes started.
				r->status = G_DEAD;
				return true;
			}
			return now.status != G_RUNNING; // still alive: parked, in a syscall, runnable again
		});
		if (pending.empty() || std::chrono::steady_clock::now() >= deadline)
			break;
		std::this_thread::sleep_for(std::chrono::microseconds(500));
	}
	return pending.size();
}

} // namespace gort::goprocess
