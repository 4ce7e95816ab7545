// One x86-64 decoder (capstone, detail on) for every reader of Go machine code in user/gobinary/:
// probe placement, the addresses of runtime globals, the type descriptors new(T) is called
// with, and go-statement wrappers. It owns the handle and the decoded instructions.
#pragma once

#include <capstone/capstone.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "user/gobinary/go_binary.h"

namespace gort::gobinary {

class Decoded {
public:
	Decoded() = default;
	Decoded(Decoded &&o) noexcept;
	Decoded &operator=(Decoded &&o) noexcept;
	Decoded(const Decoded &) = delete;
	Decoded &operator=(const Decoded &) = delete;
	~Decoded();

	// False when the code could not be read or capstone could not be opened.
	bool ok() const { return open_; }
	size_t size() const { return count_; }
	const cs_insn &operator[](size_t i) const { return insn_[i]; }
	csh handle() const { return cs_; }

private:
	friend Decoded disasm__code(const uint8_t *code, size_t len, uint64_t addr, size_t max);
	void reset();
	csh cs_ = 0;
	bool open_ = false;
	cs_insn *insn_ = nullptr;
	size_t count_ = 0;
};

// Decodes up to `max` instructions (0: all) of `len` bytes at link-time address `addr`.
Decoded disasm__code(const uint8_t *code, size_t len, uint64_t addr, size_t max = 0);
// The code of `f` read from the binary.
Decoded disasm__function(const GoBinary &bin, const Function &f, size_t max = 0);

// Target of a `call rel32` (e8, the only call Go emits to a known function), or nullopt.
std::optional<uint64_t> disasm__call_target(const cs_insn &in);
// The address a RIP-relative memory operand `k` of `in` refers to (how amd64 Go code addresses
// globals and type descriptors), or nullopt.
std::optional<uint64_t> disasm__rip_operand(const cs_insn &in, uint8_t k);

} // namespace gort::gobinary
