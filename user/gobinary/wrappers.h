// Compiler-generated wrappers between a goroutine and the function it runs: a `go f(x)`
// statement starts a closure (funcN up to Go 1.21, gowrapN from 1.22) that calls, or has
// inlined, f. Views name goroutines by f, as the runtime's own traceback does not.
#pragma once

#include <cstdint>
#include <string>

namespace gort::gobinary {

class GoBinary;

// The function a goroutine started at `startpc` really runs: if startpc is a compiler `go`
// wrapper (DWARF's DW_AT_trampoline or the pclntab's FuncIDWrapper; without either, a name
// ending in ".gowrapN", or a ".funcN" whose every line is the go statement's line), the function
// it inlined or first calls outside the runtime; otherwise the function at startpc.
std::string wrapper__start_function(const GoBinary &bin, uint64_t startpc);

} // namespace gort::gobinary
