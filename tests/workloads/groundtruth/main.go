// groundtruth is a Go program whose goroutine, GC, stop-the-world and syscall activity is known
// exactly, so that gort's numbers can be compared with the runtime's own.
//
// Protocol (stdin/stdout, line based):
//
//	start: GC is switched off (SetGCPercent(-1): no cycle runs or is in flight), then it prints
//	       "ready <pid>" and blocks reading one line from stdin. A tracer attaches meanwhile.
//	line:  it runs the workload (leakers, churn, sleepers, allocation churn with GC on, explicit
//	       GCs, a GOMAXPROCS round trip, a ReadMemStats), switches GC off again, waits for the
//	       exited goroutines to be gone, and prints one JSON report of what it did.
//	EOF:   it exits with -exit-code (0 by default).
//
// With -stack-gate it first parks goroutines in known waits (channel receive through an inlined
// call, select, mutex, WaitGroup, Cond, sleep, channel send, a closure, a deep call chain),
// waits until none of them is runnable or running, and after the ready line prints its own
// runtime.Stack(buf, true) between the lines "stack-gate begin" and "stack-gate end": the
// ground truth for `gort goroutines`, taken while the same goroutines sit in the start-line read.
//
// It must build with every toolchain the tests use (Go 1.19 up, GOPATH mode): no generics-era
// library APIs, no min/max builtins, no modules. The only user goroutines (in
// runtime.NumGoroutine's sense) it ever starts are the ones in the report: no os/signal, no
// timers with callbacks, no net.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"
)

var (
	leakers     = flag.Int("leakers", 50, "goroutines that block forever on a channel receive")
	churn       = flag.Int("churn", 400, "short-lived goroutines (started in batches, all exit)")
	churnBatch  = flag.Int("churn-batch", 100, "churn goroutines per batch")
	sleepers    = flag.Int("sleepers", 3, "goroutines that each make one slow nanosleep syscall")
	sleepFor    = flag.Duration("sleep", 30*time.Millisecond, "duration of each sleeper's nanosleep")
	allocMB     = flag.Int("alloc-mb", 200, "MiB allocated in 64 KiB slices with GC on")
	explicitGCs = flag.Int("gcs", 5, "explicit runtime.GC() calls")
	exitCode    = flag.Int("exit-code", 0, "exit status at the end")
	preLeakers  = flag.Int("pre-leakers", 0, "goroutines blocked forever, started before the ready line")
	cpuProfile  = flag.String("cpuprofile", "", "write a CPU profile of the workload here (a profile for -pgo builds)")
	attachChurn = flag.Bool("attach-churn", false, "create and end goroutines continuously until the start line, so a tracer attaches mid-churn")
	stackGate   = flag.Bool("stack-gate", false, "park goroutines in known waits and print runtime.Stack(all) after the ready line")
	leakProfile = flag.Bool("leak-profile", false, "with -stack-gate: run the goroutineleak profile first (Go 1.26+ built with GOEXPERIMENT=goroutineleakprofile), which marks goroutines blocked on unreachable channels _Gleaked")
	pacedRate   = flag.Int("paced-churn", 0, "short-lived goroutines per second, started at a steady pace for -paced-for (a rate to sample)")
	pacedFor    = flag.Duration("paced-for", 2*time.Second, "how long -paced-churn runs")
	heapGate    = flag.Bool("heap-gate", false, "after the explicit GCs, allocate -heap-gate-objects small objects, print \"heap-gate\" and wait for a line before the gate's ReadMemStats, allocating nothing meanwhile")
	gateObjects = flag.Int("heap-gate-objects", 300, "small objects -heap-gate allocates (they sit in the Ps' cached spans, which ReadMemStats flushes)")
)

// gateObjs keeps the heap gate's objects alive.
var gateObjs [][]byte

//go:noinline
func pacedWorker(wg *sync.WaitGroup) { wg.Done() }

// pacedChurn starts rate goroutines per second, evenly, for d; returns how many it started.
func pacedChurn(rate int, d time.Duration) int {
	var wg sync.WaitGroup
	start := time.Now()
	n := 0
	for {
		elapsed := time.Since(start)
		if elapsed >= d {
			break
		}
		for want := int(float64(rate) * elapsed.Seconds()); n < want; n++ {
			wg.Add(1)
			go pacedWorker(&wg)
		}
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	return n
}

// leakCh is never written to or closed: every leakWorker waits on it forever.
var leakCh = make(chan struct{})

// sink keeps a small live set so that allocations are real and the heap does not grow.
var sink [16][]byte

func leakWorker(ch chan struct{}) {
	<-ch
}

//go:noinline
func churnWorker(i int, wg *sync.WaitGroup) {
	buf := make([]byte, 64+i%64)
	buf[0] = byte(i)
	wg.Done()
}

// nanosleepCalls are the nanosleep syscalls made, each as the sleeper timed it: a signal (the
// runtime's own preemption signal, SIGURG) can cut one short with EINTR after microseconds, and
// the sleeper then sleeps the remainder in a second call, so the calls and their lengths are what
// was measured, not what was asked for. A call not interrupted slept at least what it asked for
// (the kernel's guarantee); its clock reads enclose the syscall, and under CPU contention also
// the wait for a CPU and a P after it.
type nanosleepCall struct {
	AskedNs     int64 `json:"asked_ns"`
	TookNs      int64 `json:"took_ns"`
	Interrupted bool  `json:"interrupted"`
}

var (
	nanosleepMu    sync.Mutex
	nanosleepCalls []nanosleepCall
)

//go:noinline
func sleeper(d time.Duration, wg *sync.WaitGroup) {
	defer wg.Done()
	ts := syscall.NsecToTimespec(int64(d))
	for {
		var left syscall.Timespec
		// syscall.Nanosleep goes through syscall.Syscall: entersyscall/exitsyscall on this
		// goroutine's own thread, which is what a syscall tracer sees.
		start := time.Now()
		err := syscall.Nanosleep(&ts, &left)
		took := time.Since(start)
		nanosleepMu.Lock()
		nanosleepCalls = append(nanosleepCalls, nanosleepCall{ts.Nano(), int64(took), err == syscall.EINTR})
		nanosleepMu.Unlock()
		if err != syscall.EINTR {
			return
		}
		ts = left
	}
}

type report struct {
	Pid                 int             `json:"pid"`
	GoVersion           string          `json:"go_version"`
	Created             map[string]int  `json:"created"`
	Exited              map[string]int  `json:"exited"`
	NumGoroutine        int             `json:"num_goroutine"`
	NumGoroutineAtStart int             `json:"num_goroutine_at_start"`
	NumGC               uint32          `json:"num_gc"`
	PauseTotalNs        uint64          `json:"pause_total_ns"`
	Live                map[string]int  `json:"live"`
	NanosleepCalls      []nanosleepCall `json:"nanosleep_calls"`
	ExplicitGC          int             `json:"explicit_gc"`
	GomaxprocsCalls     int             `json:"gomaxprocs_calls"`
	ReadMemStatsCalls   int             `json:"read_mem_stats_calls"`
	AllocatedBytes      uint64          `json:"allocated_bytes"`
	// The runtime's own figures at a quiet gate: right after the last explicit runtime.GC()
	// (which returns once the sweep is done), before anything else runs.
	Gate gate `json:"gate"`
}

type gate struct {
	NumGC        uint32 `json:"num_gc"`
	PauseTotalNs uint64 `json:"pause_total_ns"`
	NextGC       uint64 `json:"next_gc"`
	HeapAlloc    uint64 `json:"heap_alloc"`
	HeapObjects  uint64 `json:"heap_objects"`
	GOGC         int    `json:"gogc"`
	GOMAXPROCS   int    `json:"gomaxprocs"`
}

func preLeaker(ch chan struct{}) { <-ch }

func attachChurnWorker(wg *sync.WaitGroup) { wg.Done() }

// attachChurner keeps goroutines being created and ending while a tracer attaches.
func attachChurner(stop chan struct{}, done *sync.WaitGroup) {
	defer done.Done()
	var wg sync.WaitGroup
	for {
		select {
		case <-stop:
			wg.Wait()
			return
		default:
		}
		wg.Add(1)
		go attachChurnWorker(&wg)
		if runtime.NumGoroutine() > 64 {
			wg.Wait()
		}
	}
}

func main() {
	flag.Parse()
	debug.SetGCPercent(-1) // waits for any in-progress mark: from here on no GC runs until "go"
	for i := 0; i < *preLeakers; i++ {
		go preLeaker(leakCh)
	}
	stopChurn := make(chan struct{})
	var churnDone sync.WaitGroup
	if *attachChurn {
		churnDone.Add(1)
		go attachChurner(stopChurn, &churnDone)
	}

	gateN := 0
	var gateDump []byte
	if *stackGate {
		gateN, gateDump = startGate()
		if *leakProfile {
			// Only registered when the runtime has leak detection: a no-op elsewhere.
			if p := pprof.Lookup("goroutineleak"); p != nil {
				p.WriteTo(io.Discard, 0)
				buf := make([]byte, 1<<20)
				gateDump = append([]byte(nil), buf[:runtime.Stack(buf, true)]...)
			}
		}
	}

	out := bufio.NewWriter(os.Stdout)
	in := bufio.NewReader(os.Stdin)
	fmt.Fprintf(out, "ready %d\n", os.Getpid())
	if *stackGate {
		fmt.Fprintf(out, "stack-gate begin\n%s\nstack-gate end\n", gateDump)
	}
	out.Flush()
	if _, err := in.ReadString('\n'); err != nil {
		fmt.Fprintf(os.Stderr, "groundtruth: no start line on stdin: %v\n", err)
		os.Exit(1)
	}

	close(stopChurn)
	churnDone.Wait()
	// Churn goroutines that called Done may not have exited yet.
	for runtime.NumGoroutine() != 1+*preLeakers+gateN {
		time.Sleep(time.Millisecond)
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "groundtruth: %v\n", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer f.Close()
	}

	var before, after runtime.MemStats
	readMemStats := 0
	runtime.ReadMemStats(&before)
	readMemStats++
	atStart := runtime.NumGoroutine()
	debug.SetGCPercent(100)

	// The leak: goroutines blocked forever on a receive.
	for i := 0; i < *leakers; i++ {
		go leakWorker(leakCh)
	}

	// Churn: short-lived goroutines, in batches.
	var wg sync.WaitGroup
	for started := 0; started < *churn; {
		n := *churnBatch
		if n <= 0 || n > *churn-started {
			n = *churn - started
		}
		wg.Add(n)
		for j := 0; j < n; j++ {
			go churnWorker(started+j, &wg)
		}
		started += n
		wg.Wait()
	}

	paced := 0
	if *pacedRate > 0 {
		paced = pacedChurn(*pacedRate, *pacedFor)
	}

	// Deliberately slow syscalls.
	wg.Add(*sleepers)
	for i := 0; i < *sleepers; i++ {
		go sleeper(*sleepFor, &wg)
	}
	wg.Wait()

	// Allocation churn: the GC triggers on its own, several times.
	const chunk = 64 << 10
	total := uint64(*allocMB) << 20
	var allocated uint64
	for i := 0; allocated < total; i++ {
		b := make([]byte, chunk)
		b[0], b[chunk-1] = byte(i), byte(i)
		sink[i%len(sink)] = b
		allocated += chunk
	}
	for i := 0; i < *explicitGCs; i++ {
		runtime.GC()
	}
	if *heapGate {
		// Small objects of several size classes after the cycle: what the Ps' mcaches hold
		// and the heap stats do not count yet. Then quiet: writing from bufio's existing
		// buffer and ReadSlice allocate nothing, so the heap a tracer reads now is the one
		// ReadMemStats describes below.
		gateObjs = make([][]byte, *gateObjects)
		for i := range gateObjs {
			gateObjs[i] = make([]byte, 8+(i*37)%1000)
		}
		out.WriteString("heap-gate\n")
		out.Flush()
		if _, err := in.ReadSlice('\n'); err != nil {
			fmt.Fprintf(os.Stderr, "groundtruth: no line after heap-gate: %v\n", err)
			os.Exit(1)
		}
	}
	var atGate runtime.MemStats
	runtime.ReadMemStats(&atGate)
	readMemStats++
	g := gate{NumGC: atGate.NumGC, PauseTotalNs: atGate.PauseTotalNs, NextGC: atGate.NextGC,
		HeapAlloc: atGate.HeapAlloc, HeapObjects: atGate.HeapObjects, GOGC: 100, GOMAXPROCS: runtime.GOMAXPROCS(0)}

	// Non-GC stop-the-worlds: GOMAXPROCS stops the world only when the value changes (the same
	// value returns at once), so the round trip goes to one more than the current value and back.
	prev := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(prev + 1)
	runtime.GOMAXPROCS(prev)
	gomaxprocs := 2
	var mid runtime.MemStats
	runtime.ReadMemStats(&mid)
	readMemStats++

	debug.SetGCPercent(-1) // waits for any in-progress cycle: NumGC is final from here on

	// Goroutines that called wg.Done may not have exited yet.
	want := atStart + *leakers // atStart counts the gate's goroutines
	for runtime.NumGoroutine() != want {
		time.Sleep(time.Millisecond)
	}
	runtime.ReadMemStats(&after)
	readMemStats++

	r := report{
		Pid:       os.Getpid(),
		GoVersion: runtime.Version(),
		Created: map[string]int{
			"main.leakWorker":  *leakers,
			"main.churnWorker": *churn,
			"main.sleeper":     *sleepers,
		},
		Exited: map[string]int{
			"main.churnWorker": *churn,
			"main.sleeper":     *sleepers,
		},
		Live:                map[string]int{"main.leakWorker": *leakers},
		NumGoroutine:        runtime.NumGoroutine(),
		NumGoroutineAtStart: atStart,
		NumGC:               after.NumGC - before.NumGC,
		PauseTotalNs:        after.PauseTotalNs - before.PauseTotalNs,
		NanosleepCalls:      nanosleepCalls,
		ExplicitGC:          *explicitGCs,
		GomaxprocsCalls:     gomaxprocs,
		ReadMemStatsCalls:   readMemStats,
		AllocatedBytes:      allocated,
		Gate:                g,
	}
	if *pacedRate > 0 {
		r.Created["main.pacedWorker"] = paced
		r.Exited["main.pacedWorker"] = paced
	}
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	line, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintf(os.Stderr, "groundtruth: %v\n", err)
		os.Exit(1)
	}
	out.Write(line)
	out.WriteByte('\n')
	out.Flush()

	// Stay alive (with the leakers) until stdin is closed.
	for {
		if _, err := in.ReadString('\n'); err != nil {
			break
		}
	}
	os.Exit(*exitCode)
}

// The stack gate's goroutines: each parks in one kind of wait and never wakes.
var (
	gateCh     = make(chan int)
	gateSelA   = make(chan int)
	gateSelB   = make(chan string)
	gateMu     sync.Mutex
	gateWG     sync.WaitGroup
	gateCond   = sync.NewCond(&sync.Mutex{})
	gateSink   int
	gateRecvOK = make(chan int) // the closure receives on it
)

// gateRecv is small enough to be inlined into gateChanWorker: its frame is an inlined one.
func gateRecv(ch chan int) int { return <-ch }

func gateChanWorker(ch chan int) { gateSink = gateRecv(ch) }

func gateSelectWorker() {
	select {
	case v := <-gateSelA:
		gateSink = v
	case s := <-gateSelB:
		gateSink = len(s)
	}
}

func gateMutexWorker() {
	gateMu.Lock()
	gateSink++
	gateMu.Unlock()
}

func gateWaitGroupWorker() { gateWG.Wait() }

func gateCondWorker() {
	gateCond.L.Lock()
	for {
		gateCond.Wait()
	}
}

func gateSleepWorker() { time.Sleep(1000 * time.Hour) }

func gateSendWorker(ch chan int) { ch <- 1 }

//go:noinline
func gateDeep(n int, ch chan int) int {
	if n == 0 {
		return <-ch
	}
	return gateDeep(n-1, ch) + 1
}

func gateDeepWorker(ch chan int) { gateSink = gateDeep(3, ch) }

// 160 frames: more than the runtime prints (it elides the middle ones, or those after the 100th
// before Go 1.21).
func gateVeryDeepWorker(ch chan int) { gateSink = gateDeep(160, ch) }

// startGate starts the gate's goroutines, waits until every one of them is parked (none is
// runnable or running in runtime.Stack's own dump) and returns their number and that dump.
func startGate() (int, []byte) {
	gateMu.Lock() // held forever: gateMutexWorker blocks
	gateWG.Add(1) // never done
	n := 0
	start := func(f func()) {
		n++
		go f()
	}
	for i := 0; i < 3; i++ {
		go gateChanWorker(gateCh)
		n++
	}
	start(gateSelectWorker)
	start(gateMutexWorker)
	start(gateWaitGroupWorker)
	start(gateCondWorker)
	start(gateSleepWorker)
	go gateSendWorker(make(chan int))
	n++
	go func() { gateSink = <-gateRecvOK }()
	n++
	go gateDeepWorker(make(chan int))
	n++
	go gateVeryDeepWorker(make(chan int))
	n++
	buf := make([]byte, 1<<20)
	for {
		k := runtime.Stack(buf, true)
		dump := buf[:k]
		if runtime.NumGoroutine() == 1+*preLeakers+n+countAttachChurn() && allParked(dump) {
			return n, append([]byte(nil), dump...)
		}
		time.Sleep(time.Millisecond)
	}
}

func countAttachChurn() int {
	if *attachChurn {
		return -1 // the gate is not used with -attach-churn: never settles
	}
	return 0
}

// allParked: every goroutine but the caller (the first, "[running]") is in some wait.
func allParked(dump []byte) bool {
	first := true
	for _, line := range bytes.Split(dump, []byte("\n")) {
		if !bytes.HasPrefix(line, []byte("goroutine ")) {
			continue
		}
		if first {
			first = false
			continue
		}
		if bytes.Contains(line, []byte("[running")) || bytes.Contains(line, []byte("[runnable")) {
			return false
		}
	}
	return true
}
