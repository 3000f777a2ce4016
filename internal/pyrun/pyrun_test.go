package pyrun

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aiscientist/aiscientist/internal/sandbox"
)

func TestImports(t *testing.T) {
	src := "import os\nimport torch.nn as nn\nfrom numpy import array\nfrom __future__ import annotations\n  import indented\nimport os\n"
	got := Imports(src)
	want := []string{"os", "torch", "numpy"}
	if !slices.Equal(got, want) {
		t.Fatalf("Imports = %v, want %v", got, want)
	}
}

func python(t *testing.T) string {
	t.Helper()
	p, err := Find(context.Background(), Candidates(""), nil)
	if err != nil {
		t.Skip("no python3 on this machine")
	}
	return p
}

func TestFindReportsMissingModule(t *testing.T) {
	py := python(t)
	_, err := Find(context.Background(), []string{py}, []string{"json", "no_such_module_xyz"})
	if err == nil || !strings.Contains(err.Error(), "no_such_module_xyz") {
		t.Fatalf("want error naming the module, got %v", err)
	}
	if got, err := Find(context.Background(), []string{"/nonexistent/python", py}, []string{"json"}); err != nil || got != py {
		t.Fatalf("Find = %q, %v", got, err)
	}
}

func TestRun(t *testing.T) {
	py := python(t)
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ok.py", "import sys\nprint('hi')\nsys.stderr.write('x' * 4000 + 'END')\n")
	write("fail.py", "raise ValueError('boom')\n")
	write("slow.py", "import subprocess, time\nsubprocess.Popen(['sleep', '60'])\ntime.sleep(60)\n")

	res, err := Run(context.Background(), Spec{Python: py, Dir: dir, Args: []string{"ok.py"}})
	if err != nil || res.ExitCode != 0 || len(res.StderrTail) != TailBytes || !strings.HasSuffix(res.StderrTail, "END") {
		t.Fatalf("ok.py: %+v (tail %d bytes), %v", res.ExitCode, len(res.StderrTail), err)
	}
	res, err = Run(context.Background(), Spec{Python: py, Dir: dir, Args: []string{"fail.py"}})
	if err != nil || res.ExitCode == 0 || LastLine(res.StderrTail) != "ValueError: boom" {
		t.Fatalf("fail.py: %+v, %v", res, err)
	}
	start := time.Now()
	res, err = Run(context.Background(), Spec{Python: py, Dir: dir, Args: []string{"slow.py"}, Timeout: time.Second})
	if err != nil || !res.TimedOut || time.Since(start) > 20*time.Second {
		t.Fatalf("slow.py: %+v, %v", res, err)
	}
}

// A nil or disabled sandbox runs the script directly, as before: the
// worker's environment and privileges; an enabled one replaces both.
func TestRunSandbox(t *testing.T) {
	py := python(t)
	t.Setenv("AISCI_TEST_PARENT_VAR", "from-worker")
	script := "import os\nprint(os.environ.get('AISCI_TEST_PARENT_VAR'), os.environ.get('EXTRA'), os.getuid(), os.environ.get('HOME') == os.getcwd())\nopen('out.txt', 'w').write('x')\n"
	tests := []struct {
		name    string
		sandbox *sandbox.Config
		want    string
		bwrap   bool
	}{
		{name: "nil", want: fmt.Sprintf("from-worker 1 %d False", os.Getuid())},
		{name: "disabled", sandbox: &sandbox.Config{Disabled: true, Bwrap: "/nonexistent"}, want: fmt.Sprintf("from-worker 1 %d False", os.Getuid())},
		{name: "enabled", sandbox: &sandbox.Config{}, bwrap: true, want: "None 1 %d True"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.bwrap {
				if _, err := exec.LookPath("bwrap"); err != nil {
					t.Skip("bubblewrap is not installed (apt-get install bubblewrap)")
				}
				uid := os.Getuid()
				if uid == 0 {
					uid = 65534 // a root worker's experiments run as nobody
				}
				tc.want = fmt.Sprintf(tc.want, uid)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "s.py"), []byte(script), 0o644); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			res, err := Run(context.Background(), Spec{Python: py, Dir: dir, Args: []string{"s.py"}, Env: []string{"EXTRA=1"}, Stdout: &out, Sandbox: tc.sandbox})
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("exit %d, %v: %s", res.ExitCode, err, res.StderrTail)
			}
			if got := strings.TrimSpace(out.String()); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "out.txt")); err != nil {
				t.Fatal(err)
			}
		})
	}
	// A broken sandbox is an error, never a silent direct run.
	if _, err := Run(context.Background(), Spec{Python: py, Dir: t.TempDir(), Args: []string{"-c", "pass"}, Sandbox: &sandbox.Config{Bwrap: "/nonexistent/bwrap"}}); err == nil || !strings.Contains(err.Error(), "bubblewrap") {
		t.Fatalf("missing bwrap: got %v", err)
	}
}

// An orphan that keeps stdout open (possible without the sandbox) does not
// make Run wait for it.
func TestRunDoesNotWaitForOrphans(t *testing.T) {
	py := python(t)
	dir := t.TempDir()
	script := "import subprocess\np = subprocess.Popen(['sleep', '30'], start_new_session=True)\nprint(p.pid)\n"
	start := time.Now()
	var out strings.Builder
	res, err := Run(context.Background(), Spec{Python: py, Dir: dir, Args: []string{"-c", script}, Stdout: &out})
	if err != nil || res.ExitCode != 0 || time.Since(start) > 15*time.Second {
		t.Fatalf("exit %d after %s, %v", res.ExitCode, time.Since(start), err)
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(out.String())); err == nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// TestForTemplateLocalModule: a module beside experiment.py (as the
// reference's 2d_diffusion has datasets.py) imports, from any working
// directory, and its own missing imports are reported.
func TestForTemplateLocalModule(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("experiment.py", "import json\nimport local_helpers\n")
	write("plot.py", "import json\n")
	write("local_helpers.py", "import json\n")
	if _, err := ForTemplate(context.Background(), "", dir); err != nil {
		t.Fatalf("a local module does not import: %v", err)
	}
	write("local_helpers.py", "import no_such_module_here\n")
	_, err := ForTemplate(context.Background(), "", dir)
	if err == nil || !strings.Contains(err.Error(), "local_helpers (ModuleNotFoundError: No module named 'no_such_module_here')") {
		t.Errorf("err = %v", err)
	}
}
