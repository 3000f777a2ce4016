// Package pyrun finds a Python interpreter that can run a template and runs
// scripts under it with a timeout that kills the whole process tree.
package pyrun

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aiscientist/aiscientist/internal/sandbox"
)

// Candidates lists interpreters to try in order. An explicit choice (flag or
// AISCI_PYTHON) is the only candidate, so a wrong setting fails loudly;
// otherwise Debian's /usr/bin/python3 (where python3-torch lives) comes
// before whatever python3 is first on PATH.
func Candidates(explicit string) []string {
	if explicit == "" {
		explicit = os.Getenv("AISCI_PYTHON")
	}
	if explicit != "" {
		return []string{explicit}
	}
	var out []string
	for _, c := range []string{"/usr/bin/python3", "python3"} {
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

var importLine = regexp.MustCompile(`(?m)^(?:import\s+([A-Za-z_][\w]*)|from\s+([A-Za-z_][\w]*)[\w.]*\s+import)`)

// Imports returns the top-level modules a script imports at column 0.
func Imports(src string) []string {
	var mods []string
	for _, m := range importLine.FindAllStringSubmatch(src, -1) {
		mod := m[1]
		if mod == "" {
			mod = m[2]
		}
		if mod != "__future__" && !slices.Contains(mods, mod) {
			mods = append(mods, mod)
		}
	}
	return mods
}

// Find returns the first candidate that can import every module. When none
// can, the error names what each candidate lacked.
func Find(ctx context.Context, candidates, modules []string) (string, error) {
	return FindIn(ctx, "", candidates, modules)
}

// FindIn is Find with the imports tried from dir, the folder the scripts
// run in, so modules that live beside them (a template's datasets.py)
// import as they will when the scripts run, with their own imports checked.
func FindIn(ctx context.Context, dir string, candidates, modules []string) (string, error) {
	var reasons []string
	for _, c := range candidates {
		path, err := exec.LookPath(c)
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: not found", c))
			continue
		}
		if err := CanImportIn(ctx, dir, path, modules); err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", path, err))
			continue
		}
		return path, nil
	}
	return "", fmt.Errorf("no Python interpreter can import %s (set --python or AISCI_PYTHON; on Debian: apt-get install python3-torch python3-numpy python3-matplotlib): %s",
		strings.Join(modules, ", "), strings.Join(reasons, "; "))
}

// CanImport checks that python imports all modules.
func CanImport(ctx context.Context, python string, modules []string) error {
	return CanImportIn(ctx, "", python, modules)
}

// CanImportIn checks the imports from dir ("": the current folder); a
// module that fails is named with the reason Python gives.
func CanImportIn(ctx context.Context, dir, python string, modules []string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	script := "import importlib, sys\nsys.path.insert(0, '')\nmissing = []\nfor m in sys.argv[1:]:\n    try:\n        importlib.import_module(m)\n    except Exception as e:\n        missing.append('%s (%s: %s)' % (m, type(e).__name__, e))\nif missing:\n    print('cannot import ' + ', '.join(missing))\n    sys.exit(1)\n"
	cmd := exec.CommandContext(ctx, python, append([]string{"-c", script}, modules...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg == "" {
			msg = err.Error()
		}
		return errors.New(msg)
	}
	return nil
}

// Spec is one script run.
type Spec struct {
	Python  string
	Dir     string   // working directory
	Args    []string // script and its arguments
	Env     []string // extra KEY=VALUE entries on top of the worker's environment
	Timeout time.Duration
	// Stdout and Stderr receive the streams in full (may be nil).
	Stdout, Stderr io.Writer
	// Tick is called every TickEvery while the process runs (heartbeats).
	Tick      func()
	TickEvery time.Duration
	// Sandbox, when set and not Disabled, runs the script inside it: Dir is
	// the only writable host folder and Env is added to sandbox.Environ
	// instead of the worker's environment. Nil runs the script directly.
	Sandbox *sandbox.Config
}

// Result of a run. A non-zero exit is a Result, not an error: the caller
// decides what a failed experiment means.
type Result struct {
	ExitCode   int
	TimedOut   bool
	Duration   time.Duration
	StderrTail string
}

// TailBytes is how much of stderr goes back to the model on failure.
const TailBytes = 1500

// Run executes the script. It returns an error only when the process could
// not be started or the context was cancelled.
func Run(ctx context.Context, s Spec) (Result, error) {
	runCtx := ctx
	var cancel context.CancelFunc
	if s.Timeout > 0 {
		runCtx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	var cmd *exec.Cmd
	if s.Sandbox.Enabled() {
		// Own process group too; killing it kills bwrap, and with it the
		// sandbox's PID namespace, detached children included.
		// The sandbox dies with its parent thread (PR_SET_PDEATHSIG, so a
		// killed worker leaves nothing behind); keep that thread alive, as
		// the Go runtime ends a thread only when a goroutine locked to it
		// exits.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var err error
		if cmd, err = s.Sandbox.Command(s.Dir, append([]string{s.Python}, s.Args...), sandbox.Environ(s.Dir, s.Env)); err != nil {
			return Result{}, err
		}
	} else {
		cmd = exec.Command(s.Python, s.Args...)
		cmd.Dir = s.Dir
		cmd.Env = append(os.Environ(), s.Env...)
		// Own process group, so a timeout kills everything the script spawned.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	// A child that outlives the script (possible only without the sandbox)
	// may hold stdout or stderr open; do not wait for it forever.
	cmd.WaitDelay = 5 * time.Second
	tail := &tailBuffer{max: TailBytes}
	cmd.Stderr = multi(s.Stderr, tail)
	cmd.Stdout = multi(s.Stdout, nil)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("start %s: %w", s.Python, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	every := s.TickEvery
	if every <= 0 {
		every = 10 * time.Second
	}
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	var res Result
	for {
		select {
		case err := <-done:
			res.Duration = time.Since(start)
			res.StderrTail = tail.String()
			if errors.Is(err, exec.ErrWaitDelay) {
				err = nil // exited 0; an orphan kept a stream open
			}
			if err != nil {
				var ee *exec.ExitError
				if !errors.As(err, &ee) {
					return res, fmt.Errorf("wait for %s: %w", s.Python, err)
				}
				res.ExitCode = ee.ExitCode()
			}
			return res, nil
		case <-ticker.C:
			if s.Tick != nil {
				s.Tick()
			}
		case <-runCtx.Done():
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			res.Duration = time.Since(start)
			res.StderrTail = tail.String()
			res.ExitCode = -1
			if ctx.Err() != nil {
				return res, fmt.Errorf("run cancelled: %w", ctx.Err())
			}
			res.TimedOut = true
			return res, nil
		}
	}
}

func multi(a, b io.Writer) io.Writer {
	switch {
	case a == nil && b == nil:
		return io.Discard
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return io.MultiWriter(a, b)
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4*t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	b := t.buf
	if len(b) > t.max {
		b = b[len(b)-t.max:]
	}
	return string(bytes.ToValidUTF8(b, nil))
}

// ForTemplate finds the interpreter for the template (or paper) folder dir:
// one that imports everything experiment.py and plot.py import.
func ForTemplate(ctx context.Context, explicit, dir string) (string, error) {
	mods, err := ModulesOf(dir, "experiment.py", "plot.py")
	if err != nil {
		return "", fmt.Errorf("read the template's scripts: %w", err)
	}
	return FindIn(ctx, dir, Candidates(explicit), mods)
}

// ModulesOf lists the imports of the given scripts in dir.
func ModulesOf(dir string, scripts ...string) ([]string, error) {
	var mods []string
	for _, s := range scripts {
		b, err := os.ReadFile(filepath.Join(dir, s))
		if err != nil {
			return nil, err
		}
		for _, m := range Imports(string(b)) {
			if !slices.Contains(mods, m) {
				mods = append(mods, m)
			}
		}
	}
	return mods, nil
}

// LastLine returns the last non-empty line of s (the exception, for a
// Python traceback), for short status messages.
func LastLine(s string) string {
	var last string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			last = l
		}
	}
	if len(last) > 300 {
		last = last[:300] + "…"
	}
	return last
}
