// What the aggregator folds, behind two interfaces so that a live session and a recording are
// aggregated by the same code: counters (the BPF maps, or the last counter record of a file) and
// symbols (the Go binary, or the names a recording stored).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gort/bpf_shared.h"
#include "user/gobinary/go_binary.h"
#include "user/gobinary/runtime_layout.h"

namespace gort::session {

// Cumulative counters of a process since attach, as BPF keeps them.
class CounterSource {
public:
	virtual ~CounterSource() = default;
	virtual gort_proc_stats stats(pid_t pid) const = 0;
	virtual std::vector<std::pair<gort_site_key, gort_site_stats>> sites(pid_t pid) const = 0;
	virtual std::vector<std::pair<gort_syscall_key, gort_syscall_stats>> syscalls(pid_t pid) const = 0;
	// OS threads of the process now; 0 when unknown (a recording replayed does not have them).
	virtual uint64_t os_threads(pid_t) const { return 0; }
};

// Goroutine-probe hits counted in `st`: each one was a uprobe trap in the target.
inline uint64_t proc_stats__traps(const gort_proc_stats &st)
{
	return st.created + st.exited + st.sys_created + st.sys_exited;
}

// A creation site as people read it.
struct SiteNames {
	std::string function;    // what the goroutines run (go wrappers resolved)
	std::string created_by;  // the function with the go statement
	std::string created_at;  // "main.go:42"
	bool system = false;     // runtime-internal (not counted by runtime.NumGoroutine)
};

// Names for the runtime addresses (as the probes see them, load bias included) of one process.
class ProcessSymbols {
public:
	virtual ~ProcessSymbols() = default;
	virtual SiteNames site(uint64_t startpc, uint64_t gopc) const = 0;
	virtual std::string stw_reason(uint32_t reason) const = 0;
};

// Site names by link-time addresses, shared by every process running one binary: symbolising
// from DWARF costs milliseconds per site, and 50 copies of a service have the same sites.
struct SiteNameCache {
	std::map<std::pair<uint64_t, uint64_t>, SiteNames> names;
};

// Symbols from the process's own binary.
class BinarySymbols : public ProcessSymbols {
public:
	BinarySymbols(std::shared_ptr<const gobinary::GoBinary> binary, gobinary::RuntimeLayout layout, uint64_t load_bias,
		      std::shared_ptr<SiteNameCache> cache = std::make_shared<SiteNameCache>())
	    : binary_(std::move(binary)), layout_(std::move(layout)), load_bias_(load_bias), cache_(std::move(cache))
	{
	}
	SiteNames site(uint64_t startpc, uint64_t gopc) const override;
	std::string stw_reason(uint32_t reason) const override;
	const gobinary::GoBinary &binary() const { return *binary_; }
	const gobinary::RuntimeLayout &layout() const { return layout_; }
	uint64_t load_bias() const { return load_bias_; }

private:
	SiteNames resolve(uint64_t startpc, uint64_t gopc) const;

	std::shared_ptr<const gobinary::GoBinary> binary_;
	gobinary::RuntimeLayout layout_;
	uint64_t load_bias_;
	std::shared_ptr<SiteNameCache> cache_;
};

} // namespace gort::session
