// Whether this process holds a capability in its effective set (capget(2)): what the kernel
// checks, rather than uid 0, which may have had capabilities dropped (capsh, a container).
#pragma once

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace gort {

inline bool capability__effective(int cap)
{
	__user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
	__user_cap_data_struct data[2]{};
	if (syscall(SYS_capget, &hdr, data) != 0)
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

} // namespace gort
