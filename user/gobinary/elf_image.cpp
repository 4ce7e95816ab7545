#include "user/gobinary/elf_image.h"

#include "user/common/fd_read.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "user/common/error.h"

namespace gort::gobinary {

uint64_t le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

FileView::FileView(int fd, uint64_t offset, uint64_t len)
{
	const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
	uint64_t start = offset / page * page;
	map_len_ = static_cast<size_t>(offset - start + len);
	void *m = map_len_ ? mmap(nullptr, map_len_, PROT_READ, MAP_PRIVATE, fd, static_cast<off_t>(start)) : MAP_FAILED;
	if (m == MAP_FAILED) {
		map_len_ = 0;
		return;
	}
	map_ = m;
	bytes_ = {static_cast<const uint8_t *>(m) + (offset - start), static_cast<size_t>(len)};
}

FileView::~FileView()
{
	if (map_)
		munmap(map_, map_len_);
}

void FileView::release() const
{
	if (map_)
		madvise(map_, map_len_, MADV_DONTNEED);
}

ElfImage::ElfImage(const std::string &path) : path_(path)
{
	fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd_ < 0) {
		int err = errno;
		if (err == ENOENT && path.rfind("/proc/", 0) == 0)
			throw UserError(ExitCode::no_process, path + " does not exist: the process has exited");
		if (err == EACCES || err == EPERM)
			throw UserError(ExitCode::permission, "cannot read " + path + ": " + strerror(err) + " (run gort as root)");
		throw UserError(ExitCode::usage, "cannot open " + path + ": " + strerror(err) + " (check the path)");
	}
	struct stat st {};
	if (fstat(fd_, &st) == 0)
		file_size_ = static_cast<uint64_t>(st.st_size);
	elf_version(EV_CURRENT);
	// ELF_C_READ, not ELF_C_READ_MMAP: libelf then preads only the headers and the sections
	// asked for, instead of mapping the whole file for the life of the handle.
	elf_ = elf_begin(fd_, ELF_C_READ, nullptr);
	if (!elf_ || elf_kind(elf_) != ELF_K_ELF)
		throw UserError(ExitCode::unsupported, path + " is not an ELF executable; gort traces Go programs");
	GElf_Ehdr eh;
	if (!gelf_getehdr(elf_, &eh) || gelf_getclass(elf_) != ELFCLASS64)
		throw UserError(ExitCode::unsupported, path + " is not a 64-bit ELF executable; gort traces x86-64 Go programs");
	if (eh.e_machine != EM_X86_64)
		throw UserError(ExitCode::unsupported, path + " is not an x86-64 binary (e_machine " +
								std::to_string(eh.e_machine) + "); gort supports only x86-64");
	pie_ = eh.e_type == ET_DYN;
	index_segments();
	index_sections();
}

ElfImage::~ElfImage()
{
	if (elf_)
		elf_end(elf_);
	if (fd_ >= 0)
		close(fd_);
}

void ElfImage::index_segments()
{
	size_t n = 0;
	if (elf_getphdrnum(elf_, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf_, static_cast<int>(i), &ph))
			continue;
		Segment s{ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz, ph.p_align, ph.p_flags};
		if (ph.p_type == PT_LOAD)
			loads_.push_back(s);
		else if (ph.p_type == PT_TLS)
			tls_ = s;
		else if (ph.p_type == PT_INTERP)
			interp_ = true;
	}
	std::sort(loads_.begin(), loads_.end(), [](auto &a, auto &b) { return a.vaddr < b.vaddr; });
}

void ElfImage::index_sections()
{
	size_t shstrndx = 0;
	if (elf_getshdrstrndx(elf_, &shstrndx) != 0)
		return;
	for (Elf_Scn *scn = nullptr; (scn = elf_nextscn(elf_, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (const char *name = elf_strptr(elf_, shstrndx, sh.sh_name))
			sections_.emplace(name, Section{sh.sh_addr, sh.sh_offset, sh.sh_size, sh.sh_type == SHT_NOBITS});
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		Elf_Data *data = elf_getdata(scn, nullptr);
		if (!data || !sh.sh_entsize)
			continue;
		size_t count = sh.sh_size / sh.sh_entsize;
		symtab_.reserve(count);
		for (size_t i = 1; i < count; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(data, static_cast<int>(i), &sym))
				continue;
			const char *sname = elf_strptr(elf_, sh.sh_link, sym.st_name);
			if (sname && *sname)
				symtab_.push_back({sname, sym.st_value, sym.st_size, static_cast<unsigned char>(GELF_ST_TYPE(sym.st_info))});
		}
	}
}

std::optional<Section> ElfImage::section(std::string_view name) const
{
	auto it = sections_.find(name);
	if (it == sections_.end())
		return std::nullopt;
	return it->second;
}

bool ElfImage::pread_all(uint64_t offset, void *out, size_t len) const
{
	if (offset > file_size_ || len > file_size_ - offset)
		return false;
	return fd__pread_all(fd_, offset, out, len);
}

std::optional<std::vector<uint8_t>> ElfImage::section_bytes(std::string_view name) const
{
	auto sec = section(name);
	if (!sec || sec->nobits)
		return std::nullopt;
	std::vector<uint8_t> out(sec->size);
	if (!pread_all(sec->offset, out.data(), out.size()))
		return std::nullopt;
	return out;
}

std::optional<std::vector<uint8_t>> ElfImage::read(uint64_t vaddr, size_t len) const
{
	for (const auto &s : loads_) {
		if (vaddr < s.vaddr || vaddr + len > s.vaddr + s.memsz)
			continue;
		std::vector<uint8_t> out(len, 0);
		uint64_t rel = vaddr - s.vaddr;
		if (rel < s.filesz) {
			size_t n = std::min<uint64_t>(len, s.filesz - rel);
			if (!pread_all(s.offset + rel, out.data(), n))
				return std::nullopt;
		}
		return out;
	}
	return std::nullopt;
}

const std::unordered_map<uint64_t, uint64_t> &ElfImage::relative_relocs() const
{
	std::call_once(relocs_once_, [this] {
		for (Elf_Scn *scn = nullptr; (scn = elf_nextscn(elf_, scn));) {
			GElf_Shdr sh;
			if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
				continue;
			Elf_Data *data = elf_getdata(scn, nullptr);
			for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize; i++) {
				GElf_Rela r;
				if (gelf_getrela(data, static_cast<int>(i), &r) && GELF_R_TYPE(r.r_info) == R_X86_64_RELATIVE)
					relocs_.emplace(r.r_offset, static_cast<uint64_t>(r.r_addend));
			}
		}
	});
	return relocs_;
}

std::optional<uint64_t> ElfImage::pointer_at(uint64_t vaddr) const
{
	auto b = read(vaddr, 8);
	if (!b)
		return std::nullopt;
	uint64_t v = le64(b->data());
	if (v == 0 && pie_) {
		const auto &relocs = relative_relocs();
		if (auto it = relocs.find(vaddr); it != relocs.end())
			return it->second;
	}
	return v;
}

std::shared_ptr<const FileView> ElfImage::view(uint64_t offset, uint64_t len) const
{
	if (offset > file_size_ || len > file_size_ - offset)
		return nullptr;
	auto v = std::make_shared<const FileView>(fd_, offset, len);
	return v->bytes().empty() ? nullptr : v;
}

void ElfImage::scan(const Segment &seg, size_t overlap,
		    const std::function<bool(std::span<const uint8_t>, uint64_t)> &visit) const
{
	constexpr size_t kWindow = 4 << 20;
	std::vector<uint8_t> buf;
	for (uint64_t at = 0; at < seg.filesz;) {
		size_t n = static_cast<size_t>(std::min<uint64_t>(kWindow, seg.filesz - at));
		buf.resize(n);
		if (!pread_all(seg.offset + at, buf.data(), n) || !visit(buf, seg.vaddr + at))
			return;
		if (at + n >= seg.filesz)
			return;
		at += n > overlap ? n - overlap : n;
	}
}

} // namespace gort::gobinary
