// A small HTTP/1.1 server for the metrics endpoint, in its own thread, so that no client can
// delay tracing: the tracing loop only swaps in a new body (publish), under a mutex held for a
// pointer copy. It serves GET/HEAD of two paths and nothing else, one request per connection.
// Hostile clients are bounded: a request must arrive whole within request_timeout and fit in
// max_request_bytes; a response must be taken within write_timeout; at most max_connections
// are open at once (more wait in the kernel's listen backlog).
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace gort::serve {

inline constexpr const char *kDefaultListen = "127.0.0.1:9474";
inline constexpr const char *kMetricsPath = "/metrics";
inline constexpr const char *kReadyPath = "/ready";

struct HttpLimits {
	size_t max_connections = 32;
	size_t max_request_bytes = 8192;
	std::chrono::milliseconds request_timeout{5000};
	std::chrono::milliseconds write_timeout{10000};
};

// "HOST:PORT" with a numeric IPv4 host, "[IPv6]:PORT", or ":PORT" (every IPv4 address).
// Throws UserError(usage) naming the accepted forms.
sockaddr_storage listen_address__parse(const std::string &text, socklen_t &len);

class HttpServer {
public:
	// Binds and listens at once (throws UserError: usage for a bad or taken address, permission
	// for a privileged port), then serves from its own thread until destroyed.
	HttpServer(const std::string &listen, HttpLimits limits = {});
	~HttpServer();
	HttpServer(const HttpServer &) = delete;
	HttpServer &operator=(const HttpServer &) = delete;

	// The new /metrics body; the first call makes /ready answer 200.
	void publish(std::string body);
	// Where it listens, e.g. "127.0.0.1:9474" (the real port when asked for port 0).
	const std::string &address() const { return address_; }
	uint64_t scrapes() const { return scrapes_.load(); }
	uint64_t rejected() const { return rejected_.load(); }

private:
	struct Connection;
	void run();

	HttpLimits limits_;
	int listen_fd_ = -1;
	int wake_[2] = {-1, -1};  // a pipe: written by the destructor to end run()
	std::string address_;
	std::mutex mutex_;
	std::shared_ptr<const std::string> body_;  // guarded by mutex_
	std::atomic<uint64_t> scrapes_{0}, rejected_{0};
	std::thread thread_;
};

} // namespace gort::serve
