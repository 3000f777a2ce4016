package pyrun

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
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
