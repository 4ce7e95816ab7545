#!/bin/sh
# Writes a C++ initializer list {nr, "name"} of x86-64 syscalls from the kernel's uapi header.
exec awk '/^#define __NR_/ { sub(/^__NR_/, "", $2); printf "{%s, \"%s\"},\n", $3, $2 }' \
	"${1:-/usr/include/x86_64-linux-gnu/asm/unistd_64.h}"
