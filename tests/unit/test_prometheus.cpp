// The Prometheus exporter, container labels and the per-site cap, on hand-made models and
// /proc texts (the e2e test tests/e2e/test_prometheus.py checks them against a real Prometheus).
#include <gtest/gtest.h>

#include <string>

#include "user/export/prometheus.h"
#include "user/session/aggregator.h"
#include "user/session/site_cap.h"
#include "user/goprocess/container.h"

using namespace gort;

namespace {

const std::string kId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kUid = "6f1c2a9e-8b3d-4e5f-9a0b-1c2d3e4f5a6b";

session::Site site(std::string fn, int64_t live, bool system = false)
{
	session::Site s;
	s.function = fn;
	s.created_by = "main.main";
	s.created_at = "main.go:1";
	s.live = live;
	s.created = static_cast<uint64_t>(live);
	s.system = system;
	return s;
}

session::ProcessSnapshot process(pid_t pid)
{
	session::ProcessSnapshot p;
	p.pid = pid;
	p.comm = "svc";
	p.exe = "/usr/bin/svc";
	p.go_version = "go1.22.1";
	p.goroutines.live = 7;
	p.gc_cycles = 3;
	p.stw_by_reason["GC mark termination"] = session::pause_stats({5'000, 20'000'000, 300'000});
	return p;
}

} // namespace

TEST(Container, SystemdDriverPath)
{
	auto c = goprocess::container__from_cgroup(
		"12:memory:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6f1c2a9e_8b3d_4e5f_9a0b_1c2d3e4f5a6b.slice/cri-containerd-" +
		kId + ".scope\n0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6f1c2a9e_8b3d_4e5f_9a0b_1c2d3e4f5a6b.slice/cri-containerd-" +
		kId + ".scope\n");
	EXPECT_EQ(c.container_id, kId);
	EXPECT_EQ(c.pod_uid, kUid);
}

TEST(Container, CgroupfsDriverV1Path)
{
	auto c = goprocess::container__from_cgroup("11:pids:/kubepods/burstable/pod" + kUid + "/" + kId +
						"\n1:name=systemd:/kubepods/burstable/pod" + kUid + "/" + kId + "\n0::/\n");
	EXPECT_EQ(c.container_id, kId);
	EXPECT_EQ(c.pod_uid, kUid);
}

TEST(Container, DockerWithoutKubernetesHasNoPod)
{
	auto c = goprocess::container__from_cgroup("0::/system.slice/docker-" + kId + ".scope\n");
	EXPECT_EQ(c.container_id, kId);
	EXPECT_EQ(c.pod_uid, "");
	goprocess::container__add_environ(c, std::string("HOSTNAME=abc\0POD_NAME=x\0", 24));
	EXPECT_EQ(c.pod_name, ""); // not in a pod: HOSTNAME names no pod
}

TEST(Container, HostileShapesAreIgnored)
{
	// Not hex, wrong length, a pod directory outside kubepods, injected separators.
	auto bad_id = goprocess::container__from_cgroup("0::/kubepods/pod" + kUid + "/" + kId.substr(1) + "g");
	EXPECT_EQ(bad_id.container_id, "");
	EXPECT_EQ(bad_id.pod_uid, kUid);
	for (std::string path : {"0::/user.slice/pod" + kUid + "/x",
				 "0::/kubepods/podXYZ/\"" + kId + "\"",
				 "0::/kubepods/pod" + kUid.substr(0, 35) + "/" + kId + "0",
				 std::string("garbage without colons"), std::string()}) {
		auto c = goprocess::container__from_cgroup(path);
		EXPECT_EQ(c.container_id, "") << path;
		EXPECT_EQ(c.pod_uid, "") << path;
	}
}

TEST(Container, PodNameAndNamespaceFromEnvironment)
{
	goprocess::ContainerInfo c;
	c.pod_uid = kUid;
	std::string env("PATH=/bin\0HOSTNAME=web-1\0POD_NAMESPACE=shop\0POD_NAMESPACE=other\0", 57);
	goprocess::container__add_environ(c, env);
	EXPECT_EQ(c.pod_name, "web-1");  // HOSTNAME when POD_NAME is not set
	EXPECT_EQ(c.pod_namespace, "shop");  // the first definition, as getenv
	c = {};
	c.pod_uid = kUid;
	goprocess::container__add_environ(c, std::string("HOSTNAME=h\0POD_NAME=web-2\0", 26));
	EXPECT_EQ(c.pod_name, "web-2");
	c = {};
	c.pod_uid = kUid;
	goprocess::container__add_environ(c, "POD_NAME=" + std::string(300, 'a'));
	EXPECT_EQ(c.pod_name, ""); // longer than any Kubernetes name
}

TEST(Prometheus, LabelValuesAreEscapedAndUtf8)
{
	EXPECT_EQ(exporter::prometheus__label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
	EXPECT_EQ(exporter::prometheus__label_value("x\xff" "y"), "x\xEF\xBF\xBDy");
	EXPECT_EQ(exporter::prometheus__label_value("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD"); // overlong '/'
	EXPECT_EQ(exporter::prometheus__label_value("h\xC3\xA9llo"), "h\xC3\xA9llo");
	EXPECT_EQ(exporter::prometheus__label_value(std::string(600, 'a')).size(), 512u);
	EXPECT_EQ(exporter::prometheus__label_value("ab\xC3\xA9", 3), "ab"); // never half a character
}

TEST(Prometheus, SitesAreCappedWithOneOtherSeries)
{
	std::vector<session::Site> sites = {site("main.a", 9), site("main.b", 5), site("main.b", 2), site("main.c", 1),
					    site("main.d", 1), site("runtime.x", 1, true)};
	auto capped = session::sites__capped(sites, 2);
	ASSERT_EQ(capped.size(), 3u);
	EXPECT_EQ(capped[0].function, "main.a");
	EXPECT_EQ(capped[1].function, "main.b");
	EXPECT_EQ(capped[1].live, 7); // same names: one series
	EXPECT_EQ(capped[2].function, session::kOtherSites);
	EXPECT_EQ(capped[2].live, 3);
	EXPECT_EQ(session::sites__capped(sites, 10).size(), 5u); // no "other" when all fit
}

TEST(Prometheus, RendersFamiliesLabelsAndHistograms)
{
	session::Snapshot snap;
	snap.processes.push_back(process(10));
	auto ended = process(11);
	ended.exited = true;
	snap.processes.push_back(ended);
	snap.processes[0].comm = "ev\"il\n";
	std::map<pid_t, goprocess::ContainerInfo> containers;
	containers[10].container_id = kId;
	containers[10].pod_uid = kUid;
	exporter::SelfFigures self;
	self.mode = "all";
	std::string text = exporter::prometheus__render(snap, containers, self, {});

	std::string labels = "pid=\"10\",comm=\"ev\\\"il\\n\",exe=\"/usr/bin/svc\",go_version=\"go1.22.1\",container_id=\"" +
			     kId + "\",pod_uid=\"" + kUid + "\"";
	EXPECT_NE(text.find("# TYPE gort_goroutines gauge\n"), std::string::npos);
	EXPECT_NE(text.find("gort_goroutines{" + labels + "} 7\n"), std::string::npos) << text;
	EXPECT_NE(text.find("# TYPE gort_gc_cycles_total counter\ngort_gc_cycles_total{" + labels + "} 3\n"), std::string::npos);
	EXPECT_EQ(text.find("pid=\"11\""), std::string::npos) << "an ended process's series must go";
	// Pauses of 5 µs, 300 µs and 20 ms: cumulative buckets, +Inf = count, sum in seconds.
	std::string h = "gort_stw_pause_seconds_bucket{" + labels + ",reason=\"GC mark termination\",le=";
	EXPECT_NE(text.find(h + "\"1e-05\"} 1\n"), std::string::npos) << text;
	EXPECT_NE(text.find(h + "\"0.00025\"} 1\n"), std::string::npos);
	EXPECT_NE(text.find(h + "\"0.0005\"} 2\n"), std::string::npos);
	EXPECT_NE(text.find(h + "\"0.01\"} 2\n"), std::string::npos);
	EXPECT_NE(text.find(h + "\"0.025\"} 3\n"), std::string::npos);
	EXPECT_NE(text.find(h + "\"+Inf\"} 3\n"), std::string::npos);
	EXPECT_NE(text.find("gort_stw_pause_seconds_sum{" + labels + ",reason=\"GC mark termination\"} 0.020305\n"),
		  std::string::npos);
	EXPECT_NE(text.find("gort_info{mode=\"all\"} 1\n"), std::string::npos);
	EXPECT_NE(text.find("gort_traced_processes 1\n"), std::string::npos);
	// Every line is a comment or a sample: no raw newline from a label escaped the quotes.
	size_t start = 0;
	while (start < text.size()) {
		size_t nl = text.find('\n', start);
		std::string line = text.substr(start, nl - start);
		EXPECT_TRUE(line.rfind("# ", 0) == 0 || line.rfind("gort_", 0) == 0) << line;
		start = nl + 1;
	}
}

TEST(Prometheus, SlowSyscallBucketsAreCappedAtTheCount)
{
	session::DurationBuckets b{};
	session::duration_buckets__add(b, 30'000'000);
	session::duration_buckets__add(b, 10'000'000); // exactly a bound: in it (le is <=)
	EXPECT_EQ(b[8], 0u);   // 5 ms
	EXPECT_EQ(b[9], 1u);   // 10 ms
	EXPECT_EQ(b[11], 2u);  // 50 ms
	EXPECT_EQ(b.back(), 2u);
}
