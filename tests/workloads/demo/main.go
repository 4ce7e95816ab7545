// demo is the "service with problems" that `gort demo` traces. Each problem sits at its own,
// obviously named site so that gort's views point straight at it:
//
//   - a goroutine leak: every ~100 ms acceptLoop starts a main.subscribeForever that waits on a
//     channel nobody ever writes (live count grows by ~10/s, forever);
//   - churn: jobDispatcher starts ~500 short-lived main.processJob goroutines a second;
//   - GC pressure: cacheRefresher allocates a few MiB a second (a GC cycle every second or so);
//   - a slow syscall: every ~3 s a main.flushToDisk goroutine makes one 25-60 ms nanosleep;
//   - a non-GC stop-the-world: every 5 s metricsExporter calls runtime.ReadMemStats.
//
// It prints "demo: pid N" and runs until SIGINT/SIGTERM, then exits 0.
// Builds with every toolchain from Go 1.19 up, in GOPATH mode.
package main

import (
	"fmt"
	"math/rand"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

type request struct {
	id      int
	updates chan []byte // nobody ever sends on it: the leak
}

// subscribeForever is the leak: it waits for updates that never come.
func subscribeForever(req *request) {
	for u := range req.updates {
		_ = u
	}
}

func acceptLoop() {
	for id := 0; ; id++ {
		time.Sleep(100 * time.Millisecond)
		go subscribeForever(&request{id: id, updates: make(chan []byte)})
	}
}

var jobSink [64][]byte

// processJob is the churn: short-lived, a little work and a small allocation.
func processJob(id int, done chan<- int) {
	buf := make([]byte, 512+id%1024)
	sum := 0
	for i := range buf {
		buf[i] = byte(i * id)
		sum += int(buf[i])
	}
	jobSink[id%len(jobSink)] = buf
	done <- sum
}

func jobDispatcher() {
	done := make(chan int, 1024)
	go func() {
		for range done {
		}
	}()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for id := 0; ; {
		<-tick.C
		for i := 0; i < 5; i++ {
			go processJob(id, done)
			id++
		}
	}
}

var cache [32][]byte

// cacheRefresher is the GC pressure: ~5 MiB/s of allocations over a small live set.
func cacheRefresher() {
	for i := 0; ; i++ {
		time.Sleep(50 * time.Millisecond)
		for j := 0; j < 16; j++ {
			b := make([]byte, 16<<10)
			b[0] = byte(i + j)
			cache[(i*16+j)%len(cache)] = b
		}
	}
}

// flushToDisk is the slow syscall: one long nanosleep made through the syscall package.
func flushToDisk(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for {
		var left syscall.Timespec
		if err := syscall.Nanosleep(&ts, &left); err != syscall.EINTR {
			return
		}
		ts = left
	}
}

func flusher() {
	for {
		time.Sleep(3 * time.Second)
		go flushToDisk(time.Duration(25+rand.Intn(36)) * time.Millisecond)
	}
}

// metricsExporter is the non-GC stop-the-world ("read mem stats").
func metricsExporter() {
	var ms runtime.MemStats
	for {
		time.Sleep(5 * time.Second)
		runtime.ReadMemStats(&ms)
	}
}

func main() {
	rand.Seed(time.Now().UnixNano())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	fmt.Printf("demo: pid %d\n", os.Getpid())

	go acceptLoop()
	go jobDispatcher()
	go cacheRefresher()
	go flusher()
	go metricsExporter()

	<-sigs
	os.Exit(0)
}
