// The metrics endpoint's HTTP server against well-behaved and hostile clients on loopback: it
// answers only /metrics and /ready, refuses what it should, and slow or silent clients neither
// block publishing nor keep others out for longer than the request timeout.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "user/common/error.h"
#include "user/serve/http_server.h"

using namespace gort;
using namespace std::chrono_literals;

namespace {

int connect_to(const serve::HttpServer &server)
{
	std::string addr = server.address();
	size_t colon = addr.rfind(':');
	sockaddr_in sa{};
	sa.sin_family = AF_INET;
	sa.sin_port = htons(static_cast<uint16_t>(std::stoi(addr.substr(colon + 1))));
	inet_pton(AF_INET, addr.substr(0, colon).c_str(), &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa), 0);
	return fd;
}

// Sends raw bytes, reads until the server closes (bounded by the timeout).
std::string roundtrip(const serve::HttpServer &server, const std::string &request, int timeout_ms = 5000)
{
	int fd = connect_to(server);
	EXPECT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
	std::string out;
	char buf[4096];
	pollfd pfd{fd, POLLIN, 0};
	while (poll(&pfd, 1, timeout_ms) > 0) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n <= 0)
			break;
		out.append(buf, static_cast<size_t>(n));
	}
	close(fd);
	return out;
}

std::string status_line(const std::string &response) { return response.substr(0, response.find("\r\n")); }

} // namespace

TEST(PrometheusHttp, ServesMetricsAndReadinessOnly)
{
	serve::HttpServer server("127.0.0.1:0");
	EXPECT_EQ(status_line(roundtrip(server, "GET /ready HTTP/1.1\r\nHost: x\r\n\r\n")), "HTTP/1.1 503 Service Unavailable");
	EXPECT_EQ(status_line(roundtrip(server, "GET /metrics HTTP/1.1\r\n\r\n")), "HTTP/1.1 503 Service Unavailable");
	server.publish("gort_goroutines 1\n");
	std::string r = roundtrip(server, "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
	EXPECT_EQ(status_line(r), "HTTP/1.1 200 OK");
	EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos);
	EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), "gort_goroutines 1\n");
	EXPECT_EQ(status_line(roundtrip(server, "GET /ready HTTP/1.0\r\n\r\n")), "HTTP/1.1 200 OK");
	r = roundtrip(server, "HEAD /metrics HTTP/1.1\r\n\r\n");
	EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), "");
	EXPECT_NE(r.find("Content-Length: 18\r\n"), std::string::npos);
	EXPECT_EQ(status_line(roundtrip(server, "GET / HTTP/1.1\r\n\r\n")), "HTTP/1.1 404 Not Found");
	EXPECT_EQ(status_line(roundtrip(server, "GET /../etc/passwd HTTP/1.1\r\n\r\n")), "HTTP/1.1 404 Not Found");
	EXPECT_EQ(status_line(roundtrip(server, "POST /metrics HTTP/1.1\r\n\r\n")), "HTTP/1.1 405 Method Not Allowed");
	EXPECT_EQ(status_line(roundtrip(server, "hello\r\n\r\n")), "HTTP/1.1 400 Bad Request");
	EXPECT_EQ(status_line(roundtrip(server, "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'a'))),
		  "HTTP/1.1 431 Request Header Fields Too Large");
	EXPECT_EQ(server.scrapes(), 2u);
	EXPECT_GE(server.rejected(), 7u);
}

TEST(PrometheusHttp, SilentClientsCannotHoldTheServer)
{
	serve::HttpLimits limits;
	limits.max_connections = 4;
	limits.request_timeout = 300ms;
	serve::HttpServer server("127.0.0.1:0", limits);
	server.publish("m 1\n");
	// Every connection slot taken by clients that never send a request (slowloris), more waiting.
	std::vector<int> silent;
	for (int i = 0; i < 8; i++)
		silent.push_back(connect_to(server));
	auto start = std::chrono::steady_clock::now();
	server.publish("m 2\n"); // the tracing side never waits for the server
	EXPECT_LT(std::chrono::steady_clock::now() - start, 50ms);
	// A real scrape gets through once the silent ones time out (a few request timeouts at most).
	std::string r = roundtrip(server, "GET /metrics HTTP/1.1\r\n\r\n", 5000);
	EXPECT_EQ(status_line(r), "HTTP/1.1 200 OK");
	EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), "m 2\n");
	EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
	EXPECT_GE(server.rejected(), 4u);
	for (int fd : silent)
		close(fd);
}

TEST(PrometheusHttp, ListenAddressIsCheckedAndTakenPortRefused)
{
	for (const char *bad : {"9474", "localhost", "example.com:80", "1.2.3.4:99999", "[::1]9474", "1.2.3.4:-1", ""})
		EXPECT_THROW(serve::HttpServer s(bad), UserError) << bad;
	serve::HttpServer first("127.0.0.1:0");
	try {
		serve::HttpServer second(first.address());
		FAIL() << "a taken port was accepted";
	} catch (const UserError &e) {
		EXPECT_EQ(e.code(), ExitCode::usage);
		EXPECT_NE(std::string(e.what()).find("--listen"), std::string::npos) << e.what();
	}
	serve::HttpServer v6("[::1]:0");
	EXPECT_EQ(v6.address().rfind("[::1]:", 0), 0u) << v6.address();
	EXPECT_EQ(serve::HttpServer("localhost:0").address().rfind("127.0.0.1:", 0), 0u);
}

TEST(PrometheusHttp, ClientsThatDripOrNeverReadAreCutOff)
{
	serve::HttpLimits limits;
	limits.request_timeout = 300ms;
	limits.write_timeout = 1s;  // 8 MiB over loopback takes milliseconds, even on a busy machine
	serve::HttpServer server("127.0.0.1:0", limits);
	std::string big(8 << 20, 'x');
	server.publish(big);

	// Never reads its 8 MiB response: the server's send buffer fills, the others go on.
	int stuck = connect_to(server);
	std::string get = "GET /metrics HTTP/1.1\r\n\r\n";
	ASSERT_EQ(send(stuck, get.data(), get.size(), MSG_NOSIGNAL), static_cast<ssize_t>(get.size()));
	// Sends a byte at a time, always just in time for an idle timeout: the deadline is total.
	int drip = connect_to(server);
	auto start = std::chrono::steady_clock::now();
	std::string r = roundtrip(server, get);
	EXPECT_EQ(r.size() - r.find("\r\n\r\n") - 4, big.size());
	bool cut = false;
	for (int i = 0; i < 40 && !cut; i++) {
		cut = send(drip, "G", 1, MSG_NOSIGNAL) != 1;
		std::this_thread::sleep_for(50ms);
		pollfd pfd{drip, POLLIN, 0};
		if (poll(&pfd, 1, 0) > 0) {
			char c;
			cut = recv(drip, &c, 1, MSG_DONTWAIT) <= 0;
		}
	}
	EXPECT_TRUE(cut) << "a dripping client was never cut off";
	EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
	// The stuck one is cut off at its write timeout: reading after that ends before 8 MiB.
	for (int i = 0; i < 300 && server.rejected() < 2; i++)
		std::this_thread::sleep_for(10ms);
	size_t got = 0;
	char buf[65536];
	ssize_t n;
	pollfd pfd{stuck, POLLIN, 0};
	while (poll(&pfd, 1, 2000) > 0 && (n = recv(stuck, buf, sizeof buf, 0)) > 0)
		got += static_cast<size_t>(n);
	EXPECT_LT(got, big.size());
	EXPECT_GE(server.rejected(), 2u);
	close(stuck);
	close(drip);
}
