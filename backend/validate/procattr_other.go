//go:build !linux

package validate

import "syscall"

// procAttr puts a gate in its own process group, to kill it whole.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
