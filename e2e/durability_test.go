package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// TestWorkerKilledMidExperiment kills `worker --dev` (SIGKILL, server and
// worker in one process) while run 1 of a paper is executing, restarts it
// on the same SQLite data folder, and checks that the paper finishes with
// every finished run executed exactly once and the killed run re-executed
// cleanly.
func TestWorkerKilledMidExperiment(t *testing.T) {
	if testing.Short() {
		t.Skip("worker kill test skipped in -short mode")
	}
	requireTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 18*time.Minute)
	defer cancel()

	tmp := t.TempDir()
	bin := buildWorker(ctx, t, tmp)
	templates, _ := filepath.Abs("../templates")
	dataDir, results := filepath.Join(tmp, "data"), t.TempDir()
	port := freePortPair(t)
	args := []string{"--dev", "--data-dir", dataDir, "--port", strconv.Itoa(port), "--templates", templates, "--log-level", "warn"}
	if py := os.Getenv("AISCI_PYTHON"); py != "" {
		args = append(args, "--python", py)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	w1 := startWorkerProcess(ctx, t, bin, args, filepath.Join(tmp, "worker1"))
	c := dialWorkerProcess(ctx, t, addr)
	id, err := app.StartCampaign(ctx, c, workflows.CampaignInput{
		Template: "grokking", Model: "scripted", NumIdeas: 1, Quick: true, SkipNoveltyCheck: true, SkipCitations: true, ResultsDir: results, MaxRuns: 2, RunTimeout: 10 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}

	workspace := awaitRunExecuting(ctx, t, c, id, 1)
	time.Sleep(5 * time.Second) // well inside the ~35 s run: python is computing
	// Without a process to find now, the check after the kill proves nothing.
	running := experimentProcesses(dataDir)
	if len(running) == 0 {
		t.Fatal("run 1 is in the ledger but no experiment.py process of this worker is running")
	}
	t.Logf("killing the worker's process group in the middle of run 1 (experiment processes %v)", running)
	c.Close()
	w1.kill(t)
	// The sandbox dies with the worker (PR_SET_PDEATHSIG, bwrap
	// --die-with-parent) even though it has its own process group.
	var left []int
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if left = experimentProcesses(dataDir); len(left) == 0 {
			break
		}
	}
	if len(left) > 0 {
		t.Fatalf("experiment processes %v survived the worker's SIGKILL by 5 s", left)
	}
	if _, err := os.Stat(filepath.Join(workspace, "run_1", "final_info.json")); err == nil {
		t.Fatal("run 1 finished before the kill; the test did not interrupt it")
	}

	startWorkerProcess(ctx, t, bin, args, filepath.Join(tmp, "worker2"))
	c = dialWorkerProcess(ctx, t, addr)
	defer c.Close()
	// The lost attempt is only noticed by its heartbeat timeout (1 min,
	// runOptions in workflows/options.go), then retried after 5 s on the
	// same device queue, which the restarted worker polls (same host name):
	// run 1 resumes about 65 s after the kill, and the paper ends some
	// 3 minutes later.
	wctx, wcancel := context.WithTimeout(ctx, 8*time.Minute)
	defer wcancel()
	var prog workflows.CampaignProgress
	if err := c.GetWorkflow(wctx, id, "").Get(wctx, &prog); err != nil {
		t.Fatalf("campaign after the restart: %v", err)
	}
	if prog.State != workflows.StateCompleted || len(prog.Ideas) != 1 || prog.Ideas[0].State != workflows.StateCompleted {
		t.Fatalf("campaign progress = %+v", prog)
	}
	pp, ok := campaignPaper(ctx, c, id)
	if !ok || pp.State != workflows.StateCompleted || pp.Stage != workflows.StageDone {
		t.Fatalf("paper progress = %+v", pp)
	}

	raw, _ := os.ReadFile(filepath.Join(workspace, activities.ExecutionsFile))
	t.Logf("executions ledger:\n%s", raw)
	checkExecutions(t, readExecutions(t, workspace))
	// The killed try's output is kept beside the retry's.
	if _, err := os.Stat(filepath.Join(workspace, "logs", "run_1_attempt_1.activity1.stdout")); err != nil {
		t.Errorf("the killed try's log was not kept: %v", err)
	}
	for _, f := range []string{"run_1/final_info.json", "run_1.py"} {
		if _, err := os.Stat(filepath.Join(prog.Ideas[0].Result, f)); err != nil {
			t.Errorf("exported paper lacks %s: %v", f, err)
		}
	}
	// No half-written output: every run folder is complete and no atomic
	// write left its temporary file behind.
	runs, _ := filepath.Glob(filepath.Join(workspace, "run_*"))
	for _, r := range runs {
		if st, err := os.Stat(r); err == nil && st.IsDir() {
			if _, err := os.Stat(filepath.Join(r, "final_info.json")); err != nil {
				t.Errorf("%s has no final_info.json", r)
			}
		}
	}
	for _, dir := range []string{workspace, prog.Ideas[0].Result} {
		_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && (strings.HasPrefix(d.Name(), ".write-") || strings.HasPrefix(d.Name(), ".copy-")) {
				t.Errorf("stray temporary file %s", path)
			}
			return nil
		})
	}
}

// checkExecutions asserts that no finished execution ran twice. The key of
// one execution includes Temporal's activity attempt: the restart of a
// killed run is an activity retry of the same workflow attempt.
func checkExecutions(t *testing.T, ledger []execLine) {
	t.Helper()
	type key struct {
		script               string
		run, attempt, actTry int
	}
	startCount := map[key]int{}
	finished := map[string]bool{} // script/run with an ok end so far
	runStarts := map[int]int{}
	lastEndOK := map[int]bool{}
	unfinished := map[key]bool{}
	var abandoned []key
	for _, e := range ledger {
		k := key{e.Script, e.Run, e.Attempt, e.ActivityAttempt}
		sr := fmt.Sprintf("%s/%d", e.Script, e.Run)
		switch e.Event {
		case "start":
			if finished[sr] {
				t.Errorf("%s started again after it had finished: %+v", sr, e)
			}
			startCount[k]++
			unfinished[k] = true
			if e.Script == "experiment.py" {
				runStarts[e.Run]++
			}
		case "end":
			delete(unfinished, k)
			if e.OK {
				finished[sr] = true
				if startCount[k] != 1 {
					t.Errorf("finished execution %+v has %d starts, want 1", k, startCount[k])
				}
			}
			if e.Script == "experiment.py" {
				lastEndOK[e.Run] = e.OK
			}
		case "abandoned":
			// The retry closes the lost try's record.
			delete(unfinished, k)
			abandoned = append(abandoned, k)
		case "cached":
			t.Errorf("unexpected cached baseline on a fresh host: %+v", e)
		}
	}
	if runStarts[0] != 1 {
		t.Errorf("baseline run 0 started %d times, want 1", runStarts[0])
	}
	if runStarts[1] < 2 || !lastEndOK[1] {
		t.Errorf("run 1: %d starts (want the killed one and its restart), last end ok = %v", runStarts[1], lastEndOK[1])
	}
	// Every execution is closed; the one the kill interrupted by its retry.
	if len(unfinished) != 0 {
		t.Errorf("executions without an end: %v", unfinished)
	}
	if len(abandoned) != 1 || abandoned[0].script != "experiment.py" || abandoned[0].run != 1 {
		t.Errorf("abandoned executions: %v, want only the killed run 1", abandoned)
	}
}

// execLine is one line of the executions ledger.
type execLine struct {
	Event           string `json:"event"`
	Script          string `json:"script"`
	Run             int    `json:"run"`
	Attempt         int    `json:"attempt"`
	ActivityAttempt int    `json:"activity_attempt"` // Temporal's retry count
	OK              bool   `json:"ok"`
}

func readExecutions(t *testing.T, workspace string) []execLine {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(workspace, activities.ExecutionsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	var out []execLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var e execLine
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("ledger line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

// buildWorker builds the worker binary into dir.
func buildWorker(ctx context.Context, t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "worker")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./worker")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build worker: %v\n%s", err, out)
	}
	return bin
}

// awaitRunExecuting waits until experiment run `run` of the campaign's
// paper is executing (its ledger has the start and no end yet; the
// progress query alone says which run is next, not whether its process is
// up) and returns the paper's workspace.
func awaitRunExecuting(ctx context.Context, t *testing.T, c client.Client, campaign string, run int) string {
	t.Helper()
	for deadline := time.Now().Add(7 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		pp, ok := campaignPaper(ctx, c, campaign)
		if !ok || pp.Stage != workflows.StageExperiments || pp.Workspace == "" {
			continue
		}
		started, ended := false, false
		for _, e := range readExecutions(t, pp.Workspace) {
			if e.Script == "experiment.py" && e.Run == run {
				started = started || e.Event == "start"
				ended = ended || e.Event == "end"
			}
		}
		if started && !ended {
			return pp.Workspace
		}
	}
	t.Fatalf("run %d never started", run)
	return ""
}

// campaignPaper follows the campaign to its (only) paper.
func campaignPaper(ctx context.Context, c client.Client, campaign string) (workflows.PaperProgress, bool) {
	var cp workflows.CampaignProgress
	var pp workflows.PaperProgress
	v, err := c.QueryWorkflow(ctx, campaign, "", workflows.ProgressQuery)
	if err != nil || v.Get(&cp) != nil || len(cp.Ideas) == 0 || cp.Ideas[0].PaperID == "" {
		return pp, false
	}
	v, err = c.QueryWorkflow(ctx, cp.Ideas[0].PaperID, "", workflows.ProgressQuery)
	return pp, err == nil && v.Get(&pp) == nil
}

// freePortPair finds a free gRPC port whose Web UI port (+1000) is free too.
func freePortPair(t *testing.T) int {
	t.Helper()
	for i := 0; i < 20; i++ {
		p := freePort(t)
		if p+1000 > 65535 {
			continue
		}
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1000)); err == nil {
			l.Close()
			return p
		}
	}
	t.Fatal("no free port pair (P, P+1000)")
	return 0
}

type workerProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startWorkerProcess runs the worker binary in its own process group, logging to
// prefix.{stdout,stderr}; the logs' tails are shown if the test fails.
func startWorkerProcess(ctx context.Context, t *testing.T, bin string, args []string, prefix string) *workerProcess {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	stdout, err := os.Create(prefix + ".stdout")
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := os.Create(prefix + ".stderr")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &workerProcess{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); stdout.Close(); stderr.Close(); close(w.done) }()
	t.Cleanup(func() {
		w.kill(t)
		if t.Failed() {
			for _, f := range []string{prefix + ".stdout", prefix + ".stderr"} {
				b, _ := os.ReadFile(f)
				if len(b) > 4000 {
					b = b[len(b)-4000:]
				}
				t.Logf("%s (tail):\n%s", filepath.Base(f), b)
			}
		}
	})
	return w
}

// kill SIGKILLs the worker's whole process group and waits for its exit.
func (w *workerProcess) kill(t *testing.T) {
	select {
	case <-w.done:
		return
	default:
	}
	_ = syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-w.done:
	case <-time.After(30 * time.Second):
		t.Errorf("worker %d did not exit 30 s after SIGKILL", w.cmd.Process.Pid)
	}
}

// dialWorkerProcess connects once the embedded server answers.
func dialWorkerProcess(ctx context.Context, t *testing.T, addr string) client.Client {
	t.Helper()
	var last error
	for end := time.Now().Add(90 * time.Second); time.Now().Before(end); time.Sleep(time.Second) {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		c, err := app.Dial(dctx, addr, "", nil)
		cancel()
		if err == nil {
			return c
		}
		last = err
	}
	t.Fatalf("worker's server at %s never answered: %v", addr, last)
	return nil
}

// experimentProcesses lists experiment processes of this test's worker (bwrap
// names the data folder's workspace on its command line; python runs in it),
// leaving alone those of any other test on the machine.
func experimentProcesses(dataDir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !bytes.Contains(cmdline, []byte("experiment.py")) {
			continue
		}
		cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		if bytes.Contains(cmdline, []byte(dataDir)) || strings.HasPrefix(cwd, dataDir) {
			pids = append(pids, pid)
		}
	}
	return pids
}
