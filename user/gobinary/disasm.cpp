#include "user/gobinary/disasm.h"

#include <cstring>
#include <utility>

namespace gort::gobinary {

Decoded::Decoded(Decoded &&o) noexcept { *this = std::move(o); }

Decoded &Decoded::operator=(Decoded &&o) noexcept
{
	if (this != &o) {
		reset();
		cs_ = std::exchange(o.cs_, 0);
		open_ = std::exchange(o.open_, false);
		insn_ = std::exchange(o.insn_, nullptr);
		count_ = std::exchange(o.count_, 0);
	}
	return *this;
}

Decoded::~Decoded() { reset(); }

void Decoded::reset()
{
	if (insn_)
		cs_free(insn_, count_);
	if (open_)
		cs_close(&cs_);
	insn_ = nullptr;
	count_ = 0;
	open_ = false;
}

Decoded disasm__code(const uint8_t *code, size_t len, uint64_t addr, size_t max)
{
	Decoded d;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &d.cs_) != CS_ERR_OK)
		return d;
	d.open_ = true;
	cs_option(d.cs_, CS_OPT_DETAIL, CS_OPT_ON);
	d.count_ = cs_disasm(d.cs_, code, len, addr, max, &d.insn_);
	return d;
}

Decoded disasm__function(const GoBinary &bin, const Function &f, size_t max)
{
	auto code = bin.read(f.addr, f.size);
	if (!code)
		return {};
	return disasm__code(code->data(), code->size(), f.addr, max);
}

std::optional<uint64_t> disasm__call_target(const cs_insn &in)
{
	if (in.size != 5 || in.bytes[0] != 0xe8)
		return std::nullopt;
	int32_t rel;
	memcpy(&rel, in.bytes + 1, 4);
	return in.address + 5 + static_cast<int64_t>(rel);
}

std::optional<uint64_t> disasm__rip_operand(const cs_insn &in, uint8_t k)
{
	const cs_x86 &x = in.detail->x86;
	if (k >= x.op_count || x.operands[k].type != X86_OP_MEM || x.operands[k].mem.base != X86_REG_RIP)
		return std::nullopt;
	return in.address + in.size + x.operands[k].mem.disp;
}

} // namespace gort::gobinary
