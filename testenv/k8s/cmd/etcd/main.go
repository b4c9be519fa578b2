// Command etcd is etcd's own main (etcdmain.Main), built from the pinned
// go.etcd.io/etcd/server/v3 module for the test control plane.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
