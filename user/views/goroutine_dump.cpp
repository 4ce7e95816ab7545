#include "user/views/goroutine_dump.h"

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

namespace gort::views {

namespace {

using goprocess::GoroutineDump;
using goprocess::GoroutineGroup;
using goprocess::GoroutineInfo;
using goprocess::StackState;

// traceback.go goroutineheader at level 1: status, " (leaked)", " (scan)", minutes (only from
// one whole minute, only while waiting or in a syscall), ", locked to thread".
void header(std::ostream &out, const GoroutineInfo &g)
{
	out << "goroutine " << g.rec.goid << " [" << g.status;
	if (g.leaked)
		out << " (leaked)";
	if (g.rec.scan)
		out << " (scan)";
	if (g.wait_ns >= 60'000'000'000ll)
		out << ", " << g.wait_ns / 60'000'000'000ll << " minutes";
	if (g.rec.locked_to_thread)
		out << ", locked to thread";
	out << "]:\n";
}

void created_by(std::ostream &out, const GoroutineInfo &g, bool runtime)
{
	const auto &c = g.created_by;
	if (!c.known || !(c.shown || (runtime && g.rec.goid != 1)))
		return;
	out << "created by " << c.function;
	if (c.parent_goid)
		out << " in goroutine " << c.parent_goid;
	out << "\n\t" << c.file << ":" << c.line;
	if (c.offset)
		out << fmt::format(" +{:#x}", c.offset);
	out << "\n";
}

// Returns whether it printed the runtime's elision line.
bool frames(std::ostream &out, const GoroutineInfo &g, bool runtime)
{
	bool elision_printed = false;
	for (const auto &f : g.frames()) {
		if (!f.shown && !runtime)
			continue;
		// The runtime's frame limit applies to its own format; --runtime prints every frame.
		if (f.elided && !runtime) {
			if (!elision_printed && !g.elision.empty())
				out << g.elision << "\n";
			elision_printed = !g.elision.empty();
			continue;
		}
		// Arguments are not read: "(...)", the runtime's own notation for unknown ones.
		out << f.function << "(...)\n\t" << f.file << ":" << f.line;
		if (!f.inlined && f.offset)
			out << fmt::format(" +{:#x}", f.offset);
		out << "\n";
	}
	return elision_printed;
}

const char *state_name(StackState s)
{
	switch (s) {
	case StackState::ok: return "ok";
	case StackState::running: return "running";
	case StackState::changed: return "changed";
	case StackState::truncated: return "truncated";
	case StackState::none: return "none";
	}
	return "?";
}

void stack_body(std::ostream &out, const GoroutineInfo &g, bool runtime)
{
	switch (g.state) {
	case StackState::running:
		// tracebackothers' own words for a goroutine on another thread.
		out << "\tgoroutine running on other thread; stack unavailable\n";
		break;
	case StackState::changed:
		out << "\tgoroutine changed while gort read it; stack unavailable\n";
		break;
	case StackState::none:
		out << "\tgoroutine has no saved stack context; stack unavailable\n";
		break;
	case StackState::truncated:
		frames(out, g, runtime);
		out << "\t...stack truncated: gort could not unwind further...\n";
		break;
	case StackState::ok: {
		bool printed = frames(out, g, runtime);
		// Before Go 1.21 the line follows the 100th printed frame, whatever comes after it.
		if (!printed && !g.elision.empty() && !runtime)
			out << g.elision << "\n";
		break;
	}
	}
	created_by(out, g, runtime);
}

nlohmann::json frame_json(const goprocess::GoFrame &f)
{
	return {{"function", f.function}, {"file", f.file},       {"line", f.line},
		{"inlined", f.inlined},   {"pc", f.pc},           {"offset", f.offset},
		{"runtime_hidden", !f.shown}};
}

nlohmann::json goroutine_json(const GoroutineInfo &g, bool runtime, bool with_frames = true)
{
	nlohmann::json j = {
		{"goid", g.rec.goid},
		{"status", g.status},
		{"state", state_name(g.state)},
		{"wait_reason", g.wait_reason},
		{"wait_ns", g.wait_ns},
		{"leaked", g.leaked},
		{"system", g.system},
		{"locked_to_thread", g.rec.locked_to_thread},
		{"start_function", g.start_function},
	};
	if (with_frames) {
		nlohmann::json frames = nlohmann::json::array();
		for (const auto &f : g.frames())
			if (f.shown || runtime)
				frames.push_back(frame_json(f));
		j["frames"] = std::move(frames);
	}
	const auto &c = g.created_by;
	if (c.known)
		j["created_by"] = {{"function", c.function}, {"file", c.file}, {"line", c.line}, {"parent_goid", c.parent_goid}};
	return j;
}

std::string growth(const GoroutineGroup &g)
{
	if (!g.before)
		return "";
	size_t now = g.members.size(), was = *g.before;
	if (now > was)
		return fmt::format("growing: {} -> {} (+{})", was, now, now - was);
	if (now < was)
		return fmt::format("shrinking: {} -> {}", was, now);
	return fmt::format("stable at {}", now);
}

} // namespace

std::string format__wait_age(int64_t ns)
{
	if (ns < 0)
		return "unknown";
	int64_t s = ns / 1'000'000'000;
	if (s < 60)
		return fmt::format("{}s", s);
	if (s < 3600)
		return fmt::format("{}m", s / 60);
	return fmt::format("{}h{:02}m", s / 3600, s / 60 % 60);
}

void goroutine_dump__text(std::ostream &out, const GoroutineDump &d, bool runtime)
{
	bool first = true;
	for (const auto &g : d.goroutines) {
		if (g.system && !runtime)
			continue;
		if (!first)
			out << "\n";
		first = false;
		header(out, g);
		stack_body(out, g, runtime);
	}
}

void goroutine_dump__groups(std::ostream &out, const GoroutineDump &d, const std::vector<GoroutineGroup> &groups, bool runtime)
{
	size_t total = 0;
	for (const auto &g : groups)
		total += g.members.size();
	out << "goroutine profile: total " << total << "\n";
	for (const auto &grp : groups) {
		const GoroutineInfo &g = d.goroutines[grp.members.front()];
		out << grp.members.size() << " @";
		for (const auto &f : g.frames())
			if (!f.inlined)
				out << fmt::format(" {:#x}", f.pc);
		out << "  # [" << grp.status << "]";
		if (grp.oldest_wait_ns >= 0)
			out << " oldest " << format__wait_age(grp.oldest_wait_ns);
		out << "\n";
		if (g.state != StackState::ok && g.state != StackState::truncated) {
			out << "#\t" << state_name(g.state) << ": stack unavailable\n\n";
			continue;
		}
		for (const auto &f : g.frames())
			if (f.shown || runtime)
				out << fmt::format("#\t{:#x}\t{}+{:#x}\t{}:{}\n", f.pc - (f.inlined ? 0 : 1), f.function, f.offset,
						   f.file, f.line);
		const auto &c = g.created_by;
		if (c.known && c.shown)
			out << fmt::format("#\tcreated by {}\t{}:{}\n", c.function, c.file, c.line);
		out << "\n";
	}
}

void goroutine_dump__leaks(std::ostream &out, const GoroutineDump &d, const std::vector<GoroutineGroup> &groups, int64_t watch_ns)
{
	out << fmt::format("PID {} ({}): {} groups of goroutines parked in the same wait at the same stack", d.pid,
			   d.go_version, groups.size());
	if (watch_ns > 0)
		out << ", watched for " << format__wait_age(watch_ns);
	out << "\n";
	for (const auto &grp : groups) {
		const GoroutineInfo &g = d.goroutines[grp.members.front()];
		out << "\n" << grp.members.size() << " goroutines [" << grp.status << "]";
		out << ", oldest wait " << (grp.oldest_wait_ns >= 0 ? format__wait_age(grp.oldest_wait_ns) : "unknown (no GC since they parked)");
		if (grp.leaked)
			out << ", " << grp.leaked << " marked leaked by the runtime";
		if (auto s = growth(grp); !s.empty())
			out << ", " << s;
		out << fmt::format(", goroutines {}", g.rec.goid);
		if (grp.members.size() > 1)
			out << fmt::format("..{}", d.goroutines[grp.members.back()].rec.goid);
		out << "\n";
		frames(out, g, false);
		created_by(out, g, false);
	}
}

void goroutine_dump__json(std::ostream &out, const GoroutineDump &d, bool runtime)
{
	// Streamed, and each distinct stack's frames serialised once: 100k goroutines parked at a
	// few stacks are 100k small objects, not one 100k-element document built in memory.
	nlohmann::json head = {{"pid", d.pid}, {"go_version", d.go_version}, {"changed", d.changed}};
	std::string h = head.dump();
	h.pop_back();
	out << h << ",\"goroutines\":[";
	std::unordered_map<const void *, std::string> frames_json;
	bool first = true;
	for (const auto &g : d.goroutines) {
		if (g.system && !runtime)
			continue;
		auto [it, fresh] = frames_json.try_emplace(g.stack.get());
		if (fresh) {
			nlohmann::json frames = nlohmann::json::array();
			for (const auto &f : g.frames())
				if (f.shown || runtime)
					frames.push_back(frame_json(f));
			it->second = frames.dump();
		}
		nlohmann::json j = goroutine_json(g, runtime, false);
		std::string text = j.dump();
		text.pop_back();
		out << (first ? "" : ",") << text << ",\"frames\":" << it->second << "}";
		first = false;
	}
	out << "]}\n";
}

nlohmann::json goroutine_dump__leaks_json(const GoroutineDump &d, const std::vector<GoroutineGroup> &groups, int64_t watch_ns)
{
	nlohmann::json out = nlohmann::json::array();
	for (const auto &grp : groups) {
		nlohmann::json goids = nlohmann::json::array();
		for (size_t i : grp.members)
			goids.push_back(d.goroutines[i].rec.goid);
		nlohmann::json j = goroutine_json(d.goroutines[grp.members.front()], false);
		j.erase("goid");
		j["count"] = grp.members.size();
		j["goids"] = goids;
		j["oldest_wait_ns"] = grp.oldest_wait_ns;
		j["leaked"] = grp.leaked;
		if (grp.before)
			j["count_before"] = *grp.before;
		out.push_back(std::move(j));
	}
	return {{"pid", d.pid}, {"go_version", d.go_version}, {"watch_ns", watch_ns}, {"groups", out}};
}

} // namespace gort::views
