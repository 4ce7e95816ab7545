// gort info's verdict: the exit code it picks from the checks (the probing itself needs a kernel:
// tests/e2e/test_info.py runs it, with and without capabilities).
#include <gtest/gtest.h>

#include "user/probes/kernel_features.h"

namespace gort::probes {
namespace {

FeatureCheck check(const char *name, bool ok, bool required, ExitCode code)
{
	return {name, ok, "", required, code};
}

TEST(KernelFeaturesVerdict, AllOkIsOk)
{
	EXPECT_EQ(kernel_features__verdict({check("BTF", true, true, ExitCode::unsupported)}), ExitCode::ok);
}

TEST(KernelFeaturesVerdict, OptionalFailuresDoNotCount)
{
	EXPECT_EQ(kernel_features__verdict({check("uprobe_multi", false, false, ExitCode::ok),
					    check("BTF", true, true, ExitCode::unsupported)}),
		  ExitCode::ok);
}

TEST(KernelFeaturesVerdict, PermissionWinsOverAnEarlierMissingFeature)
{
	EXPECT_EQ(kernel_features__verdict({check("BTF", false, true, ExitCode::unsupported),
					    check("privileges", false, true, ExitCode::permission)}),
		  ExitCode::permission);
}

TEST(KernelFeaturesVerdict, FirstMissingFeatureOtherwise)
{
	EXPECT_EQ(kernel_features__verdict({check("uprobes", false, true, ExitCode::failure),
					    check("container", false, true, ExitCode::unsupported)}),
		  ExitCode::failure);
}

} // namespace
} // namespace gort::probes
