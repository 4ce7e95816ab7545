// parked holds many parked goroutines (scripts/bench-goroutines.py): the cost of reading every
// goroutine's stack from outside (`gort goroutines`) against the program's own
// pprof.Lookup("goroutine").WriteTo(w, 2), which stops the world for the whole dump.
//
// Protocol (stdin/stdout, line based): it prints "ready <pid>" once every goroutine is parked;
// "mark" starts a window (prints "marked"); "report" ends it and prints one JSON line with the
// window's longest gap seen by a heartbeat goroutine that wakes every 200µs (a stop-the-world
// shows as a gap; so does a busy machine), its GC pause total (MemStats.PauseTotalNs) and GC
// count deltas (GC is off once ready, so these are 0 unless a dump starts a GC); "pprof" writes
// the goroutine profile at debug=2 to a discarding writer and prints its duration and size.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"time"
)

var n = flag.Int("n", 100000, "parked goroutines")

var (
	block  = make(chan struct{})
	mu     sync.Mutex
	maxGap int64
)

//go:noinline
func waitDeep(d int) {
	if d == 0 {
		<-block
		return
	}
	waitDeep(d - 1)
}

func selectWait(c chan int) {
	select {
	case <-block:
	case <-c:
	}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func heartbeat() {
	last := time.Now()
	for {
		time.Sleep(200 * time.Microsecond)
		now := time.Now()
		gap := int64(now.Sub(last))
		last = now
		mu.Lock()
		if gap > maxGap {
			maxGap = gap
		}
		mu.Unlock()
	}
}

func main() {
	flag.Parse()
	for i := 0; i < *n; i++ {
		switch i % 3 {
		case 0:
			go waitDeep(i % 5)
		case 1:
			go selectWait(make(chan int))
		default:
			go func() { <-block }()
		}
	}
	for runtime.NumGoroutine() < *n+1 {
		time.Sleep(time.Millisecond)
	}
	// No GC from here on (nor the 2-minute forced one): PauseTotalNs moves only if something
	// stops the world for a GC, so a window's delta is 0 unless the dump caused one.
	debug.SetGCPercent(-1)
	go heartbeat()
	out := bufio.NewWriter(os.Stdout)
	in := bufio.NewReader(os.Stdin)
	fmt.Fprintf(out, "ready %d\n", os.Getpid())
	out.Flush()
	var ms runtime.MemStats
	var pause0 uint64
	var gc0 uint32
	for {
		line, err := in.ReadString('\n')
		if err != nil {
			return
		}
		switch line {
		case "mark\n":
			runtime.ReadMemStats(&ms)
			pause0, gc0 = ms.PauseTotalNs, ms.NumGC
			time.Sleep(5 * time.Millisecond) // the ReadMemStats stop is not part of the window
			mu.Lock()
			maxGap = 0
			mu.Unlock()
			fmt.Fprintln(out, "marked")
		case "report\n":
			mu.Lock()
			gap := maxGap
			mu.Unlock()
			runtime.ReadMemStats(&ms)
			b, _ := json.Marshal(map[string]int64{"max_gap_ns": gap, "pause_total_ns_delta": int64(ms.PauseTotalNs - pause0),
				"num_gc_delta": int64(ms.NumGC - gc0), "goroutines": int64(runtime.NumGoroutine())})
			out.Write(append(b, '\n'))
		case "pprof\n":
			w := &countWriter{}
			t := time.Now()
			pprof.Lookup("goroutine").WriteTo(w, 2)
			b, _ := json.Marshal(map[string]int64{"pprof_ns": int64(time.Since(t)), "bytes": w.n})
			out.Write(append(b, '\n'))
		}
		out.Flush()
	}
}
