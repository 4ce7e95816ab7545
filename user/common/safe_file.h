// Creating an output file safely where other users can write too (a world-writable /tmp, a
// shared project directory). gort runs as root, so a name it opens by path is a name someone
// else may have planted: a symlink to /etc/shadow, a file they own and can read, a FIFO. Every
// file gort writes (export, record) is created here:
//   - as a new inode that nobody else can have opened: O_TMPFILE in the target's directory, or,
//     where the filesystem lacks it, a random name created O_CREAT|O_EXCL|O_NOFOLLOW;
//   - owned by the caller (the real uid/gid: with sudo that is root; with file capabilities it
//     is the user who ran gort) and mode 0600 (it holds another process's data), set on the fd
//     before a byte is written;
//   - put at its name only by linkat / renameat relative to the directory opened once: neither
//     follows a symlink at the name (a symlink planted there is replaced, never written through);
//   - never over anything but a regular file: a device node, FIFO, socket, directory or symlink
//     at the name (/dev/null, /proc/self/fd/1) is refused before anything is written.
#pragma once

#include <streambuf>
#include <string>
#include <vector>

namespace gort {

class SafeFile {
public:
	// Opens a new, unnamed (or randomly named) file for `path`. Without `replace`, an existing
	// `path` (anything, even a dangling symlink) is refused with ExitCode::usage; with it, only a
	// regular file may be there and it is replaced whole at publish(). Throws UserError.
	SafeFile(const std::string &path, bool replace);
	// Not published: the file disappears (O_TMPFILE) or its temporary name is removed.
	~SafeFile();
	SafeFile(const SafeFile &) = delete;
	SafeFile &operator=(const SafeFile &) = delete;

	int fd() const { return fd_; }
	const std::string &path() const { return path_; }
	bool published() const { return published_; }
	// Gives the file its name (atomically: readers see no file, or the one being written). Throws
	// UserError; EEXIST without `replace` (a file appeared since) is ExitCode::usage.
	void publish();
	// fdatasync, publish() if not yet, and close, reporting errors (the destructor closes
	// silently). Throws UserError.
	void commit();

private:
	void discard();

	std::string path_, dir_, base_, temp_name_;  // temp_name_: only without O_TMPFILE
	int dir_fd_ = -1, fd_ = -1;
	bool replace_ = false, published_ = false;
};

// An ostream's buffer over a file descriptor, for streaming into a SafeFile; a failed write
// makes the stream bad and keeps errno's text for the message.
class FdStreamBuf : public std::streambuf {
public:
	explicit FdStreamBuf(int fd);
	const std::string &error() const { return error_; }

protected:
	int_type overflow(int_type c) override;
	int sync() override;

private:
	bool drain();

	int fd_;
	std::vector<char> buf_;
	std::string error_;
};

// Refuses `path` unless it is absent or a regular file (not following a symlink there). Throws
// UserError(usage) naming what it is. For checking a name before work starts.
void output_path__check(const std::string &path, bool replace);

} // namespace gort
