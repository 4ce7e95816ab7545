#include "user/gobinary/build_info.h"

#include <cctype>
#include <cstdlib>
#include <cstring>

#include "user/common/error.h"

namespace gort::gobinary {

namespace {

bool read_uvarint(const uint8_t *&p, const uint8_t *end, uint64_t &out)
{
	out = 0;
	for (int shift = 0; p < end && shift < 64; shift += 7) {
		uint8_t b = *p++;
		out |= uint64_t(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

// .go.buildinfo (cmd/link ld/data.go, reader debug/buildinfo): 32-byte header
// "\xff Go buildinf:" ptrSize flags; flag 0x2 = pointer-free: uvarint-prefixed version and
// modinfo at +32. Otherwise (Go <= 1.17) two pointers to string headers at +16.
bool parse(const ElfImage &image, std::string &version, std::string &modinfo)
{
	auto bytes = image.section_bytes(".go.buildinfo");
	if (!bytes || bytes->size() < 32 || memcmp(bytes->data(), "\xff Go buildinf:", 14) != 0)
		return false;
	const uint8_t *b = bytes->data();
	uint8_t ptr_size = b[14], flags = b[15];
	if (flags & 0x2) {
		const uint8_t *p = b + 32, *end = b + bytes->size();
		uint64_t n = 0;
		if (!read_uvarint(p, end, n) || n > uint64_t(end - p))
			return false;
		version.assign(reinterpret_cast<const char *>(p), n);
		p += n;
		if (read_uvarint(p, end, n) && n <= uint64_t(end - p))
			modinfo.assign(reinterpret_cast<const char *>(p), n);
	} else {
		if (ptr_size != 8 || (flags & 0x1))
			return false;
		auto deref = [&](uint64_t hdr_addr) -> std::string {
			auto hdr = image.read(hdr_addr, 16);
			if (!hdr)
				return {};
			uint64_t ptr = le64(hdr->data()), len = le64(hdr->data() + 8);
			if (len > (1u << 20))
				return {};
			auto s = image.read(ptr, len);
			return s ? std::string(s->begin(), s->end()) : std::string();
		};
		version = deref(le64(b + 16));
		modinfo = deref(le64(b + 24));
	}
	// modinfo is wrapped in 16-byte sentinels (debug/buildinfo strips them the same way).
	if (modinfo.size() >= 33 && modinfo[modinfo.size() - 17] == '\n')
		modinfo = modinfo.substr(16, modinfo.size() - 32);
	return true;
}

} // namespace

GoVersion go_version__parse(const std::string &raw)
{
	GoVersion v;
	v.raw = raw;
	size_t at = raw.find("go1");
	if (at == std::string::npos)
		return v;
	const char *p = raw.c_str() + at + 2;
	int *fields[] = {&v.major, &v.minor, &v.patch};
	for (int i = 0; i < 3; i++) {
		if (!isdigit(static_cast<unsigned char>(*p)))
			break;
		*fields[i] = static_cast<int>(strtol(p, const_cast<char **>(&p), 10));
		if (*p != '.')
			break;
		p++;
	}
	return v;
}

BuildInfo build_info__read(const ElfImage &image, const std::function<bool(std::string_view)> &has_symbol)
{
	const std::string &path = image.path();
	if (!image.section(".go.buildinfo"))
		throw UserError(ExitCode::unsupported, path + " is not a Go program (no .go.buildinfo section)");
	std::string version, modinfo;
	if (!parse(image, version, modinfo))
		throw UserError(ExitCode::unsupported, path + " has an unreadable .go.buildinfo section; rebuild it with Go 1.18 or newer");
	BuildInfo info;
	info.version = go_version__parse(version);
	info.modinfo = modinfo;
	bool cgo_enabled = false;
	size_t pos = 0;
	while (pos < modinfo.size()) {
		size_t eol = modinfo.find('\n', pos);
		std::string line = modinfo.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
		pos = eol == std::string::npos ? modinfo.size() : eol + 1;
		if (line.rfind("path\t", 0) == 0)
			info.main_path = line.substr(5);
		else if (line == "build\tCGO_ENABLED=1")
			cgo_enabled = true;
		else if (line.rfind("build\t-pgo=", 0) == 0) {
			std::string v = line.substr(11);
			info.pgo = !v.empty() && v != "off";
		}
	}
	// CGO_ENABLED=1 is recorded whenever a C compiler was available, even if no package used
	// cgo, and internally linked PIEs have .interp without any C. runtime/cgo's x_cgo_init, or
	// the linker's runtime.tlsg (external linking only), mean C really runs; in a stripped
	// binary runtime/cgo shows as its assembly crosscall2 in the pclntab.
	info.cgo = cgo_enabled && (has_symbol("x_cgo_init") || has_symbol("runtime.tlsg") || has_symbol("crosscall2"));
	info.pie = image.pie();
	info.static_link = !image.has_interp();
	info.stripped = !image.section(".symtab");
	return info;
}

} // namespace gort::gobinary
