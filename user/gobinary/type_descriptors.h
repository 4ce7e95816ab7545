// Struct layouts from the binary's own runtime type information, with no DWARF and no table.
//
// The runtime allocates g, m and p with new(T) (runtime.malg, runtime.allocm,
// runtime.procresize), which amd64 Go compiles to `lea rax, [rip+type:T]; call runtime.newobject`,
// so every Go binary, stripped or not, keeps T's type descriptor (runtime._type followed by
// structtype's pkgPath name and []structfield{name *byte, typ *_type, offset uintptr}; plain
// offsets since Go 1.19, when offsetAnon became offset). Each field's name and byte offset are
// read from it. The globals runtime.work, memstats, sched have no descriptor (they are never
// allocated with new); their members are found from code instead (runtime_globals.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "user/gobinary/go_binary.h"

namespace gort::gobinary {

struct DescribedStruct {
	uint64_t descriptor = 0;  // link-time address of the type descriptor
	std::string found_in;     // the runtime function that calls new(T) with it
	std::map<std::string, uint32_t, std::less<>> fields;  // name -> byte offset
};

// The descriptor of "runtime.g", "runtime.m" or "runtime.p" (nullopt for other types, or when
// no function that allocates one passes a struct descriptor that has T's characteristic fields).
std::optional<DescribedStruct> type_descriptors__struct(const GoBinary &bin, std::string_view type);

} // namespace gort::gobinary
