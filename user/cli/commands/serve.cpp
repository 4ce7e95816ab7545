// gort serve: the metrics endpoint. The HTTP server binds first (a taken port is refused before
// any probe is attached), then processes are selected and attached as by top, and top's loop
// publishes every snapshot, rendered once, for the server thread to hand to scrapers.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "user/cli/commands/commands.h"
#include "user/cli/commands/stop_signals.h"
#include "user/cli/commands/top.h"
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

} // namespace

int serve__run(const ServeOptions &opts)
{
	StopSignals signals; // SIGTERM (Kubernetes, systemd) while attaching: detach and exit 0
	serve::HttpServer server(opts.listen);
	fmt::print(stderr, "gort: serving metrics on http://{}{} (readiness: {})\n", server.address(), serve::kMetricsPath,
		   serve::kReadyPath);
	std::fflush(stderr);

	session::Session session(session_options__for(opts.top.select, opts.top.syscall_threshold));
	top__attach_all(session, opts.top.select);

	ContainerCache containers;
	exporter::PrometheusOptions po;
	po.max_sites = opts.max_sites;
	exporter::SelfFigures self;
	self.mode = opts.top.select.all ? "all" : "pids";
	auto publish = [&](const session::Snapshot &snap) {
		self__read(self);
		self.probe_links = session.link_count();
		self.scrapes = server.scrapes();
		self.http_rejected = server.rejected();
		server.publish(exporter::prometheus__render(snap, containers.update(snap), self, po));
	};
	// Ready (and scrapable) as soon as every -p process is attached, not an interval later.
	publish(session.snapshot());
	return top__loop(session, opts.top, publish);
}

} // namespace gort::cli
