// short: a Go program that lives about a third of a second, for system-wide tests that start and
// end hundreds of processes: a few goroutines are created and end, then it exits 0.
package main

import (
	"sync"
	"time"
)

func worker(wg *sync.WaitGroup) { wg.Done() }

func main() {
	time.Sleep(300 * time.Millisecond) // long enough to be followed from its exec
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go worker(&wg)
	}
	wg.Wait()
}
