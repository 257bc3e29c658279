package validate

import "syscall"

// procAttr puts a gate in its own process group, to kill it whole, and has
// the kernel kill it when this process dies.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
