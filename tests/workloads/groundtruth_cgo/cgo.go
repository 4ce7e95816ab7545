// groundtruth_cgo is groundtruth (main.go is a link to ../groundtruth/main.go) linked with C code
// that has its own thread-locals: the binary is then linked externally, glibc owns FS, and the
// main executable's TLS block holds these variables besides runtime.tlsg, so g is not at fs-8
// (go-runtime.md §3.2). gort must still attribute every slow syscall to its goroutine.
package main

/*
__thread long gt_big_tls[37];
__thread int gt_small_tls;
static int gt_touch(void) { gt_small_tls++; return gt_small_tls + (int)gt_big_tls[3]; }
*/
import "C"

// One C call at start-up keeps the thread-locals linked in; it starts no goroutine.
var cgoTouched = int(C.gt_touch())
