// The ELF file of one executable as gort reads it: program and section headers, .symtab, the
// R_X86_64_RELATIVE relocations of a PIE, and bytes at link-time addresses.
//
// The file is not kept in memory. A 100 MB Go binary is mostly code and tables gort never
// looks at again once its symbols are extracted, so headers and .symtab are indexed at open
// (libelf in ELF_C_READ mode: it preads what it is asked for, it maps nothing), bytes are
// pread from the open descriptor when asked for, and the one table later phases read all over
// (the pclntab) is a read-only file mapping whose pages are dropped after indexing
// (FileView::release): the page cache keeps them, gort's RSS does not.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

typedef struct Elf Elf;

namespace gort::gobinary {

struct Segment {
	uint64_t vaddr = 0, memsz = 0, offset = 0, filesz = 0, align = 0;
	uint32_t flags = 0;  // PF_R, PF_W, PF_X
};

struct Section {
	uint64_t addr = 0, offset = 0, size = 0;
	bool nobits = false;  // SHT_NOBITS: no bytes in the file (.bss)
};

struct ElfSymbol {
	std::string_view name;  // into libelf's copy of .strtab, alive as long as the image
	uint64_t value = 0, size = 0;
	unsigned char type = 0;  // STT_FUNC, STT_OBJECT, ...
};

// A read-only, private mapping of a range of the file. Touched pages count in the process's
// RSS until release() drops them (MADV_DONTNEED on a clean file mapping: later reads fault
// them back in from the page cache, nothing is lost).
class FileView {
public:
	FileView(int fd, uint64_t offset, uint64_t len);  // empty view if mmap fails
	~FileView();
	FileView(const FileView &) = delete;
	FileView &operator=(const FileView &) = delete;
	std::span<const uint8_t> bytes() const { return bytes_; }
	void release() const;

private:
	void *map_ = nullptr;
	size_t map_len_ = 0;
	std::span<const uint8_t> bytes_;
};

class ElfImage {
public:
	// Opens and indexes the headers. Throws UserError with a one-line reason when the file
	// cannot be opened, is not an ELF, not 64-bit or not x86-64.
	explicit ElfImage(const std::string &path);
	~ElfImage();
	ElfImage(const ElfImage &) = delete;
	ElfImage &operator=(const ElfImage &) = delete;

	const std::string &path() const { return path_; }
	bool pie() const { return pie_; }                // ET_DYN
	bool has_interp() const { return interp_; }      // PT_INTERP: needs the dynamic loader
	const std::vector<Segment> &loads() const { return loads_; }  // PT_LOADs by vaddr
	const std::optional<Segment> &tls() const { return tls_; }
	std::optional<Section> section(std::string_view name) const;
	// libelf's handle (for libdw); valid as long as the image.
	Elf *elf() const { return elf_; }

	// .symtab's named symbols, locals too (closures such as runtime.newproc.func1 are
	// STB_LOCAL), in table order; empty when stripped.
	const std::vector<ElfSymbol> &symtab() const { return symtab_; }

	// Bytes of a section / of the file image at a link-time address (from the PT_LOAD holding
	// it; bytes of .bss read as zero). nullopt if not covered or unreadable.
	std::optional<std::vector<uint8_t>> section_bytes(std::string_view name) const;
	std::optional<std::vector<uint8_t>> read(uint64_t vaddr, size_t len) const;
	// The pointer stored at a link-time address as the process sees it before load bias: the
	// file's bytes, or a PIE's R_X86_64_RELATIVE addend where the file holds 0.
	std::optional<uint64_t> pointer_at(uint64_t vaddr) const;
	// R_X86_64_RELATIVE relocations (r_offset -> addend), read on first use.
	const std::unordered_map<uint64_t, uint64_t> &relative_relocs() const;
	// A read-only mapping of [offset, offset + len) of the file.
	std::shared_ptr<const FileView> view(uint64_t offset, uint64_t len) const;
	// Visits the file bytes of [vaddr, vaddr + len) within one PT_LOAD in windows of a few MB
	// (each overlapping the previous by `overlap` bytes, for patterns across a boundary) until
	// visit(bytes, vaddr of bytes[0]) returns false. Heap use stays one window however large
	// the range.
	void scan(const Segment &seg, size_t overlap,
		  const std::function<bool(std::span<const uint8_t>, uint64_t)> &visit) const;

private:
	bool pread_all(uint64_t offset, void *out, size_t len) const;
	void index_segments();
	void index_sections();

	std::string path_;
	int fd_ = -1;
	Elf *elf_ = nullptr;
	uint64_t file_size_ = 0;
	bool pie_ = false, interp_ = false;
	std::vector<Segment> loads_;
	std::optional<Segment> tls_;
	std::map<std::string, Section, std::less<>> sections_;
	std::vector<ElfSymbol> symtab_;
	mutable std::once_flag relocs_once_;
	mutable std::unordered_map<uint64_t, uint64_t> relocs_;
};

uint64_t le64(const uint8_t *p);

} // namespace gort::gobinary
