// The model in the Prometheus text exposition format (version 0.0.4, which OpenMetrics scrapers
// also read): one family per figure, one series per traced process, labelled so a fleet can be
// told apart. Renders what the aggregator computed (histogram buckets included); nothing here
// is a figure of its own. Names and labels: docs/prometheus.md.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "user/session/model.h"
#include "user/goprocess/container.h"

namespace gort::exporter {

// gort's own figures, as the serving command reads them.
struct SelfFigures {
	std::string mode;         // "pids" or "all"
	double cpu_seconds = 0;   // user + system CPU of gort's own process
	uint64_t resident_bytes = 0;
	size_t probe_links = 0;   // uprobe and tracepoint links attached
	uint64_t scrapes = 0;     // /metrics responses sent
	uint64_t http_rejected = 0;  // requests refused (bad, too large, too slow)
};

struct PrometheusOptions {
	size_t max_sites = 20;  // per process; the rest is one "other" series
};

// Every process not marked exited, with its container labels (empty fields are left out).
std::string prometheus__render(const session::Snapshot &snap, const std::map<pid_t, goprocess::ContainerInfo> &containers,
			       const SelfFigures &self, const PrometheusOptions &opts);

// A label value as the exposition format wants it: \ " and newline escaped, bytes that are not
// UTF-8 replaced by U+FFFD, at most max_bytes long (a process chooses its own comm and paths).
std::string prometheus__label_value(std::string_view raw, size_t max_bytes = 512);

} // namespace gort::exporter
