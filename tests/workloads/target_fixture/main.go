// target_fixture: a known set of goroutines for the target-inspection tests.
//
// It starts N (argv[1], default 5) goroutines with `go leak(ch, i)` — a named function with
// arguments, which the compiler wraps (main.main.func1 up to Go 1.21, main.main.gowrap1 from
// 1.22) — and one closure literal with a multi-line body, which must NOT be mistaken for a
// wrapper. Every one of them blocks on a channel that is never written. It prints "ready" and
// then blocks reading stdin, so a test can snapshot it and kill it (or close stdin).
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
)

var sink int

//go:noinline
func leak(ch chan int, i int) {
	v := <-ch
	sink += v + i
}

//go:noinline
func consume(v int) {
	sink += v
}

func main() {
	n := 5
	if len(os.Args) > 1 {
		if v, err := strconv.Atoi(os.Args[1]); err == nil {
			n = v
		}
	}
	ch := make(chan int)
	for i := 0; i < n; i++ {
		go leak(ch, i)
	}
	quit := make(chan int)
	go func() {
		for {
			v := <-quit
			if v < 0 {
				return
			}
			consume(v)
		}
	}()
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
}
