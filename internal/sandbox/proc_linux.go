package sandbox

import "syscall"

// sysProcAttr: own process group (the caller kills it on timeout), killed
// with the worker (PR_SET_PDEATHSIG), optionally as another user.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
}
