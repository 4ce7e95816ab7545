// httpsvc is an HTTP service on loopback whose every request fans out to 4 goroutines (the shape
// of a service that calls a few backends in parallel), for scripts/bench-service.sh: the
// goroutine rate is what gort's goroutine probes pay for.
//
// Protocol: prints "ready <pid> <port>" once listening on 127.0.0.1 (a free port), serves until
// stdin is closed.
package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
)

const fanOut = 4

//go:noinline
func backend(i int, out []int, wg *sync.WaitGroup) {
	s := 0
	for j := 0; j < 200; j++ {
		s += (i + j) * j
	}
	out[i] = s
	wg.Done()
}

func handle(w http.ResponseWriter, r *http.Request) {
	var wg sync.WaitGroup
	out := make([]int, fanOut)
	wg.Add(fanOut)
	for i := 0; i < fanOut; i++ {
		go backend(i, out, &wg)
	}
	wg.Wait()
	sum := 0
	for _, v := range out {
		sum += v
	}
	w.Write([]byte(strconv.Itoa(sum) + "\n"))
}

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpsvc:", err)
		os.Exit(1)
	}
	go http.Serve(ln, http.HandlerFunc(handle))
	fmt.Printf("ready %d %d\n", os.Getpid(), ln.Addr().(*net.TCPAddr).Port)
	in := bufio.NewReader(os.Stdin)
	for {
		if _, err := in.ReadString('\n'); err != nil {
			return
		}
	}
}
