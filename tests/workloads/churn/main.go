// churn measures what spawning and exiting a goroutine costs, so that the cost a tracer adds per
// goroutine (gort probes creation and exit) can be measured: scripts/bench-overhead.sh runs it
// untraced and traced.
//
// It prints "ready <pid>", waits for one line on stdin (a tracer attaches meanwhile), spawns -n
// goroutines in batches of -batch (each runs main.worker and exits), waits for all of them, and
// prints {"goroutines": n, "ns_per_goroutine": ..., "elapsed_ns": ...}.
// Builds with every toolchain from Go 1.19 up, in GOPATH mode.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"
)

var (
	n     = flag.Int("n", 200000, "goroutines to spawn")
	batch = flag.Int("batch", 1000, "goroutines per batch")
)

//go:noinline
func worker(wg *sync.WaitGroup) {
	wg.Done()
}

type result struct {
	Goroutines     int     `json:"goroutines"`
	NsPerGoroutine float64 `json:"ns_per_goroutine"`
	ElapsedNs      int64   `json:"elapsed_ns"`
}

func main() {
	flag.Parse()
	fmt.Printf("ready %d\n", os.Getpid())
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Fprintf(os.Stderr, "churn: no start line on stdin: %v\n", err)
		os.Exit(1)
	}

	var wg sync.WaitGroup
	start := time.Now()
	for done := 0; done < *n; {
		k := *batch
		if k <= 0 || k > *n-done {
			k = *n - done
		}
		wg.Add(k)
		for i := 0; i < k; i++ {
			go worker(&wg)
		}
		wg.Wait()
		done += k
	}
	elapsed := time.Since(start)

	r := result{Goroutines: *n, ElapsedNs: elapsed.Nanoseconds()}
	if *n > 0 {
		r.NsPerGoroutine = float64(elapsed.Nanoseconds()) / float64(*n)
	}
	line, _ := json.Marshal(r)
	fmt.Println(string(line))
}
