// execer: a Go program that replaces itself (execve, same PID) with the command it reads, for the
// tests of `top -p` / `record -p` across exec. Prints "ready <pid>", then reads one line from
// stdin: "exec PATH ARG..." execs PATH with those arguments (argv[0] = PATH).
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

func ticker() {
	for {
		time.Sleep(10 * time.Millisecond)
	}
}

func main() {
	go ticker()
	fmt.Printf("ready %d\n", os.Getpid())
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil {
		os.Exit(0)
	}
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "exec" {
		fmt.Fprintf(os.Stderr, "execer: expected \"exec PATH ARG...\", got %q\n", line)
		os.Exit(2)
	}
	err = syscall.Exec(f[1], f[1:], os.Environ())
	fmt.Fprintf(os.Stderr, "execer: exec %s: %v\n", f[1], err)
	os.Exit(1)
}
