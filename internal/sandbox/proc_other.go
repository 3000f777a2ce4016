//go:build !linux

package sandbox

import "syscall"

// sysProcAttr: own process group. Check refuses other systems anyway.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Credential: cred}
}
