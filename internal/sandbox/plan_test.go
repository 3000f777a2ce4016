//go:build linux

package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// indexOf finds seq as consecutive elements of args.
func indexOf(args []string, seq ...string) int {
	for i := 0; i+len(seq) <= len(args); i++ {
		if slices.Equal(args[i:i+len(seq)], seq) {
			return i
		}
	}
	return -1
}

func TestMountPlan(t *testing.T) {
	root := t.TempDir()
	mk := func(p string) string {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	data := mk("data")
	paper := mk("data/artifacts/papers/p1")
	inside := mk("data/artifacts/papers/p1/secrets")
	keyFile := filepath.Join(root, "keys.env")
	if err := os.WriteFile(keyFile, []byte("K=1"), 0o600); err != nil {
		t.Fatal(err)
	}
	dataset := mk("data/datasets")
	tests := []struct {
		name   string
		hide   []string
		ro     []string
		links  []Link
		dir    string
		checks func(t *testing.T, args []string)
	}{
		{
			name: "a data folder in a hidden place is bound read-only, a link to it made inside the mask",
			hide: []string{data}, dir: paper, ro: []string{dataset},
			links: []Link{{Path: filepath.Join(data, "artifacts", "papers", "data"), Target: dataset}, {Path: filepath.Join(data, "artifacts", "data"), Target: dataset}},
			checks: func(t *testing.T, a []string) {
				mask := indexOf(a, "--tmpfs", data)
				ro := indexOf(a, "--ro-bind", dataset, dataset)
				l1 := indexOf(a, "--symlink", dataset, filepath.Join(data, "artifacts", "papers", "data"))
				l2 := indexOf(a, "--symlink", dataset, filepath.Join(data, "artifacts", "data"))
				if mask < 0 || ro < mask || l1 < mask || l2 < mask {
					t.Fatalf("mask %d, ro-bind %d, links %d %d: %q", mask, ro, l1, l2, a)
				}
				if indexOf(a, "--remount-ro", data) < l1 {
					t.Fatal("the mask is made read-only before the link is made")
				}
			},
		},
		{
			name: "a visible data folder needs no bind; a link outside the masks is the host's own",
			dir:  paper, ro: []string{"/usr/share"}, links: []Link{{Path: "/usr/share/aisci-no-such-link", Target: "/usr/share"}},
			checks: func(t *testing.T, a []string) {
				if slices.Contains(a, "/usr/share") {
					t.Fatalf("%q", a)
				}
			},
		},
		{
			name: "paper under a hidden folder is bound after the mask, its parents created",
			hide: []string{data}, dir: paper,
			checks: func(t *testing.T, a []string) {
				mask := indexOf(a, "--tmpfs", data)
				dir := indexOf(a, "--perms", "0755", "--dir", filepath.Join(data, "artifacts"))
				bind := indexOf(a, "--bind", paper, paper)
				if mask < 0 || dir < 0 || bind < 0 || !(mask < dir && dir < bind) {
					t.Fatalf("mask %d, dir %d, bind %d: %q", mask, dir, bind, a)
				}
				if indexOf(a, "--remount-ro", data) < bind {
					t.Fatal("the mask is not made read-only after the binds")
				}
			},
		},
		{
			name: "a hidden folder inside the paper folder stays hidden",
			hide: []string{inside}, dir: paper,
			checks: func(t *testing.T, a []string) {
				if b, m := indexOf(a, "--bind", paper, paper), indexOf(a, "--tmpfs", inside); b < 0 || m < b {
					t.Fatalf("bind %d, mask %d: %q", b, m, a)
				}
			},
		},
		{
			name: "a hidden file is replaced by /dev/null; missing paths are skipped",
			hide: []string{keyFile, filepath.Join(root, "nope")}, dir: paper,
			checks: func(t *testing.T, a []string) {
				if indexOf(a, "--ro-bind", "/dev/null", keyFile) < 0 || slices.Contains(a, filepath.Join(root, "nope")) {
					t.Fatalf("%q", a)
				}
			},
		},
		{
			name: "private scratch space and default masks",
			dir:  paper,
			checks: func(t *testing.T, a []string) {
				for _, want := range [][]string{
					{"--perms", "1777", "--size", "1048576", "--tmpfs", "/dev/shm"},
					{"--perms", "1777", "--size", "1048576", "--tmpfs", "/tmp"},
					{"--tmpfs", "/root"}, {"--remount-ro", "/root"},
				} {
					if indexOf(a, want...) < 0 {
						t.Errorf("missing %q in %q", want, a)
					}
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Hide: tc.hide, ReadOnly: tc.ro, Links: tc.links}
			p, err := c.plan(tc.dir, "/usr/bin/python3", os.Getuid(), os.Getgid())
			if err != nil {
				t.Fatal(err)
			}
			tc.checks(t, p.args(1<<20))
		})
	}
}

func TestCommandArgs(t *testing.T) {
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bubblewrap is not installed (apt-get install bubblewrap)")
	}
	devs := t.TempDir()
	for _, d := range []string{"nvidia0", "nvidiactl", "nvidia-uvm"} {
		if err := os.WriteFile(filepath.Join(devs, d), nil, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	old := gpuGlob
	gpuGlob = filepath.Join(devs, "nvidia*")
	defer func() { gpuGlob = old }()
	if DefaultConfig().AddressSpaceBytes != 0 {
		t.Error("with NVIDIA devices the default address space must be unlimited (CUDA)")
	}
	c := Config{AddressSpaceBytes: 1 << 30, MaxProcesses: 100, MaxOpenFiles: 50, GPUDevices: true}
	dir := t.TempDir()
	cmd, err := c.Command(dir, []string{"sh", "-c", "true"}, []string{"A=1", "HOME=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	a := cmd.Args
	t.Logf("%q", a)
	if filepath.Base(a[0]) != "prlimit" || indexOf(a, "--as=1073741824", "--nproc=100", "--nofile=50", "--") != 1 {
		t.Fatalf("limits: %q", a)
	}
	for _, want := range [][]string{
		{"--die-with-parent"}, {"--new-session"}, {"--ro-bind", "/", "/"}, {"--proc", "/proc"}, {"--dev", "/dev"},
		{"--dev-bind", filepath.Join(devs, "nvidia0"), filepath.Join(devs, "nvidia0")},
		{"--chdir", dir, "--clearenv", "--setenv", "A", "1", "--setenv", "HOME", dir},
	} {
		if indexOf(a, want...) < 0 {
			t.Errorf("missing %q", want)
		}
	}
	if os.Geteuid() == 0 {
		if indexOf(a, "--unshare-net") < 0 || indexOf(a, "--unshare-pid") < 0 || indexOf(a, "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs") < 0 {
			t.Errorf("root worker: want namespaces and setpriv to nobody: %q", a)
		}
	} else if indexOf(a, "--unshare-all", "--unshare-user", "--disable-userns") < 0 {
		t.Errorf("non-root worker: want all namespaces: %q", a)
	}
	// A template that needs the network (its prompt.json says so) keeps it.
	c.Network = true
	netCmd, err := c.Command(dir, []string{"sh", "-c", "true"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if indexOf(netCmd.Args, "--unshare-net") >= 0 || (os.Geteuid() != 0 && indexOf(netCmd.Args, "--share-net") < 0) {
		t.Errorf("network kept: %q", netCmd.Args)
	}
	c.Network = false
	if cmd.SysProcAttr == nil || !cmd.SysProcAttr.Setpgid || cmd.SysProcAttr.Pdeathsig != syscall.SIGKILL {
		t.Errorf("want own process group and death with the worker: %+v", cmd.SysProcAttr)
	}
	if _, err := c.Command("", []string{"true"}, nil); err == nil {
		t.Error("an empty folder must be refused")
	}
	if _, err := c.Command("/", []string{"true"}, nil); err == nil {
		t.Error("/ must be refused as the experiment's folder")
	}
}

func TestEnviron(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-x")
	t.Setenv("CUDA_VISIBLE_DEVICES", "1")
	t.Setenv("LANG", "C.UTF-8")
	env := Environ("/p", []string{"AISCI_QUICK=1", "MPLBACKEND=pdf"})
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	if _, ok := got["OPENAI_API_KEY"]; ok {
		t.Fatal("API key passed into the sandbox")
	}
	want := map[string]string{"HOME": "/p", "CUDA_VISIBLE_DEVICES": "1", "LANG": "C.UTF-8", "AISCI_QUICK": "1", "MPLBACKEND": "pdf", "TMPDIR": "/tmp"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s=%q, want %q", k, got[k], v)
		}
	}
	if got["PATH"] == "" {
		t.Error("no PATH")
	}
}

// The mode a non-root worker gets (bwrap in a user namespace, no setpriv),
// exercised as the unprivileged user nobody.
func TestNonRootWorker(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start the sandbox as another user")
	}
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bubblewrap is not installed (apt-get install bubblewrap)")
	}
	base, err := os.MkdirTemp("", "aisci-nonroot-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	dir := filepath.Join(base, "paper")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	c := Config{MaxProcesses: 32, asUser: &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}}
	probe := exec.Command("bwrap", "--unshare-user", "--ro-bind", "/", "/", "true")
	probe.SysProcAttr = &syscall.SysProcAttr{Credential: c.asUser}
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("unprivileged user namespaces are not available here: %v: %s", err, out)
	}
	script := `import os, socket, subprocess, time
print("uid", os.getuid())
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2); print("LEAK net")
except OSError: print("ok net")
try:
    open("../escape", "w").write("x")  # the private /tmp: must not reach the host
    open("/etc/escape", "w"); print("LEAK write")
except OSError: print("ok write")
print("userns", "LEAK" if subprocess.run(["unshare", "-U", "true"], stderr=subprocess.DEVNULL).returncode == 0 else "ok")
n = 0
try:
    for i in range(1000):
        if os.fork() == 0:
            time.sleep(30); os._exit(0)
        n += 1
except OSError: pass
print("forks", n)
`
	cmd, err := c.Command(dir, []string{"/usr/bin/python3", "-c", script}, Environ(dir, nil))
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Contains(s, "LEAK") || !strings.Contains(s, "uid 65534") || !strings.Contains(s, "ok net") {
		t.Fatalf("not contained: %s", s)
	}
	var n int
	if i := strings.Index(s, "forks "); i < 0 {
		t.Fatal(s)
	} else if _, err := fmt.Sscan(s[i+6:], &n); err != nil || n >= 32 {
		t.Fatalf("forked %d with a limit of 32", n)
	}
	if _, err := os.Stat(filepath.Join(base, "escape")); err == nil {
		t.Fatal("escape written")
	}
}
