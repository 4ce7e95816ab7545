#include "user/cli/commands/commands.h"

int main(int argc, char **argv)
{
	return gort::cli::cli__run(argc, argv);
}
