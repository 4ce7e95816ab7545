#include "user/session/sources.h"

#include <filesystem>

#include <fmt/format.h>

namespace gort::session {

SiteNames BinarySymbols::site(uint64_t startpc_rt, uint64_t gopc_rt) const
{
	std::pair<uint64_t, uint64_t> key{startpc_rt - load_bias_, gopc_rt ? gopc_rt - load_bias_ : 0};
	auto it = cache_->names.find(key);
	if (it == cache_->names.end())
		it = cache_->names.emplace(key, resolve(startpc_rt, gopc_rt)).first;
	return it->second;
}

SiteNames BinarySymbols::resolve(uint64_t startpc_rt, uint64_t gopc_rt) const
{
	SiteNames n;
	uint64_t startpc = startpc_rt - load_bias_;
	const gobinary::Function *start = binary_->function_at(startpc);
	n.system = start && gobinary::runtime_layout__is_system_function(start->name);
	n.function = binary_->start_function(startpc);
	if (n.function.empty())
		n.function = fmt::format("{:#x}", startpc_rt);
	// The main goroutine (runtime.main, started by rt0_go through newproc) has no "created by"
	// line in the runtime's own traceback (traceback.go printcreatedby: goid 1 is skipped).
	bool main_goroutine = start && start->name == "runtime.main";
	if (gopc_rt && !main_goroutine) {
		// gopc is the return address of the call into newproc; like the runtime's "created by"
		// traceback, look up the instruction before it to get the go statement's line.
		gobinary::SourceLocation loc = binary_->locate(gopc_rt - load_bias_ - 1);
		n.created_by = loc.function;
		if (!loc.file.empty())
			n.created_at = fmt::format("{}:{}", std::filesystem::path(loc.file).filename().string(), loc.line);
	}
	return n;
}

std::string BinarySymbols::stw_reason(uint32_t reason) const
{
	return gobinary::runtime_layout__stw_reason(layout_, reason);
}

} // namespace gort::session
