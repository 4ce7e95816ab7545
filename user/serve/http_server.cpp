#include "user/serve/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "user/common/error.h"

namespace gort::serve {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kDrainTime = std::chrono::milliseconds(500);

UserError bad_address(const std::string &text, const std::string &why)
{
	return UserError(ExitCode::usage,
			 fmt::format("invalid --listen '{}': {}; use HOST:PORT with a numeric address, e.g. {}, "
				     "[::1]:9474 or 0.0.0.0:9474",
				     text, why, kDefaultListen));
}

std::string address__text(const sockaddr_storage &ss)
{
	char host[INET6_ADDRSTRLEN] = "";
	if (ss.ss_family == AF_INET6) {
		const auto *a = reinterpret_cast<const sockaddr_in6 *>(&ss);
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
		return fmt::format("[{}]:{}", host, ntohs(a->sin6_port));
	}
	const auto *a = reinterpret_cast<const sockaddr_in *>(&ss);
	inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
	return fmt::format("{}:{}", host, ntohs(a->sin_port));
}

const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	default: return "Service Unavailable";
	}
}

} // namespace

sockaddr_storage listen_address__parse(const std::string &text, socklen_t &len)
{
	sockaddr_storage ss{};
	std::string host, port;
	if (!text.empty() && text[0] == '[') {
		size_t close = text.find(']');
		if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
			throw bad_address(text, "an IPv6 address is written [ADDRESS]:PORT");
		host = text.substr(1, close - 1);
		port = text.substr(close + 2);
	} else {
		size_t colon = text.rfind(':');
		if (colon == std::string::npos)
			throw bad_address(text, "no port");
		host = text.substr(0, colon);
		port = text.substr(colon + 1);
	}
	if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
	    std::stoul(port) > 65535)
		throw bad_address(text, "the port must be a number from 0 to 65535");
	uint16_t p = htons(static_cast<uint16_t>(std::stoul(port)));
	if (host == "localhost")
		host = "127.0.0.1";
	if (text[0] == '[') {
		auto *a = reinterpret_cast<sockaddr_in6 *>(&ss);
		a->sin6_family = AF_INET6;
		a->sin6_port = p;
		if (inet_pton(AF_INET6, host.c_str(), &a->sin6_addr) != 1)
			throw bad_address(text, fmt::format("'{}' is not an IPv6 address", host));
		len = sizeof(sockaddr_in6);
	} else {
		auto *a = reinterpret_cast<sockaddr_in *>(&ss);
		a->sin_family = AF_INET;
		a->sin_port = p;
		if (host.empty())
			a->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1)
			throw bad_address(text, fmt::format("'{}' is not a numeric IPv4 address", host));
		len = sizeof(sockaddr_in);
	}
	return ss;
}

struct HttpServer::Connection {
	int fd = -1;
	Clock::time_point deadline;
	std::string request;
	bool writing = false;
	bool draining = false;  // response sent: reading what the client still sends, until it closes
	std::string head;
	std::shared_ptr<const std::string> body;  // null for responses without one
	size_t sent = 0;                          // of head + body
};

HttpServer::HttpServer(const std::string &listen, HttpLimits limits) : limits_(limits)
{
	socklen_t len = 0;
	sockaddr_storage ss = listen_address__parse(listen, len);
	listen_fd_ = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listen_fd_ < 0)
		throw UserError(ExitCode::failure, fmt::format("cannot create a socket: {}", std::strerror(errno)));
	int one = 1;
	setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6) // [::]:PORT means IPv6 only: say 0.0.0.0 for IPv4
		setsockopt(listen_fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(listen_fd_, reinterpret_cast<sockaddr *>(&ss), len) != 0 || ::listen(listen_fd_, 64) != 0) {
		int err = errno;
		close(listen_fd_);
		throw UserError(err == EACCES ? ExitCode::permission : ExitCode::usage,
				fmt::format("cannot listen on {}: {}; choose another address with --listen HOST:PORT", listen,
					    std::strerror(err)));
	}
	sockaddr_storage bound{};
	socklen_t blen = sizeof bound;
	getsockname(listen_fd_, reinterpret_cast<sockaddr *>(&bound), &blen);
	address_ = address__text(bound);
	if (pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0) {
		close(listen_fd_);
		throw UserError(ExitCode::failure, fmt::format("cannot create a pipe: {}", std::strerror(errno)));
	}
	thread_ = std::thread([this] { run(); });
}

HttpServer::~HttpServer()
{
	char c = 0;
	if (write(wake_[1], &c, 1) != 1 && errno != EAGAIN)
		std::abort(); // the thread could not be told to end: joining would hang
	thread_.join();
	close(wake_[0]);
	close(wake_[1]);
	close(listen_fd_);
}

void HttpServer::publish(std::string body)
{
	auto b = std::make_shared<const std::string>(std::move(body));
	std::lock_guard lock(mutex_);
	body_ = std::move(b);
}

void HttpServer::run()
{
	// Signals are the tracing thread's business (SIGINT/SIGTERM stop it promptly there).
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, nullptr);

	std::vector<Connection> conns;
	auto respond = [&](Connection &c, int status, std::shared_ptr<const std::string> body, const char *type,
			   bool head_only) {
		if (status != 200)
			rejected_++;
		size_t length = body ? body->size() : 0;
		c.head = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n"
				     "Connection: close\r\n\r\n",
				     status, status_text(status), type, length);
		c.body = head_only ? nullptr : std::move(body);
		c.writing = true;
		c.sent = 0;
		c.deadline = Clock::now() + limits_.write_timeout;
	};
	auto text = [](const char *s) { return std::make_shared<const std::string>(s); };
	auto handle_request = [&](Connection &c) {
		size_t eol = c.request.find("\r\n");
		std::string line = c.request.substr(0, eol);
		size_t sp1 = line.find(' '), sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
		const char *plain = "text/plain; charset=utf-8";
		if (sp2 == std::string::npos || line.compare(sp2 + 1, 7, "HTTP/1.") != 0)
			return respond(c, 400, text("bad request\n"), plain, false);
		std::string method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1);
		target = target.substr(0, target.find('?'));
		bool head = method == "HEAD";
		if (method != "GET" && !head)
			return respond(c, 405, text("only GET and HEAD\n"), plain, head);
		std::shared_ptr<const std::string> body;
		{
			std::lock_guard lock(mutex_);
			body = body_;
		}
		if (target == kMetricsPath) {
			if (!body)
				return respond(c, 503, text("not ready: attaching\n"), plain, head);
			scrapes_++;
			return respond(c, 200, std::move(body), "text/plain; version=0.0.4; charset=utf-8", head);
		}
		if (target == kReadyPath)
			return body ? respond(c, 200, text("ready\n"), plain, head)
				    : respond(c, 503, text("not ready: attaching\n"), plain, head);
		respond(c, 404, text("not found: gort serves /metrics and /ready\n"), plain, head);
	};
	auto read_more = [&](Connection &c) {
		char buf[4096];
		ssize_t n = recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (n <= 0)
			return false; // closed or reset before a whole request
		c.request.append(buf, static_cast<size_t>(n));
		if (c.request.find("\r\n\r\n") != std::string::npos)
			handle_request(c);
		else if (c.request.size() > limits_.max_request_bytes)
			respond(c, 431, text("request too large\n"), "text/plain; charset=utf-8", false);
		return true;
	};
	auto write_more = [&](Connection &c) {
		iovec iov[2];
		int n = 0;
		if (c.sent < c.head.size())
			iov[n++] = {c.head.data() + c.sent, c.head.size() - c.sent};
		size_t body_size = c.body ? c.body->size() : 0;
		size_t body_sent = c.sent > c.head.size() ? c.sent - c.head.size() : 0;
		if (body_sent < body_size)
			iov[n++] = {const_cast<char *>(c.body->data()) + body_sent, body_size - body_sent};
		if (n == 0)
			return false;
		msghdr msg{};
		msg.msg_iov = iov;
		msg.msg_iovlen = static_cast<size_t>(n);
		ssize_t w = sendmsg(c.fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN || errno == EINTR;
		c.sent += static_cast<size_t>(w);
		if (c.sent < c.head.size() + body_size)
			return true;
		// Closing with unread input would reset the connection, and a client can lose the
		// response to that reset: the rest of its request is read and dropped for a moment.
		shutdown(c.fd, SHUT_WR);
		c.writing = false;
		c.draining = true;
		c.deadline = Clock::now() + kDrainTime;
		return true;
	};
	auto drain = [&](Connection &c) {
		char buf[4096];
		ssize_t n = recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
		return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
	};

	std::vector<pollfd> fds;
	for (;;) {
		fds.clear();
		fds.push_back({wake_[0], POLLIN, 0});
		fds.push_back({listen_fd_, static_cast<short>(conns.size() < limits_.max_connections ? POLLIN : 0), 0});
		auto now = Clock::now();
		auto wake_at = now + std::chrono::seconds(1);
		for (const auto &c : conns) {
			fds.push_back({c.fd, static_cast<short>(c.writing ? POLLOUT : POLLIN), 0});
			wake_at = std::min(wake_at, c.deadline);
		}
		int timeout = static_cast<int>(std::max<int64_t>(
			0, std::chrono::duration_cast<std::chrono::milliseconds>(wake_at - now).count() + 1));
		if (poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR)
			break;
		if (fds[0].revents)
			break;
		// Every connection's turn first, then new ones (fds[2 + i] is conns[i]).
		now = Clock::now();
		std::vector<Connection> kept;
		for (size_t i = 0; i < conns.size(); i++) {
			Connection &c = conns[i];
			short ev = fds[2 + i].revents;
			bool keep = true;
			if (ev & (POLLERR | POLLNVAL))
				keep = false;
			else if (ev & (POLLIN | POLLHUP) && c.draining)
				keep = drain(c);
			else if (ev & (POLLIN | POLLHUP) && !c.writing)
				keep = read_more(c);
			else if (ev & (POLLOUT | POLLHUP) && c.writing)
				keep = write_more(c);
			if (keep && now >= c.deadline) {
				if (!c.draining)
					rejected_++; // too slow to send a request or to take the response
				keep = false;
			}
			if (keep)
				kept.push_back(std::move(c));
			else
				close(c.fd);
		}
		conns = std::move(kept);
		if (fds[1].revents & POLLIN) {
			while (conns.size() < limits_.max_connections) {
				int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd < 0)
					break;
				Connection c;
				c.fd = fd;
				c.deadline = Clock::now() + limits_.request_timeout;
				conns.push_back(std::move(c));
			}
		}
	}
	for (auto &c : conns)
		close(c.fd);
}

} // namespace gort::serve
