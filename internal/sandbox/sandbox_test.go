package sandbox_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aiscientist/aiscientist/internal/pyrun"
	"github.com/aiscientist/aiscientist/internal/sandbox"
)

// helperEnv makes the test binary a stand-in worker that runs a sandboxed
// sleeper and waits to be killed (TestWorkerDeathKillsSandbox).
const helperEnv = "AISCI_SANDBOX_TEST_HELPER"

func TestMain(m *testing.M) {
	if spec := os.Getenv(helperEnv); spec != "" {
		var h struct{ Dir, Python, Script string }
		if err := json.Unmarshal([]byte(spec), &h); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		cfg := sandbox.DefaultConfig()
		_, err := pyrun.Run(context.Background(), pyrun.Spec{Python: h.Python, Dir: h.Dir, Args: []string{"-c", h.Script}, Sandbox: &cfg, Stderr: os.Stderr})
		fmt.Fprintln(os.Stderr, "helper: run returned", err)
		os.Exit(3)
	}
	os.Exit(m.Run())
}

func needSandbox(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bubblewrap is not installed (apt-get install bubblewrap); sandbox tests skipped")
	}
	py, err := pyrun.Find(context.Background(), pyrun.Candidates(""), nil)
	if err != nil {
		t.Skip("no python3 on this machine")
	}
	return py
}

func token() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// hostDir is a scratch folder outside /tmp, /home and /root (which the
// sandbox hides anyway), so that hiding it proves Config.Hide works.
func hostDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp(".", ".sandbox-test-")
	if err != nil {
		t.Fatal(err)
	}
	d, _ = filepath.Abs(d)
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

type outcome struct {
	pyrun.Result
	Stdout string
	Err    error
}

// run runs a Python script in dir the way activities run experiments.
func run(t *testing.T, ctx context.Context, py string, cfg *sandbox.Config, dir, script string, timeout time.Duration, env ...string) outcome {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "main.py"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if timeout == 0 {
		timeout = time.Minute
	}
	var stdout, stderr strings.Builder
	res, err := pyrun.Run(ctx, pyrun.Spec{
		Python: py, Dir: dir, Args: []string{"main.py"}, Timeout: timeout,
		Env:    append([]string{"PYTHONUNBUFFERED=1"}, env...),
		Stdout: &stdout, Stderr: &stderr, Sandbox: cfg,
	})
	t.Logf("exit %d timed out %v in %s, stdout: %s stderr: %s", res.ExitCode, res.TimedOut, res.Duration.Round(time.Millisecond), strings.TrimSpace(stdout.String()), strings.TrimSpace(res.StderrTail))
	return outcome{res, stdout.String(), err}
}

// procs lists host processes whose command line holds marker.
func procs(marker string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), marker) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// sleepers lists the host's `sleep marker` processes.
func sleepers(marker string) []int {
	var pids []int
	for _, p := range procs(marker) {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p)); err == nil && strings.HasPrefix(string(b), "sleep\x00") {
			pids = append(pids, p)
		}
	}
	return pids
}

// gone waits up to 5 s for every process holding marker to disappear.
func gone(marker string) []int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		p := procs(marker)
		if len(p) == 0 || time.Now().After(deadline) {
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func killAll(pids []int) {
	for _, p := range pids {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
}

func TestCheck(t *testing.T) {
	needSandbox(t)
	if err := sandbox.DefaultConfig().Check(); err != nil {
		t.Fatalf("Check on a host with bubblewrap: %v", err)
	}
	if err := (sandbox.Config{Disabled: true, Bwrap: "/nonexistent"}).Check(); err != nil {
		t.Fatalf("a disabled sandbox needs nothing: %v", err)
	}
	err := sandbox.Config{Bwrap: "/nonexistent/bwrap"}.Check()
	if err == nil || !strings.Contains(err.Error(), "bubblewrap") || !strings.Contains(err.Error(), "--no-sandbox") {
		t.Fatalf("missing bwrap: want an error naming the package and --no-sandbox, got %v", err)
	}
	t.Log(err)
	// A bwrap that exists but fails (here: false) gets the same clear message.
	err = sandbox.Config{Bwrap: "false"}.Check()
	if err == nil || !strings.Contains(err.Error(), "does not work on this host") || !strings.Contains(err.Error(), "--no-sandbox") {
		t.Fatalf("broken bwrap: got %v", err)
	}
}

// A well-behaved experiment works: it writes final_info.json into its folder
// and sees HOME and the caller's variables.
func TestNormalExperiment(t *testing.T) {
	py := needSandbox(t)
	dir := t.TempDir()
	cfg := sandbox.DefaultConfig()
	script := `import json, os, sys
os.makedirs("run_1", exist_ok=True)
json.dump({"x": {"means": {"acc": 0.9}}}, open("run_1/final_info.json", "w"))
print(json.dumps({"cwd": os.getcwd(), "home": os.environ.get("HOME"), "quick": os.environ.get("AISCI_QUICK"), "mpl": os.environ.get("MPLBACKEND"), "uid": os.getuid()}))
sys.stderr.write("x" * 3000 + "END")
`
	o := run(t, context.Background(), py, &cfg, dir, script, 0, "AISCI_QUICK=1")
	if o.Err != nil || o.ExitCode != 0 {
		t.Fatalf("exit %d, %v", o.ExitCode, o.Err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(o.Stdout), &got); err != nil {
		t.Fatalf("stdout %q: %v", o.Stdout, err)
	}
	real, _ := filepath.EvalSymlinks(dir)
	if got["cwd"] != real || got["home"] != real || got["quick"] != "1" || got["mpl"] != "Agg" {
		t.Fatalf("environment inside: %v", got)
	}
	if os.Geteuid() == 0 && got["uid"] == float64(0) {
		t.Fatalf("a root worker's experiment must not run as root: %v", got)
	}
	if len(o.StderrTail) != pyrun.TailBytes || !strings.HasSuffix(o.StderrTail, "END") {
		t.Fatalf("stderr tail: %d bytes", len(o.StderrTail))
	}
	b, err := os.ReadFile(filepath.Join(dir, "run_1", "final_info.json"))
	if err != nil || !strings.Contains(string(b), "acc") {
		t.Fatalf("final_info.json on the host: %q, %v", b, err)
	}
}

// The template's stack works inside: torch, numpy, matplotlib (Agg) under
// the default limits.
func TestTorchStack(t *testing.T) {
	py := needSandbox(t)
	if err := pyrun.CanImport(context.Background(), py, []string{"torch", "numpy", "matplotlib"}); err != nil {
		t.Skipf("%s lacks the template's packages: %v", py, err)
	}
	dir := t.TempDir()
	cfg := sandbox.DefaultConfig()
	script := `import torch, numpy as np, matplotlib.pyplot as plt
x = torch.randn(64, 8); w = torch.randn(8, 1, requires_grad=True)
(x @ w).pow(2).mean().backward()
plt.plot(np.arange(10)); plt.savefig("fig.png")
print("ok", torch.__version__)
`
	o := run(t, context.Background(), py, &cfg, dir, script, 0)
	if o.ExitCode != 0 || !strings.HasPrefix(o.Stdout, "ok") {
		t.Fatalf("torch stack: exit %d: %s", o.ExitCode, o.StderrTail)
	}
	if _, err := os.Stat(filepath.Join(dir, "fig.png")); err != nil {
		t.Fatal(err)
	}
}

// Each hostile probe prints "LEAK ..." when it gets through and "ok ..."
// otherwise. Where a probe can succeed on this host, it also runs without
// the sandbox (control) and must report the leak there: proof the probe
// would notice one.
func TestHostileExperimentsAreContained(t *testing.T) {
	py := needSandbox(t)
	hidden := hostDir(t)
	paper := filepath.Join(hidden, "papers", "mine")
	other := filepath.Join(hidden, "papers", "other")
	for _, d := range []string{paper, other} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(hidden, "secret.env"), "OPENAI_API_KEY=sk-hidden")
	write(filepath.Join(other, "notes.txt"), "someone else's paper")
	write(filepath.Join(paper, "input.txt"), "my data")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	abstract := "@aisci-sandbox-test-" + token()
	uln, err := net.Listen("unix", abstract)
	if err != nil {
		t.Fatal(err)
	}
	defer uln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	go func() {
		for {
			c, err := uln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	home, _ := os.UserHomeDir()
	homeMarker := ""
	if home != "" && home != "/" {
		if f, err := os.CreateTemp(home, ".aisci-sandbox-test-"); err == nil {
			homeMarker = f.Name()
			f.Close()
			defer os.Remove(homeMarker)
		}
	}
	hostTmp := filepath.Join(os.TempDir(), "aisci-sandbox-escape-"+token())
	t.Cleanup(func() { os.Remove(hostTmp) })
	t.Setenv("OPENAI_API_KEY", "sk-test-must-not-leak")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "must-not-leak-either")

	const prelude = `import os, socket, sys
def probe(name, f):
    try:
        r = f()
        print("LEAK", name, r)
    except Exception as e:
        print("ok", name, type(e).__name__, e)
`
	tests := []struct {
		name    string
		script  string
		control bool // the probe leaks when run without the sandbox
		skip    string
		// hostLeak, when set, looks on the host for the probe's effect (and
		// removes it).
		hostLeak func() bool
	}{
		{name: "internet", script: `probe("tcp 1.1.1.1:53", lambda: socket.create_connection(("1.1.1.1", 53), timeout=3))`},
		{name: "dns", script: `probe("resolve", lambda: socket.getaddrinfo("example.com", 443))`},
		{name: "worker's loopback listener", control: true,
			script: fmt.Sprintf(`probe("tcp %s", lambda: socket.create_connection(("127.0.0.1", %d), timeout=3))`, ln.Addr(), ln.Addr().(*net.TCPAddr).Port)},
		{name: "abstract unix socket", control: true,
			script: fmt.Sprintf(`s = socket.socket(socket.AF_UNIX); probe("unix", lambda: s.connect("\0%s"))`, abstract[1:])},
		{name: "API keys in the environment", control: true,
			script: `probe("env", lambda: [k for k in os.environ if "KEY" in k or "SECRET" in k] or (_ for _ in ()).throw(LookupError("no key")))`},
		{name: "host /tmp", control: true,
			script: fmt.Sprintf(`open(%q, "w").write("x")
print("ok wrote the private /tmp")`, hostTmp),
			hostLeak: func() bool { _, err := os.Stat(hostTmp); os.Remove(hostTmp); return err == nil }},
		{name: "parent of the paper folder", control: true,
			script: `probe("write ..", lambda: open("../escape.txt", "w").write("x") and "wrote ../escape.txt")`,
			hostLeak: func() bool {
				p := filepath.Join(filepath.Dir(paper), "escape.txt")
				_, err := os.Stat(p)
				os.Remove(p)
				return err == nil
			}},
		{name: "read-only system", script: `probe("write /usr", lambda: open("/usr/aisci-escape", "w").write("x"))
probe("write /etc", lambda: open("/etc/aisci-escape", "w").write("x"))
probe("write /var/lib", lambda: open("/var/lib/aisci-escape", "w").write("x"))`},
		{name: "hidden data folder", control: true,
			script: fmt.Sprintf(`probe("secret", lambda: open(%q).read())
probe("other paper", lambda: open(%q).read())
probe("listing", lambda: [x for x in os.listdir(%q) if x != "papers"] or (_ for _ in ()).throw(LookupError("nothing else")))
print("own input:", open("input.txt").read())`, filepath.Join(hidden, "secret.env"), filepath.Join(other, "notes.txt"), hidden)},
		{name: "worker's home", control: true, skip: map[bool]string{true: "no writable home folder"}[homeMarker == ""],
			script: fmt.Sprintf(`probe("home", lambda: open(%q).read() == "" and "marker readable")`, homeMarker)},
		{name: "shadow passwords", control: os.Geteuid() == 0, skip: map[bool]string{true: "needs a root worker"}[os.Geteuid() != 0],
			script: `probe("shadow", lambda: open("/etc/shadow").read()[:4])`},
		{name: "host processes", control: true,
			script: `probe("ps", lambda: len([p for p in os.listdir("/proc") if p.isdigit()]) > 10 and "host processes visible" or (_ for _ in ()).throw(LookupError("only the sandbox's")))`},
		{name: "privilege escalation", skip: map[bool]string{true: "needs a root worker"}[os.Geteuid() != 0],
			script: `probe("setuid", lambda: os.setuid(0))`},
	}
	on := sandbox.DefaultConfig()
	on.Hide = []string{hidden}
	off := on
	off.Disabled = true
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip != "" {
				t.Skip(tc.skip)
			}
			o := run(t, context.Background(), py, &on, paper, prelude+tc.script, 0)
			if o.Err != nil || o.ExitCode != 0 {
				t.Fatalf("probe crashed: exit %d, %v: %s", o.ExitCode, o.Err, o.StderrTail)
			}
			if strings.Contains(o.Stdout, "LEAK") || !strings.Contains(o.Stdout, "ok ") {
				t.Fatalf("not contained:\n%s", o.Stdout)
			}
			if tc.hostLeak != nil && tc.hostLeak() {
				t.Fatal("the probe's write reached the host")
			}
			if tc.control {
				c := run(t, context.Background(), py, &off, paper, prelude+tc.script, 0)
				leaked := strings.Contains(c.Stdout, "LEAK")
				if tc.hostLeak != nil {
					leaked = tc.hostLeak()
				}
				if !leaked {
					t.Fatalf("control without sandbox did not leak, so the probe proves nothing:\n%s%s", c.Stdout, c.StderrTail)
				}
			}
		})
	}
	t.Run("nothing outside the sandbox is killed", func(t *testing.T) {
		marker := "3600." + strconv.Itoa(int(time.Now().UnixNano()%1e6))
		victim := exec.Command("sleep", marker)
		if err := victim.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = victim.Process.Kill(); _ = victim.Wait() }()
		script := fmt.Sprintf(`import os, signal, subprocess
for pid in (%d, %d, 1):
    try:
        os.kill(pid, signal.SIGKILL)
    except Exception as e:
        print("kill", pid, type(e).__name__)
subprocess.run(["pkill", "-9", "-f", "sleep"])
os.kill(-1, signal.SIGKILL)
`, victim.Process.Pid, os.Getpid())
		run(t, context.Background(), py, &on, paper, script, 0)
		time.Sleep(100 * time.Millisecond)
		if err := victim.Process.Signal(syscall.Signal(0)); err != nil {
			t.Fatalf("the host's sleep %s was killed from inside the sandbox: %v", marker, err)
		}
	})
}

// detachScript starts children that try to outlive the run: a setsid'd
// nohup sleep and a double-forked daemon.
func detachScript(marker string, thenSleep bool) string {
	s := fmt.Sprintf(`import os, subprocess, time
subprocess.Popen(["setsid", "nohup", "sleep", %q], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", %q])
    os._exit(0)
time.sleep(0.5)
print("started")
`, marker, marker)
	if thenSleep {
		s += "time.sleep(600)\n"
	}
	return s
}

func TestDetachedChildrenDoNotOutliveTheRun(t *testing.T) {
	py := needSandbox(t)
	cfg := sandbox.DefaultConfig()
	marker := "3601." + strconv.Itoa(int(time.Now().UnixNano()%1e6))
	o := run(t, context.Background(), py, &cfg, t.TempDir(), detachScript(marker, false), 0)
	if o.ExitCode != 0 || !strings.Contains(o.Stdout, "started") {
		t.Fatalf("exit %d: %s", o.ExitCode, o.StderrTail)
	}
	if left := gone(marker); len(left) > 0 {
		killAll(left)
		t.Fatalf("detached children outlived the sandboxed run: %v", left)
	}
	// Control: without the sandbox the same children survive (so the probe
	// is real); clean them up.
	off := cfg
	off.Disabled = true
	marker2 := "3602." + strconv.Itoa(int(time.Now().UnixNano()%1e6))
	run(t, context.Background(), py, &off, t.TempDir(), detachScript(marker2, false), 0)
	left := sleepers(marker2)
	killAll(left)
	if len(left) < 2 {
		t.Fatal("control: detached children died without the sandbox too; the probe proves nothing")
	}
}

func TestTimeoutAndCancelKillTheTree(t *testing.T) {
	py := needSandbox(t)
	cfg := sandbox.DefaultConfig()
	t.Run("timeout", func(t *testing.T) {
		marker := "3603." + strconv.Itoa(int(time.Now().UnixNano()%1e6))
		start := time.Now()
		o := run(t, context.Background(), py, &cfg, t.TempDir(), detachScript(marker, true), 2*time.Second)
		if o.Err != nil || !o.TimedOut || time.Since(start) > 15*time.Second {
			t.Fatalf("timed out %v after %s, %v", o.TimedOut, time.Since(start), o.Err)
		}
		if left := gone(marker); len(left) > 0 {
			killAll(left)
			t.Fatalf("processes survived the timeout: %v", left)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		marker := "3604." + strconv.Itoa(int(time.Now().UnixNano()%1e6))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		o := run(t, ctx, py, &cfg, t.TempDir(), detachScript(marker, true), 0)
		if o.Err == nil || !strings.Contains(o.Err.Error(), "cancelled") {
			t.Fatalf("want a cancellation error, got %v", o.Err)
		}
		if left := gone(marker); len(left) > 0 {
			killAll(left)
			t.Fatalf("processes survived the cancellation: %v", left)
		}
	})
}

// The worker dying (SIGKILL, no chance to clean up) takes the sandbox with it.
func TestWorkerDeathKillsSandbox(t *testing.T) {
	py := needSandbox(t)
	marker := "3605." + strconv.Itoa(int(time.Now().UnixNano()%1e6))
	spec, _ := json.Marshal(map[string]string{"Dir": t.TempDir(), "Python": py, "Script": detachScript(marker, true)})
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"="+string(spec))
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = helper.Process.Kill(); _ = helper.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for len(sleepers(marker)) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the helper's sandboxed children never started")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()
	if left := gone(marker); len(left) > 0 {
		killAll(left)
		t.Fatalf("sandboxed processes outlived the killed worker: %v", left)
	}
}

func TestResourceLimits(t *testing.T) {
	py := needSandbox(t)
	tests := []struct {
		name    string
		cfg     func(*sandbox.Config)
		script  string
		want    string // in stdout or stderr
		control bool   // with no limit the script gets past the limit
	}{
		{
			name:    "address space: a 4 GiB mapping is refused",
			cfg:     func(c *sandbox.Config) { c.AddressSpaceBytes = 1 << 30 },
			script:  "import mmap\ntry:\n    m = mmap.mmap(-1, 4 << 30)\n    print('mapped 4 GiB')\nexcept OSError as e:\n    print('refused', e)\n",
			want:    "refused",
			control: true,
		},
		{
			name:   "address space: a memory hog dies with MemoryError",
			cfg:    func(c *sandbox.Config) { c.AddressSpaceBytes = 1 << 30 },
			script: "chunks = []\nwhile True:\n    chunks.append(bytearray(64 << 20))\n",
			want:   "MemoryError",
		},
		{
			name:    "open files",
			cfg:     func(c *sandbox.Config) { c.MaxOpenFiles = 64 },
			script:  "fs = []\ntry:\n    for i in range(200):\n        fs.append(open('/dev/null'))\n    print('opened 200')\nexcept OSError as e:\n    print('refused after', len(fs), e)\n",
			want:    "refused after",
			control: true,
		},
		{
			name: "fork bomb",
			cfg:  func(c *sandbox.Config) { c.MaxProcesses = 64 },
			script: `import os, sys, time
n = 0
try:
    for i in range(5000):
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        n += 1
    print("forked", n)
except OSError as e:
    print("fork refused after", n, e)
`,
			want: "fork refused after",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := sandbox.DefaultConfig()
			tc.cfg(&cfg)
			o := run(t, context.Background(), py, &cfg, t.TempDir(), tc.script, 30*time.Second)
			if o.Err != nil || o.TimedOut {
				t.Fatalf("run: %+v, %v", o.Result, o.Err)
			}
			if !strings.Contains(o.Stdout+o.StderrTail, tc.want) {
				t.Fatalf("want %q, got stdout %q stderr %q", tc.want, o.Stdout, o.StderrTail)
			}
			if strings.HasPrefix(tc.name, "fork") {
				f := strings.Fields(o.Stdout)
				if n, err := strconv.Atoi(f[3]); err != nil || n >= 64 {
					t.Fatalf("forked %v processes despite a limit of 64", f[3])
				}
				// The test process (the worker) is unharmed and can still fork.
				if err := exec.Command("true").Run(); err != nil {
					t.Fatalf("the host cannot fork after the bomb: %v", err)
				}
			}
			if tc.control {
				free := sandbox.DefaultConfig()
				free.AddressSpaceBytes, free.MaxOpenFiles = 0, 0
				c := run(t, context.Background(), py, &free, t.TempDir(), tc.script, 30*time.Second)
				if strings.Contains(c.Stdout, tc.want) {
					t.Fatalf("control without the limit hit it too; the probe proves nothing: %s", c.Stdout)
				}
			}
		})
	}
}

// An interpreter in a virtualenv under a hidden folder (/root/venv, say)
// still runs: its installation is made visible read-only.
func TestVirtualenvUnderHiddenFolder(t *testing.T) {
	py := needSandbox(t)
	hidden := hostDir(t)
	venv := filepath.Join(hidden, "venv")
	if out, err := exec.Command(py, "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		t.Skipf("python -m venv: %v: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(hidden, "secret.env"), []byte("KEY=1"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := sandbox.DefaultConfig()
	cfg.Hide = []string{hidden}
	dir := t.TempDir()
	script := fmt.Sprintf("import sys, os\nprint(sys.prefix)\nprint(os.path.exists(%q))\n", filepath.Join(hidden, "secret.env"))
	if err := os.WriteFile(filepath.Join(dir, "main.py"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	res, err := pyrun.Run(context.Background(), pyrun.Spec{Python: filepath.Join(venv, "bin", "python"), Dir: dir, Args: []string{"main.py"}, Sandbox: &cfg, Stdout: &out, Timeout: time.Minute})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("venv python: exit %d, %v: %s", res.ExitCode, err, res.StderrTail)
	}
	lines := strings.Fields(out.String())
	if len(lines) != 2 || lines[0] != venv || lines[1] != "False" {
		t.Fatalf("want the venv prefix and the secret hidden, got %q", out.String())
	}
	// An interpreter whose installation is the hidden folder itself cannot be
	// exposed without exposing the folder: a clear error.
	if err := os.MkdirAll(filepath.Join(hidden, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(py, filepath.Join(hidden, "bin", "python3")); err != nil {
		t.Fatal(err)
	}
	_, err = pyrun.Run(context.Background(), pyrun.Spec{Python: filepath.Join(hidden, "bin", "python3"), Dir: dir, Args: []string{"main.py"}, Sandbox: &cfg})
	if err == nil || !strings.Contains(err.Error(), "hides") {
		t.Fatalf("want an error about the hidden interpreter, got %v", err)
	}
}

// A reference-style template reads its data at ../../data and ../../../data
// of the paper folder: links in the hidden artifact store to a data folder
// that is hidden too (under /tmp here), read-only.
func TestDataFolderThroughLinks(t *testing.T) {
	py := needSandbox(t)
	store := hostDir(t)
	paper := filepath.Join(store, "papers", "tpl", "20260101_000000_idea")
	if err := os.MkdirAll(paper, 0o755); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(filepath.Join(data, "set"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "set", "x.txt"), []byte("42"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := sandbox.DefaultConfig()
	cfg.Hide = []string{store}
	cfg.ReadOnly = []string{data}
	cfg.Links = []sandbox.Link{{Path: filepath.Join(store, "papers", "data"), Target: data}, {Path: filepath.Join(store, "data"), Target: data}}
	script := `import os
for p in ("../../data/set/x.txt", "../../../data/set/x.txt"):
    print(open(p).read())
try:
    open("../../data/set/y.txt", "w")
    print("writable")
except OSError:
    print("read-only")
print(sorted(os.listdir("../..")))
`
	var out strings.Builder
	res, err := pyrun.Run(context.Background(), pyrun.Spec{Python: py, Dir: paper, Args: []string{"-c", script}, Sandbox: &cfg, Stdout: &out, Timeout: time.Minute})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("exit %d, %v: %s", res.ExitCode, err, res.StderrTail)
	}
	if got, want := strings.Fields(out.String()), []string{"42", "42", "read-only", "['data',", "'tpl']"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
