#include "user/common/safe_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "user/common/error.h"

namespace gort {

namespace {

UserError file__error(const std::string &what, const std::string &path)
{
	return UserError(ExitCode::failure, fmt::format("{} {}: {} (check the directory exists and is writable)", what,
							 path, std::strerror(errno)));
}

const char *file_type__name(mode_t m)
{
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

// What is at `base` in `dir_fd`, not following a symlink: refused unless absent, or a regular
// file that may be replaced.
void name__check(int dir_fd, const std::string &base, const std::string &path, bool replace)
{
	struct stat st {};
	if (fstatat(dir_fd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return;
		throw file__error("cannot look at", path);
	}
	if (!S_ISREG(st.st_mode))
		throw UserError(ExitCode::usage, fmt::format("{} is {}: gort writes only to a regular file it creates; "
							     "choose another name", path, file_type__name(st.st_mode)));
	if (!replace)
		throw UserError(ExitCode::usage, fmt::format("{} already exists: choose another file or pass --force "
							     "to replace it", path));
}

// A name nobody can predict, for the moment a file is not yet at its final name.
std::string temp__name(const std::string &base)
{
	uint64_t r = 0;
	if (getrandom(&r, sizeof r, 0) != sizeof r)
		throw UserError(ExitCode::failure, fmt::format("getrandom: {}", std::strerror(errno)));
	// Long bases are cut so the temporary name stays within NAME_MAX (255).
	return fmt::format(".{}.gort-{:016x}", base.substr(0, 200), r);
}

void split(const std::string &path, std::string &dir, std::string &base)
{
	auto slash = path.find_last_of('/');
	dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
	base = slash == std::string::npos ? path : path.substr(slash + 1);
	if (base.empty() || base == "." || base == "..")
		throw UserError(ExitCode::usage, fmt::format("{} names a directory: give a file name", path));
}

} // namespace

void output_path__check(const std::string &path, bool replace)
{
	std::string dir, base;
	split(path, dir, base);
	int dfd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		throw file__error("cannot open the directory of", path);
	try {
		name__check(dfd, base, path, replace);
	} catch (...) {
		::close(dfd);
		throw;
	}
	::close(dfd);
}

SafeFile::SafeFile(const std::string &path, bool replace) : path_(path), replace_(replace)
{
	split(path, dir_, base_);
	dir_fd_ = open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd_ < 0)
		throw file__error("cannot open the directory of", path);
	try {
		name__check(dir_fd_, base_, path_, replace_);
		// O_TMPFILE: an inode with no name, so nothing can be planted at it or open it before it
		// is ours. tmpfs, ext4, xfs and btrfs have it; others fall back to an O_EXCL random name.
		fd_ = openat(dir_fd_, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
		if (fd_ < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
			for (int tries = 0; fd_ < 0 && tries < 16; tries++) {
				temp_name_ = temp__name(base_);
				fd_ = openat(dir_fd_, temp_name_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					     0600);
				if (fd_ < 0 && errno != EEXIST)
					break;
			}
		}
		if (fd_ < 0) {
			temp_name_.clear();
			throw file__error("cannot create", path_);
		}
		// The caller's, whoever gort runs as (a no-op unless set-uid or otherwise privileged
		// above the real ids), and 0600 whatever the umask.
		if ((geteuid() != getuid() || getegid() != getgid()) && fchown(fd_, getuid(), getgid()) != 0)
			throw file__error("cannot give the caller", path_);
		if (fchmod(fd_, 0600) != 0)
			throw file__error("cannot set the mode of", path_);
	} catch (...) {
		discard();
		throw;
	}
}

SafeFile::~SafeFile() { discard(); }

void SafeFile::discard()
{
	if (!published_ && !temp_name_.empty() && dir_fd_ >= 0)
		unlinkat(dir_fd_, temp_name_.c_str(), 0);
	if (fd_ >= 0)
		::close(fd_);
	if (dir_fd_ >= 0)
		::close(dir_fd_);
	fd_ = dir_fd_ = -1;
	temp_name_.clear();
}

void SafeFile::publish()
{
	if (published_)
		return;
	name__check(dir_fd_, base_, path_, replace_);
	auto exists = [&] {
		return UserError(ExitCode::usage, fmt::format("{} appeared while gort was writing it: choose another file "
							      "or pass --force to replace it", path_));
	};
	if (temp_name_.empty()) {
		// Linking the unnamed inode: to the name itself (linkat never replaces: EEXIST), or to
		// a random name that is then renamed over the old file. AT_EMPTY_PATH needs
		// CAP_DAC_READ_SEARCH; /proc/self/fd/N does the same without it.
		auto link_to = [&](const std::string &name) {
			if (linkat(fd_, "", dir_fd_, name.c_str(), AT_EMPTY_PATH) == 0)
				return 0;
			if (errno != EPERM && errno != ENOENT)
				return -1;
			std::string self = fmt::format("/proc/self/fd/{}", fd_);
			return linkat(AT_FDCWD, self.c_str(), dir_fd_, name.c_str(), AT_SYMLINK_FOLLOW);
		};
		if (!replace_) {
			if (link_to(base_) != 0)
				throw errno == EEXIST ? exists() : file__error("cannot create", path_);
			published_ = true;
			return;
		}
		for (int tries = 0; tries < 16; tries++) {
			std::string name = temp__name(base_);
			if (link_to(name) == 0) {
				temp_name_ = name;
				break;
			}
			if (errno != EEXIST)
				throw file__error("cannot create", path_);
		}
		if (temp_name_.empty())
			throw file__error("cannot create", path_);
	}
	// renameat replaces a symlink at the name rather than following it; RENAME_NOREPLACE keeps
	// a file that appeared since the check.
	int r = replace_ ? renameat(dir_fd_, temp_name_.c_str(), dir_fd_, base_.c_str())
			 : renameat2(dir_fd_, temp_name_.c_str(), dir_fd_, base_.c_str(), RENAME_NOREPLACE);
	// A filesystem without RENAME_NOREPLACE: a hard link never replaces either.
	if (r != 0 && errno == EINVAL && !replace_ &&
	    (r = linkat(dir_fd_, temp_name_.c_str(), dir_fd_, base_.c_str(), 0)) == 0)
		unlinkat(dir_fd_, temp_name_.c_str(), 0);
	if (r != 0)
		throw errno == EEXIST ? exists() : file__error("cannot rename into place", path_);
	temp_name_.clear();
	published_ = true;
}

void SafeFile::commit()
{
	if (fd_ < 0)
		return;
	if (fdatasync(fd_) != 0)
		throw UserError(ExitCode::failure, fmt::format("writing {}: {}", path_, std::strerror(errno)));
	publish();
	int fd = std::exchange(fd_, -1);
	if (::close(fd) != 0)
		throw UserError(ExitCode::failure, fmt::format("writing {}: {}", path_, std::strerror(errno)));
}

FdStreamBuf::FdStreamBuf(int fd) : fd_(fd), buf_(1 << 16) { setp(buf_.data(), buf_.data() + buf_.size()); }

bool FdStreamBuf::drain()
{
	const char *p = pbase();
	size_t n = static_cast<size_t>(pptr() - pbase());
	while (n > 0) {
		ssize_t w = ::write(fd_, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			error_ = std::strerror(errno);
			return false;
		}
		p += w;
		n -= static_cast<size_t>(w);
	}
	setp(buf_.data(), buf_.data() + buf_.size());
	return true;
}

FdStreamBuf::int_type FdStreamBuf::overflow(int_type c)
{
	if (!drain())
		return traits_type::eof();
	if (!traits_type::eq_int_type(c, traits_type::eof())) {
		*pptr() = traits_type::to_char_type(c);
		pbump(1);
	}
	return traits_type::not_eof(c);
}

int FdStreamBuf::sync() { return drain() ? 0 : -1; }

} // namespace gort
