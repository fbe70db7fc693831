// The pod sandbox's process (what registry.k8s.io/pause runs): waits for SIGINT or SIGTERM
// and exits 0, reaping children meanwhile. Built static by tools/kind/node-image.sh for the
// locally built kind node image, like kubernetes/build/pause/linux/pause.c.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range signals {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
