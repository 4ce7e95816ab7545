#include "user/gobinary/wrappers.h"

#include <algorithm>

#include "user/gobinary/disasm.h"
#include "user/gobinary/dwarf_index.h"
#include "user/gobinary/go_binary.h"
#include "user/gobinary/pclntab.h"

namespace gort::gobinary {

namespace {

using Trampoline = DwarfIndex::Trampoline;

// The first function a `go` wrapper calls directly (e8 rel32) outside the runtime, or "".
std::string first_call(const GoBinary &bin, const Function &f)
{
	Decoded d = disasm__function(bin, f);
	for (size_t i = 0; i < d.size(); i++) {
		auto target = disasm__call_target(d[i]);
		const Function *callee = target ? bin.function_at(*target) : nullptr;
		if (callee && callee->name.rfind("runtime.", 0) != 0)
			return std::string(callee->name);
	}
	return {};
}

// "<outer>.<tag>N": the compiler's name for the Nth closure of that kind in outer.
bool suffix_is(std::string_view name, std::string_view tag)
{
	size_t dot = name.rfind('.');
	if (dot == std::string_view::npos || name.compare(dot + 1, tag.size(), tag) != 0)
		return false;
	size_t digits = dot + 1 + tag.size();
	return digits < name.size() &&
	       std::all_of(name.begin() + digits, name.end(), [](char c) { return isdigit(static_cast<unsigned char>(c)); });
}

} // namespace

std::string wrapper__start_function(const GoBinary &bin, uint64_t startpc)
{
	const Function *f = bin.function_at(startpc);
	if (!f)
		return {};
	const std::string name(f->name);
	const DwarfIndex *dwarf = bin.dwarf();
	const Pclntab *tab = bin.pclntab();

	Trampoline trampoline = Trampoline::unknown;
	std::string inlined;
	if (dwarf && dwarf->covers(f->addr))
		trampoline = dwarf->trampoline(f->addr, &inlined);
	else if (tab) {
		// No DWARF: the pclntab's funcID says the same (the compiler marks go wrappers as
		// wrappers, which DWARF emits as DW_AT_trampoline), and its inline tree names what
		// was inlined into one.
		trampoline = bin.is_wrapper(f->addr) ? Trampoline::yes : Trampoline::no;
		if (trampoline == Trampoline::yes) {
			auto gofunc = bin.gofunc();
			const PclnFunction *pf = pclntab__function_starting(*tab, f->addr);
			if (gofunc && pf)
				inlined = pclntab__inlined_target(bin.image(), *tab, *gofunc, *pf);
		}
	}
	if (trampoline == Trampoline::no)
		return name;
	if (!inlined.empty())
		return inlined;
	if (trampoline == Trampoline::unknown) {
		// No DWARF: recognise wrappers by name. "<outer>.gowrapN" (Go >= 1.22) always is one;
		// a "<outer>.funcN" (Go <= 1.21) is one when all its code is on a single line (the go
		// statement's), whereas a closure literal has lines of its own body.
		bool wrapper = suffix_is(name, "gowrap") ||
			       (suffix_is(name, "func") && dwarf && dwarf->distinct_lines(f->addr, f->addr + f->size) == 1);
		if (!wrapper)
			return name;
	}
	std::string called = first_call(bin, *f);
	return called.empty() ? name : called;
}

} // namespace gort::gobinary
