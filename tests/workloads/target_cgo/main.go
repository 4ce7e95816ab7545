// A cgo program whose C code has __thread variables: glibc then owns FS and the main
// executable's TLS block (C variables plus runtime.tlsg) sits below the thread pointer, so g is
// no longer at fs-8 (go-runtime.md §3.2). Used to check GoBinary::tls_g_offset().
package main

/*
__thread long big_tls[37];
__thread int small_tls;
static int bump(void) { small_tls++; return small_tls + (int)big_tls[3]; }
*/
import "C"

import "fmt"

func main() {
	fmt.Println(C.bump())
}
