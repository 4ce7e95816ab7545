// Goroutine stacks from outside (see goroutine_stacks.h). The unwinder follows the runtime's
// own (runtime/traceback.go unwinder, Go 1.21+; gentraceback before): a frame's fp is its sp plus
// the pcsp delta at its pc plus the return address slot; the caller's pc is the word below fp.
// Frame pointers would give the same chain for Go code, but not for a g stopped in a syscall
// before Go 1.23, which saved no g.syscallbp: pcsp needs only sp and pc, which every version saves.
#include "user/goprocess/goroutine_stacks.h"

#include <time.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <unordered_map>

#include <fmt/format.h>

#include "user/common/error.h"
#include "user/gobinary/pclntab.h"
#include "user/goprocess/process.h"
#include "user/gobinary/runtime_globals.h"

namespace gort::goprocess {

namespace {

// A parked stack is read in one piece up to this size; deeper frames word by word.
constexpr uint64_t STACK_READ_MAX = 256 << 10;
// Bounds on a walk, against a stack that changes under it or is corrupt.
constexpr int MAX_PHYSICAL_FRAMES = 4096;
constexpr int MAX_INLINE_DEPTH = 256;
// Bytes of each stack read in the batched first pass (a parked stack is mostly well under this).
constexpr uint64_t STACK_PREFETCH = 2048;
// Memory for the first pass over all stacks (millions of goroutines must not mean gigabytes).
constexpr uint64_t PREFETCH_TOTAL_MAX = 64 << 20;
// How often a g that changed while read is read again before it is reported as changed.
constexpr int READ_ATTEMPTS = 4;

int64_t monotonic_ns()
{
	timespec ts{};
	clock_gettime(CLOCK_MONOTONIC, &ts);  // what the runtime's nanotime() reads (vDSO)
	return ts.tv_sec * 1'000'000'000ll + ts.tv_nsec;
}

// Functions after which the runtime's unwinder treats the caller's pc as the faulting
// instruction itself, not a return address (unwinder.next: injectedCall).
bool injected_call(const std::string &name)
{
	return name == "runtime.sigpanic" || name == "runtime.asyncPreempt" || name == "runtime.debugCallV2";
}

// runtime.isExportedRuntime (Go 1.21+ form, receivers included).
bool exported_runtime(const std::string &full)
{
	const std::string_view prefix = "runtime.";
	if (full.size() <= prefix.size() || !full.starts_with(prefix))
		return false;
	std::string_view name = std::string_view(full).substr(prefix.size()), rcvr;
	if (auto i = name.rfind('.'); i != std::string_view::npos) {
		rcvr = name.substr(0, i);
		name = name.substr(i + 1);
		if (rcvr.size() >= 3 && rcvr[0] == '(' && rcvr[1] == '*' && rcvr.back() == ')')
			rcvr = rcvr.substr(2, rcvr.size() - 3);
	}
	auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
	return !name.empty() && upper(name[0]) && (rcvr.empty() || upper(rcvr[0]));
}

// runtime.isSystemGoroutine by the start function's name: the runtime's own goroutines, which
// runtime.Stack and pprof leave out. (The finalizer goroutine counts as a user goroutine while
// it runs a finalizer; gort, which does not read fingStatus, always counts it as the runtime's.)
bool system_start(const std::string &name)
{
	return name.starts_with("runtime.") && name != "runtime.main" && name != "runtime.corostart" &&
	       name != "runtime.handleAsyncEvent";
}

bool same_context(const GoroutineRecord &a, const GoroutineRecord &b)
{
	return a.goid == b.goid && a.status == b.status && a.sched_sp == b.sched_sp && a.sched_pc == b.sched_pc &&
	       a.sched_bp == b.sched_bp && a.syscall_sp == b.syscall_sp && a.syscall_pc == b.syscall_pc &&
	       a.waitreason == b.waitreason && a.waitsince == b.waitsince && a.stack_lo == b.stack_lo &&
	       a.stack_hi == b.stack_hi && a.gopc == b.gopc && a.tracking_seq == b.tracking_seq;
}


struct SymFrame {
	GoFrame frame;
	bool wrapper = false;  // funcID wrapper (physical, or of the inlined callee)
	std::string raw;       // the symbol name, for the runtime's name tests
};

} // namespace

std::string goroutine_stacks__print_name(const std::string &name)
{
	if (name == "runtime.gopanic")
		return "panic";
	auto i = name.find('[');
	auto j = name.rfind(']');
	if (i == std::string::npos || j == std::string::npos || j <= i)
		return name;
	return name.substr(0, i) + "[...]" + name.substr(j + 1);
}

bool goroutine_stacks__shown(const std::string &name, bool wrapper, bool first, const std::string &callee)
{
	// elideWrapperCalling: a wrapper is shown only when it called into a panic.
	if (wrapper && callee != "runtime.gopanic" && callee != "runtime.sigpanic" && callee != "runtime.panicwrap")
		return false;
	if (name == "runtime.runfinq" || name == "runtime.runFinalizers" || name == "runtime.runCleanups")
		return true;
	if (name == "runtime.gopanic" && !first)
		return true;
	return name.find('.') != std::string::npos && (!name.starts_with("runtime.") || exported_runtime(name));
}

// One read_many region per goroutine (the span of its slots), or per word for a span past
// `max_span`. A g read before and after with the same status
// and saved context can still have run in between and parked at the same place again (a loop
// around wg.Wait): the words read while it ran (e.g. newproc's frame) differ from its parked
// frames' return addresses, which are back by the time the g is read again.
std::vector<bool> goroutine_stacks__slots_hold(const ProcessMemory &mem, const std::vector<std::vector<uint64_t>> &slots,
					       uint64_t max_span, uint64_t max_total)
{
	// Per goroutine: where its bytes go in `buf`, and whether its span is read whole (else
	// word by word: a deep stack, or past the memory budget).
	std::vector<size_t> at(slots.size());
	std::vector<bool> whole(slots.size(), false);
	size_t total = 0;
	for (size_t k = 0; k < slots.size(); k++) {
		at[k] = total;
		const auto &s = slots[k];
		if (s.empty())
			continue;
		uint64_t span = s[s.size() - 2] + 8 - s[0];  // unwinding walks up: addresses ascend
		whole[k] = span <= max_span && total + span <= max_total;
		total += whole[k] ? span : s.size() / 2 * 8;
	}
	std::vector<uint8_t> buf(total);
	std::vector<ProcessMemory::Region> regions;
	std::vector<size_t> first(slots.size());
	for (size_t k = 0; k < slots.size(); k++) {
		const auto &s = slots[k];
		first[k] = regions.size();
		if (s.empty())
			continue;
		if (whole[k])
			regions.push_back({s[0], buf.data() + at[k], s[s.size() - 2] + 8 - s[0]});
		else
			for (size_t i = 0; i < s.size(); i += 2)
				regions.push_back({s[i], buf.data() + at[k] + i / 2 * 8, 8});
	}
	std::vector<bool> ok = mem.read_many(regions), out(slots.size(), true);
	for (size_t k = 0; k < slots.size(); k++) {
		const auto &s = slots[k];
		for (size_t i = 0; i < s.size() && out[k]; i += 2) {
			size_t r = first[k] + (whole[k] ? 0 : i / 2);
			uint64_t off = whole[k] ? s[i] - s[0] : i / 2 * 8, v;
			if (!ok[r]) {
				out[k] = false;
				break;
			}
			memcpy(&v, buf.data() + at[k] + off, 8);
			out[k] = v == s[i + 1];
		}
	}
	return out;
}

struct GoroutineInspector::Impl {
	pid_t pid = 0;
	std::string comm;
	std::unique_ptr<gobinary::GoBinary> bin;
	std::unique_ptr<ProcessMemory> mem;
	uint64_t bias = 0;
	std::unique_ptr<GoroutineReader> reader;
	std::vector<std::string> reasons;
	const gobinary::Pclntab *tab = nullptr;
	std::optional<uint64_t> gofunc;
	std::unordered_map<uint64_t, std::vector<SymFrame>> sym_cache;  // (link pc << 1 | trap)
	std::unordered_map<uint64_t, std::optional<int32_t>> sp_cache;   // link pc
	std::unordered_map<uint64_t, std::string> start_cache;           // startpc

	[[noreturn]] void exited() const
	{
		throw UserError(ExitCode::no_process,
				fmt::format("PID {} ({}) exited while gort read its goroutines: no dump", pid, comm));
	}

	const std::vector<SymFrame> &symbolise(uint64_t lpc, bool trap, const gobinary::PclnFunction &f)
	{
		auto [it, fresh] = sym_cache.try_emplace(lpc << 1 | (trap ? 1 : 0));
		if (!fresh)
			return it->second;
		auto &out = it->second;
		// unwinder.symPC: a return address is looked up one byte back, inside the call.
		uint64_t sympc = (!trap && lpc > f.entry) ? lpc - 1 : lpc;
		std::optional<uint32_t> tree;
		if (gofunc)
			tree = pclntab__funcdata(*tab, f, gobinary::FUNCDATA_INL_TREE);
		std::optional<int32_t> idx;
		if (tree)
			idx = pclntab__pcdata(*tab, f, gobinary::PCDATA_INL_TREE_INDEX, sympc);
		uint64_t cur = sympc;
		for (int depth = 0; depth < MAX_INLINE_DEPTH; depth++) {
			SymFrame s;
			if (auto line = gobinary::pclntab__line(*tab, cur)) {
				s.frame.file = std::move(line->file);
				s.frame.line = line->line;
			} else {
				s.frame.file = "?";
			}
			s.frame.pc = lpc + bias;
			s.frame.offset = lpc - f.entry;
			std::optional<gobinary::InlinedCall> call;
			if (idx && *idx >= 0)
				call = gobinary::pclntab__inlined_call(bin->image(), *tab, *gofunc + *tree, static_cast<size_t>(*idx));
			if (!call) {
				s.raw = f.name;
				s.wrapper = tab->wrapper_func_id && f.func_id == tab->wrapper_func_id;
				s.frame.function = goroutine_stacks__print_name(s.raw);
				out.push_back(std::move(s));
				break;
			}
			const int32_t parent_pc = call->parent_pc;
			s.raw = gobinary::pclntab__name(*tab, call->name_off);
			s.wrapper = tab->wrapper_func_id && call->func_id == tab->wrapper_func_id;
			s.frame.function = goroutine_stacks__print_name(s.raw);
			s.frame.inlined = true;
			out.push_back(std::move(s));
			if (parent_pc < 0 || static_cast<uint64_t>(parent_pc) >= f.end - f.entry)
				break;
			cur = f.entry + static_cast<uint64_t>(parent_pc);
			idx = pclntab__pcdata(*tab, f, gobinary::PCDATA_INL_TREE_INDEX, cur);
		}
		return out;
	}

	std::optional<int32_t> spdelta(uint64_t lpc, const gobinary::PclnFunction &f)
	{
		auto [it, fresh] = sp_cache.try_emplace(lpc);
		if (fresh)
			it->second = pclntab__spdelta(*tab, f, lpc);
		return it->second;
	}

	// Where unwinding starts: traceback(^0, ^0, 0, gp) in tracebackothers uses the syscall
	// context if there is one.
	static std::pair<uint64_t, uint64_t> start_of(const GoroutineRecord &r)
	{
		return r.syscall_sp ? std::pair{r.syscall_pc, r.syscall_sp} : std::pair{r.sched_pc, r.sched_sp};
	}

	// Unwinds one g from its saved context. Stale (if the g runs meanwhile) but never unbounded.
	// `pre`: the stack's first bytes from sp, already read (a batch read), or empty.
	// `frames` gets the (link pc << 1 | trap) of every physical frame: the symbolise() keys;
	// `slots` the address and value of every return address read (the pcsp deltas follow from
	// the pcs, so these words and the saved context decide the whole chain): see goroutine_stacks__slots_hold.
	StackState unwind(const GoroutineRecord &r, std::vector<uint64_t> &frames, std::vector<uint64_t> &slots,
			  std::span<const uint8_t> pre = {})
	{
		frames.clear();
		slots.clear();
		if (r.status == G_RUNNING)
			return StackState::running;
		if (r.status == G_COPYSTACK)
			return StackState::changed;  // its stack is being moved right now
		auto [pc, sp] = start_of(r);
		if (!pc || !sp)
			return StackState::none;
		if (sp < r.stack_lo || sp >= r.stack_hi)
			return StackState::changed;
		std::vector<uint8_t> own;
		std::span<const uint8_t> stack = pre;
		if (stack.empty()) {
			own.resize(std::min(r.stack_hi - sp, STACK_READ_MAX));
			if (!mem->read(sp, own.data(), own.size()))
				return StackState::changed;
			stack = own;
		}
		const uint64_t base = sp;
		auto word = [&](uint64_t addr) -> std::optional<uint64_t> {
			if (addr >= base && addr + 8 <= base + stack.size()) {
				uint64_t v;
				memcpy(&v, stack.data() + (addr - base), 8);
				return v;
			}
			return mem->read_u64(addr);
		};
		bool trap = false;
		for (int n = 0; n < MAX_PHYSICAL_FRAMES; n++) {
			if (pc < bias)
				return StackState::truncated;
			uint64_t lpc = pc - bias;
			const gobinary::PclnFunction *f = gobinary::pclntab__function_at(*tab, lpc);
			if (!f)
				return StackState::truncated;
			symbolise(lpc, trap, *f);
			frames.push_back(lpc << 1 | (trap ? 1 : 0));
			if (f->flag & gobinary::FUNC_FLAG_TOP_FRAME)
				return StackState::ok;  // runtime.goexit: where every goroutine's stack starts
			auto delta = spdelta(lpc, *f);
			if (!delta || *delta < 0)
				return StackState::truncated;
			uint64_t fp = sp + static_cast<uint64_t>(*delta) + 8;
			if (fp > r.stack_hi)
				return StackState::truncated;
			auto lr = word(fp - 8);
			if (!lr)
				return StackState::truncated;
			slots.push_back(fp - 8);
			slots.push_back(*lr);
			if (*lr == 0)
				return StackState::ok;
			trap = injected_call(std::string(f->name));
			pc = *lr;
			sp = fp;
		}
		return StackState::truncated;
	}

	// The printed frames of a stack, built once per distinct stack and shared by every goroutine
	// parked at it (100k goroutines at a few stacks cost a few frame lists, not 100k).
	std::unordered_map<std::string, std::shared_ptr<const std::vector<GoFrame>>> stack_cache;

	std::shared_ptr<const std::vector<GoFrame>> frames_of(const std::vector<uint64_t> &keys)
	{
		std::string key(reinterpret_cast<const char *>(keys.data()), keys.size() * sizeof(uint64_t));
		auto [it, fresh] = stack_cache.try_emplace(std::move(key));
		if (!fresh)
			return it->second;
		auto out = std::make_shared<std::vector<GoFrame>>();
		bool first_shown = true;
		std::string callee;
		for (uint64_t k : keys)
			for (const SymFrame &s : sym_cache.at(k)) {
				GoFrame f = s.frame;
				// traceback.go showframe at level 1, in order: whether anything was printed
				// yet, and what the frame called (its inner neighbour, shown or not).
				f.shown = goroutine_stacks__shown(s.raw, s.wrapper, first_shown, callee);
				if (f.shown)
					first_shown = false;
				callee = s.raw;
				out->push_back(std::move(f));
			}
		// traceback1: a goroutine with no frame to show is printed again with the runtime's.
		if (std::none_of(out->begin(), out->end(), [](const GoFrame &f) { return f.shown; }))
			for (auto &f : *out)
				f.shown = true;
		// The runtime's frame limit: Go 1.21+ prints the innermost 50 and outermost 50 of more
		// than 100 (traceback1's tracebackInnerFrames/OuterFrames); before, what the first 100
		// physical frames hold (_TracebackMaxFrames), and "...additional frames elided..." when
		// that made 100 printed ones.
		std::vector<GoFrame *> shown;
		for (auto &f : *out)
			if (f.shown)
				shown.push_back(&f);
		if (bin->build_info().version.at_least(1, 21)) {
			if (shown.size() > 100)
				for (size_t i = 50; i < shown.size() - 50; i++)
					shown[i]->elided = true;
		} else {
			// gentraceback's limit counts physical frames, printed or not.
			size_t physical = 0;
			for (auto &f : *out) {
				f.elided = f.shown && physical >= 100;
				physical += f.inlined ? 0 : 1;
			}
		}
		it->second = out;
		return out;
	}

	std::string start_name(uint64_t startpc)
	{
		auto [it, fresh] = start_cache.try_emplace(startpc);
		if (fresh)
			if (const gobinary::PclnFunction *f = gobinary::pclntab__function_at(*tab, startpc))
				it->second = f->name;
		return it->second;
	}

	void describe(GoroutineInfo &gi, int64_t now)
	{
		const GoroutineRecord &r = gi.rec;
		gi.waiting = r.status == G_WAITING || r.status == G_LEAKED;
		gi.leaked = r.status == G_LEAKED;
		gi.status = goroutine__status_name(r.status);
		if (gi.waiting && r.waitreason != 0) {
			gi.wait_reason = r.waitreason < reasons.size() ? reasons[r.waitreason] : "unknown wait reason";
			gi.status = gi.wait_reason;
		}
		if ((r.status == G_WAITING || r.status == G_SYSCALL) && r.waitsince != 0)
			gi.wait_ns = std::max<int64_t>(0, now - r.waitsince);
		std::string start = start_name(r.startpc);
		gi.system = system_start(start);
		gi.start_function = goroutine_stacks__print_name(start);
		// printcreatedby: the physical function holding gopc, its line one byte back.
		CreatedBy &c = gi.created_by;
		c.parent_goid = r.parent_goid;
		if (const gobinary::PclnFunction *f = r.gopc ? gobinary::pclntab__function_at(*tab, r.gopc) : nullptr) {
			c.known = true;
			c.function = goroutine_stacks__print_name(std::string(f->name));
			bool wrapper = tab->wrapper_func_id && f->func_id == tab->wrapper_func_id;
			c.shown = r.goid != 1 && goroutine_stacks__shown(std::string(f->name), wrapper, false, "");
			uint64_t tracepc = r.gopc > f->entry ? r.gopc - 1 : r.gopc;
			c.offset = r.gopc - f->entry;
			if (auto line = gobinary::pclntab__line(*tab, tracepc)) {
				c.file = line->file;
				c.line = line->line;
			} else {
				c.file = "?";
			}
		}
	}
};

GoroutineInspector::GoroutineInspector(pid_t pid) : impl_(std::make_unique<Impl>())
{
	Impl &m = *impl_;
	m.pid = pid;
	ProcessInfo info = process__info(pid);
	m.comm = info.comm;
	if (info.kernel_thread)
		throw UserError(ExitCode::unsupported,
				fmt::format("PID {} ({}) is a kernel thread, not a Go program: find Go processes with gort ps", pid, info.comm));
	try {
		m.bin = gobinary::GoBinary::open(fmt::format("/proc/{}/exe", pid));
		m.mem = std::make_unique<ProcessMemory>(pid);
		m.bias = process__load_bias(pid, m.bin->first_load_vaddr());
		m.reader = std::make_unique<GoroutineReader>(*m.bin, *m.mem, m.bias);
	} catch (const UserError &e) {
		if (!process__alive(pid))
			m.exited();
		throw UserError(e.code(), fmt::format("PID {} ({}): {}", pid, info.comm, e.what()));
	}
	const std::string &v = m.bin->build_info().version.raw;
	m.tab = m.bin->pclntab();
	if (!m.tab)
		throw UserError(ExitCode::unsupported,
				fmt::format("PID {} ({}, {}): no Go function table (.gopclntab) found in its binary", pid, info.comm, v));
	if (!m.reader->has_stacks())
		throw UserError(ExitCode::unsupported,
				fmt::format("PID {} ({}, {}): the layout of g.sched and g.stack is unknown (no DWARF, and not in "
					    "gort's offsets table); rebuild without -ldflags=-w or update gort",
					    pid, info.comm, v));
	m.reasons = gobinary::runtime_globals__wait_reason_strings(*m.bin);
	if (m.reasons.size() < 3)
		throw UserError(ExitCode::unsupported,
				fmt::format("PID {} ({}, {}): runtime.waitReasonStrings not found in its binary", pid, info.comm, v));
	m.gofunc = m.bin->gofunc();
}

GoroutineInspector::~GoroutineInspector() = default;

GoroutineDump GoroutineInspector::dump()
{
	Impl &m = *impl_;
	GoroutineDump d;
	d.pid = m.pid;
	d.go_version = m.bin->build_info().version.raw;
	d.binary = m.bin->path();
	d.taken_ns = monotonic_ns();
	std::vector<GoroutineRecord> recs;
	try {
		recs = m.reader->read_all();
	} catch (const UserError &e) {
		if (!process__alive(m.pid))
			m.exited();
		throw;
	}
	// Batched: the first bytes of every stack in one pass, then every g again in one pass; a g
	// whose status or saved context moved between the two is read again on its own.
	std::vector<size_t> live;
	for (size_t i = 0; i < recs.size(); i++)
		if (goroutine__alive(recs[i]))
			live.push_back(i);
	std::vector<size_t> pre_at(live.size(), 0), pre_len(live.size(), 0);
	std::vector<ProcessMemory::Region> regions;
	size_t total = 0;
	for (size_t k = 0; k < live.size(); k++) {
		const GoroutineRecord &r = recs[live[k]];
		auto [pc, sp] = Impl::start_of(r);
		if (r.status == G_RUNNING || !pc || !sp || sp < r.stack_lo || sp >= r.stack_hi || total >= PREFETCH_TOTAL_MAX)
			continue;  // past the budget, a stack is read when it is unwound
		pre_at[k] = total;
		pre_len[k] = std::min<uint64_t>(r.stack_hi - sp, STACK_PREFETCH);
		total += pre_len[k];
	}
	std::vector<uint8_t> pre(total);
	std::vector<size_t> region_of(live.size(), SIZE_MAX);
	for (size_t k = 0; k < live.size(); k++)
		if (pre_len[k]) {
			region_of[k] = regions.size();
			regions.push_back({Impl::start_of(recs[live[k]]).second, pre.data() + pre_at[k], pre_len[k]});
		}
	std::vector<bool> pre_ok = m.mem->read_many(regions);

	std::vector<std::vector<uint64_t>> frames(live.size()), slots(live.size());
	std::vector<StackState> states(live.size());
	for (size_t k = 0; k < live.size(); k++) {
		std::span<const uint8_t> mine;
		if (region_of[k] != SIZE_MAX && pre_ok[region_of[k]])
			mine = std::span<const uint8_t>(pre.data() + pre_at[k], pre_len[k]);
		states[k] = m.unwind(recs[live[k]], frames[k], slots[k], mine);
	}
	// The words first, the g last: a g unchanged after its words were checked did not run
	// between the stack read and that check.
	std::vector<bool> held = goroutine_stacks__slots_hold(*m.mem, slots, STACK_READ_MAX, PREFETCH_TOTAL_MAX);
	std::vector<uint64_t> gps;
	for (size_t i : live)
		gps.push_back(recs[i].g);
	std::vector<GoroutineRecord> again;
	std::vector<bool> again_ok = m.reader->read_batch(gps, again);

	size_t unreadable = 0;
	for (size_t k = 0; k < live.size(); k++) {
		GoroutineRecord r = recs[live[k]];
		StackState state = states[k];
		std::vector<uint64_t> &fr = frames[k];
		bool stable = again_ok[k] && held[k] && same_context(r, again[k]);
		if (!again_ok[k])
			unreadable++;
		else
			r = again[k];
		for (int attempt = 1; attempt < READ_ATTEMPTS && !stable && again_ok[k]; attempt++) {
			state = m.unwind(r, fr, slots[k]);
			bool words = goroutine_stacks__slots_hold(*m.mem, {slots[k]}, STACK_READ_MAX, PREFETCH_TOTAL_MAX)[0];
			GoroutineRecord next;
			if (!m.reader->read_one(r.g, next)) {
				unreadable++;
				break;
			}
			stable = words && same_context(r, next);
			r = next;
		}
		if (!goroutine__alive(r))
			continue;  // it ended while read
		if (!stable) {
			state = StackState::changed;
			fr.clear();
			d.changed++;
		}
		GoroutineInfo gi;
		gi.rec = r;
		gi.state = state;
		gi.stack = m.frames_of(fr);
		size_t elided = std::count_if(gi.stack->begin(), gi.stack->end(), [](const GoFrame &f) { return f.elided; });
		size_t shown = std::count_if(gi.stack->begin(), gi.stack->end(), [](const GoFrame &f) { return f.shown; });
		if (m.bin->build_info().version.at_least(1, 21)) {
			if (elided)
				gi.elision = fmt::format("...{} frames elided...", elided);
		} else if (shown - elided == 100) {
			gi.elision = "...additional frames elided...";  // printed when 100 were printed
		}
		m.describe(gi, d.taken_ns);
		d.goroutines.push_back(std::move(gi));
	}
	// Reads that failed because the process ended make the dump incomplete: no dump at all.
	if (unreadable || !process__alive(m.pid)) {
		if (!process__alive(m.pid))
			m.exited();
		throw UserError(ExitCode::failure, fmt::format("PID {}: {} goroutines could not be read from its memory; "
							       "try again", m.pid, unreadable));
	}
	if (d.goroutines.empty())
		throw UserError(ExitCode::unsupported,
				fmt::format("PID {} ({}): no goroutines yet (its Go runtime has not started); try again", m.pid,
					    m.comm));
	return d;
}

} // namespace gort::goprocess
