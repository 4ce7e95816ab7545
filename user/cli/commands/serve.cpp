// gort serve: the metrics endpoint. The HTTP server binds first (a taken port is refused before
// any probe is attached), then processes are selected and attached as by top, and the driver's
// loop publishes every snapshot, rendered once, for the server thread to hand to scrapers.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "user/cli/commands/commands.h"
#include "user/cli/commands/selection.h"
#include "user/export/prometheus.h"
#include "user/serve/http_server.h"
#include "user/goprocess/container.h"

namespace gort::cli {

namespace {

void self__read(exporter::SelfFigures &self)
{
	rusage ru{};
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		self.cpu_seconds = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	std::ifstream statm("/proc/self/statm");
	uint64_t size = 0, resident = 0;
	if (statm >> size >> resident)
		self.resident_bytes = resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// Container labels per traced process, read once per program (a PID that execs is a new one).
class ContainerCache {
public:
	const std::map<pid_t, goprocess::ContainerInfo> &update(const session::Snapshot &snap)
	{
		std::map<pid_t, goprocess::ContainerInfo> now;
		std::map<pid_t, std::string> keys;
		for (const auto &p : snap.processes) {
			if (p.exited)
				continue;
			std::string key = p.exe + '\0' + p.comm;
			auto it = infos_.find(p.pid);
			now[p.pid] = it != infos_.end() && keys_[p.pid] == key ? it->second : goprocess::container__of(p.pid);
			keys[p.pid] = key;
		}
		infos_ = std::move(now);
		keys_ = std::move(keys);
		return infos_;
	}

private:
	std::map<pid_t, goprocess::ContainerInfo> infos_;
	std::map<pid_t, std::string> keys_;
};

// Every snapshot rendered once and handed to the server thread for scrapers.
class Publisher : public session::DriverHooks {
public:
	Publisher(session::Session &session, serve::HttpServer &server, const ServeOptions &opts)
	    : session_(session), server_(server)
	{
		po_.max_sites = opts.max_sites;
		self_.mode = opts.top.select.all ? "all" : "pids";
	}
	// Ready (and scrapable) as soon as every -p process is attached, not an interval later.
	void begin() override { publish(); }
	void tick() override { publish(); }
	void finish() override { publish(); }

private:
	void publish()
	{
		session::Snapshot snap = session_.snapshot();
		self__read(self_);
		self_.probe_links = session_.link_count();
		self_.scrapes = server_.scrapes();
		self_.http_rejected = server_.rejected();
		server_.publish(exporter::prometheus__render(snap, containers_.update(snap), self_, po_));
	}

	session::Session &session_;
	serve::HttpServer &server_;
	ContainerCache containers_;
	exporter::PrometheusOptions po_;
	exporter::SelfFigures self_;
};

} // namespace

int serve__run(const ServeOptions &opts)
{
	StopSignals signals; // SIGTERM (Kubernetes, systemd) while attaching: detach and exit 0
	serve::HttpServer server(opts.listen);
	fmt::print(stderr, "gort: serving metrics on http://{}{} (readiness: {})\n", server.address(), serve::kMetricsPath,
		   serve::kReadyPath);
	std::fflush(stderr);

	session::Driver driver(session_options__for(opts.top.select, opts.top.syscall_threshold),
			       driver_options__for(opts.top.select, opts.top.interval, opts.top.duration));
	Publisher publisher(driver.session(), server, opts);
	driver.attach(publisher);
	return driver.run(publisher);
}

} // namespace gort::cli
