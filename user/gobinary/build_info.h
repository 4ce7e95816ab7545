// The Go version and build flags of an executable, from its .go.buildinfo section (what
// `go version -m` prints) and its ELF headers.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "user/gobinary/elf_image.h"

namespace gort::gobinary {

struct GoVersion {
	int major = 0, minor = 0, patch = 0;
	std::string raw;  // as in buildinfo, e.g. "go1.27.3" or "go1.21.0 X:loopvar"
	bool at_least(int maj, int min) const { return major > maj || (major == maj && minor >= min); }
};

// "go1.21.13", "go1.21.0 X:loopvar", "go1.22rc1", "devel go1.27-abcdef ..." -> numbers.
GoVersion go_version__parse(const std::string &raw);

struct BuildInfo {
	GoVersion version;
	std::string main_path;   // "path" line of modinfo (may be empty)
	std::string modinfo;     // the whole modinfo text
	bool cgo = false;        // build CGO_ENABLED=1 and the binary links libc / has runtime.tlsg
	bool pie = false;        // ELF type ET_DYN
	bool stripped = false;   // no .symtab
	bool has_dwarf = false;
	bool pgo = false;        // a "build\t-pgo=" line with a non-"off" value
	bool static_link = false; // no PT_INTERP: needs no dynamic loader
};

// Reads .go.buildinfo and the ELF facts of `image` (has_dwarf is left to the DWARF reader).
// `has_symbol` says whether a function or data symbol exists (from .symtab or the pclntab).
// Throws UserError(unsupported) when the section is missing ("not a Go program") or unreadable.
BuildInfo build_info__read(const ElfImage &image, const std::function<bool(std::string_view)> &has_symbol);

} // namespace gort::gobinary
