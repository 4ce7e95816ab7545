// gen-offsets prints one C++ initializer of gort's offsets table (data/go_offsets.inc) for a Go
// binary built with DWARF: its Go version and the byte offsets of the runtime struct members
// gort reads, taken from the binary's own DWARF (debug/dwarf, independent of gort's libdw reader).
//
// Usage: go run main.go BINARY   (run by scripts/gen-offsets-table.sh)
package main

import (
	"debug/buildinfo"
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Every member gort reads from a binary without DWARF (user/gobinary/runtime_layout.cpp,
// goroutine_snapshot.cpp).
var needed = map[string][]string{
	"runtime.g": {"goid", "startpc", "gopc", "m", "atomicstatus", "waitreason", "stack", "sched",
		"syscallsp", "syscallpc", "syscallbp", "waitsince", "lockedm", "parentGoid"},
	"runtime.gobuf": {"sp", "pc", "bp"},
	"runtime.stack": {"lo", "hi"},
	"runtime.m":     {"g0", "curg", "preemptoff"},
	"runtime.workType": {"pauseStart", "tSweepTerm", "tMarkTerm",
		// gctrace (user/gobinary/runtime_gc.cpp)
		"tMark", "tEnd", "heap0", "heap1", "heap2", "stwprocs", "maxprocs", "userForced", "pauseNS"},
	"runtime.mstats": {"last_gc_nanotime", "last_gc_unix", "numgc", "gc_cpu_fraction", "pause_total_ns", "heapStats"},
	"runtime.gcControllerState": {"assistTime", "dedicatedMarkTime", "fractionalMarkTime", "idleMarkTime",
		"lastHeapGoal", "lastStackScan", "maxStackScan", "globalsScan", "gcPercent", "memoryLimit", "heapMarked",
		"totalAlloc", "totalFree"},
	"runtime.moduledata": {"text", "gofunc"},
	// user/goprocess/runtime_state.cpp: goroutine totals from the runtime's own counters.
	"runtime.schedt": {"goidgen", "ngsys", "gFree"},
	"runtime.p":      {"goidcache", "goidcacheend", "gFree", "mcache"},
	"runtime.gList":  {"size"}, // Go 1.26+ only
	// user/goprocess/heap_reader.cpp: MemStats.HeapAlloc and HeapObjects as ReadMemStats computes them.
	"runtime.consistentHeapStats": {"stats"},
	"runtime.heapStatsDelta":      {"largeAllocCount", "smallAllocCount", "largeFree", "largeFreeCount", "smallFreeCount"},
	"runtime.mcache":              {"alloc"},
	"runtime.mspan":               {"allocCount", "allocCountBeforeCache", "elemsize"},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen-offsets BINARY")
		os.Exit(2)
	}
	bi, err := buildinfo.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen-offsets:", err)
		os.Exit(1)
	}
	f, err := elf.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen-offsets:", err)
		os.Exit(1)
	}
	d, err := f.DWARF()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen-offsets: no DWARF:", err)
		os.Exit(1)
	}
	found := map[string]int64{}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			break
		}
		if e.Tag != dwarf.TagStructType {
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		members, ok := needed[name]
		if !ok || !e.Children {
			continue
		}
		for {
			c, err := r.Next()
			if err != nil || c == nil || c.Tag == 0 {
				break
			}
			if c.Tag != dwarf.TagMember {
				if c.Children {
					r.SkipChildren()
				}
				continue
			}
			mname, _ := c.Val(dwarf.AttrName).(string)
			for _, m := range members {
				if m == mname {
					if off, ok := c.Val(dwarf.AttrDataMemberLoc).(int64); ok {
						found[name+"."+m] = off
					}
				}
			}
		}
	}
	var keys []string
	for t, ms := range needed {
		for _, m := range ms {
			k := t + "." + m
			if _, ok := found[k]; !ok {
				// A member a version does not have (runtime.gList.size before Go 1.26)
				// is left out: gort then refuses what needs it for that version, or (for
				// gList.size) knows the older layout, never guesses.
				fmt.Fprintf(os.Stderr, "gen-offsets: %s: no %s\n", bi.GoVersion, k)
				continue
			}
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("{\"%s\", %d}", k, found[k]))
	}
	fmt.Printf("{\"%s\", {%s}},\n", bi.GoVersion, strings.Join(parts, ", "))
}
