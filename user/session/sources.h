// The symbols of a live process (user/contracts/contracts.h ProcessSymbols): its Go binary.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "user/contracts/contracts.h"
#include "user/gobinary/go_binary.h"
#include "user/gobinary/runtime_layout.h"

namespace gort::session {

// Goroutine-probe hits counted in `st`: each one was a uprobe trap in the target.
inline uint64_t proc_stats__traps(const gort_proc_stats &st)
{
	return st.created + st.exited + st.sys_created + st.sys_exited;
}

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
