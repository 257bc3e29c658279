//go:build windows

package sqlite

import "os"

// processAlive reports whether a process with this pid exists: on Windows,
// finding a process opens it, which fails once it is gone.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}
