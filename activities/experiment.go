package activities

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/pyrun"
	"github.com/aiscientist/aiscientist/internal/store"
)

// RunInput is one experiment run: python experiment.py --out_dir=run_<Run>.
type RunInput struct {
	Paper   PaperRef
	Run     int
	Attempt int
	Quick   bool
	Timeout time.Duration
	// Plan is what the coder said this attempt changes (for the record).
	Plan string `json:",omitempty"`
}

// RunResult is the outcome; a failed experiment is a result, not an error.
type RunResult struct {
	OK       bool
	Error    string // one line for status and prompts
	Duration time.Duration
	Figures  int // plot runs: PNG files present afterwards
	// Cached: the host had this baseline already and copied it.
	Cached bool `json:",omitempty"`
	// ExitCode is the script's exit status (-1: killed, timed out).
	ExitCode int `json:",omitempty"`

	stderrTail string          // for the executions ledger, not the history
	metrics    paper.FinalInfo // likewise: the parsed final_info.json
}

// RunExperiment runs the experiment script in the paper folder. Its logs go
// to logs/run_<i>_attempt_<k>.{stdout,stderr}; on success experiment.py is
// snapshotted as run_<i>.py. Exit 0 without a valid final_info.json is a
// failed run with a clear reason, not a crash.
func (a *Activities) RunExperiment(ctx context.Context, in RunInput) (_ RunResult, err error) {
	defer a.Device.done()
	dir, err := a.openPaper(ctx, in.Paper, false)
	if err != nil {
		return RunResult{}, err
	}
	defer a.savePaper(ctx, in.Paper, dir, &err)
	out := fmt.Sprintf("run_%d", in.Run)
	// A previous attempt may have left partial output behind.
	if err := os.RemoveAll(filepath.Join(dir, out)); err != nil {
		return RunResult{}, fmt.Errorf("clear %s: %w", out, err)
	}
	cache := a.baselineCache(in, dir)
	cached := cache != "" && store.Exists(filepath.Join(cache, "final_info.json"))
	if cached {
		a.logExecution(ctx, dir, execution{Event: "cached", Script: "experiment.py", Run: in.Run, Attempt: in.Attempt})
	}
	if cached {
		if err := store.CopyDir(cache, filepath.Join(dir, out)); err != nil {
			return RunResult{}, fmt.Errorf("copy the host's cached baseline: %w", err)
		}
		if err := store.CopyFile(filepath.Join(dir, "experiment.py"), filepath.Join(dir, out+".py")); err != nil {
			return RunResult{}, fmt.Errorf("snapshot experiment.py: %w", err)
		}
		return RunResult{OK: true, Cached: true}, nil
	}
	res, err := a.runScript(ctx, in.Paper, dir, fmt.Sprintf("run_%d_attempt_%d", in.Run, in.Attempt), in.Run, in.Attempt, in.Plan, in.Quick, in.Timeout, "experiment.py", "--out_dir="+out)
	if err != nil || !res.OK {
		a.logEnd(ctx, dir, in.Run, in.Attempt, res, err)
		return res, err
	}
	defer func() { a.logEnd(ctx, dir, in.Run, in.Attempt, res, err) }()
	b, err := os.ReadFile(filepath.Join(dir, out, "final_info.json"))
	if err != nil {
		res.OK, res.Error = false, fmt.Sprintf("experiment.py exited 0 but wrote no %s/final_info.json", out)
		return res, nil
	}
	if res.metrics, err = paper.ParseFinalInfo(b); err != nil {
		res.OK, res.Error = false, fmt.Sprintf("%s/final_info.json: %v", out, err)
		return res, nil
	}
	if err := store.CopyFile(filepath.Join(dir, "experiment.py"), filepath.Join(dir, out+".py")); err != nil {
		return RunResult{}, fmt.Errorf("snapshot experiment.py: %w", err)
	}
	if cache != "" {
		// Best effort: a failed save only means the next paper runs it too.
		if err := saveBaseline(filepath.Join(dir, out), cache); err != nil {
			activity.GetLogger(ctx).Warn("baseline not cached", "cache", cache, "error", err)
		}
	}
	return res, nil
}

// baselineCache is where this host keeps run_0 of a template: the baseline
// is the template's own code, so a host computes it once per template,
// configuration and version of experiment.py, on its own hardware, and
// later papers copy it. Empty: not a baseline on an experiment host.
func (a *Activities) baselineCache(in RunInput, dir string) string {
	if in.Run != 0 || a.Device == nil || a.Device.Host == nil {
		return ""
	}
	code, err := os.ReadFile(filepath.Join(dir, "experiment.py"))
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(code)
	mode := "full"
	if in.Quick {
		mode = "quick"
	}
	return filepath.Join(a.Store.Root, "baselines", a.Device.Host.Name, in.Paper.Template, mode, hex.EncodeToString(sum[:8]), "run_0")
}

// saveBaseline copies a finished run_0 into the cache, whole or not at all.
func saveBaseline(run, cache string) error {
	if store.Exists(cache) {
		return nil // another paper saved it meanwhile
	}
	tmp := fmt.Sprintf("%s.tmp-%d", cache, os.Getpid())
	_ = os.RemoveAll(tmp)
	if err := store.CopyDir(run, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, cache); err != nil {
		_ = os.RemoveAll(tmp)
		if store.Exists(cache) {
			return nil
		}
		return err
	}
	return nil
}

// PlotInput is one run of plot.py.
type PlotInput struct {
	Paper   PaperRef
	Attempt int
	Quick   bool
	Timeout time.Duration
	Plan    string `json:",omitempty"`
}

// RunPlot runs plot.py; success needs at least one PNG in the paper folder.
func (a *Activities) RunPlot(ctx context.Context, in PlotInput) (_ RunResult, err error) {
	defer a.Device.done()
	dir, err := a.openPaper(ctx, in.Paper, false)
	if err != nil {
		return RunResult{}, err
	}
	defer a.savePaper(ctx, in.Paper, dir, &err)
	res, err := a.runScript(ctx, in.Paper, dir, fmt.Sprintf("plot_attempt_%d", in.Attempt), -1, in.Attempt, in.Plan, in.Quick, in.Timeout, "plot.py")
	defer func() { a.logEnd(ctx, dir, -1, in.Attempt, res, err) }()
	if err != nil || !res.OK {
		return res, err
	}
	res.Figures = len(figures(dir))
	if res.Figures == 0 {
		res.OK, res.Error = false, "plot.py exited 0 but wrote no PNG file into the paper folder"
	}
	return res, nil
}

// ExecutionsFile lists every start and end of an experiment or plot
// script in a paper, one JSON line each: the record that shows a finished
// run was never executed again after a crash or a resume.
const ExecutionsFile = "logs/executions.jsonl"

// execution is one line of the executions ledger.
type execution struct {
	Event    string    `json:"event"` // start, end, cached
	Script   string    `json:"script"`
	Run      int       `json:"run"` // -1: plot.py
	Attempt  int       `json:"attempt"`
	Workflow string    `json:"workflow,omitempty"`
	Activity int32     `json:"activity_attempt,omitempty"` // Temporal's retry count
	Host     string    `json:"host,omitempty"`
	Device   int       `json:"device"`
	Time     time.Time `json:"time"`
	Change   string    `json:"change,omitempty"` // the coder's plan for this attempt
	OK       bool      `json:"ok,omitempty"`
	ExitCode *int      `json:"exit_status,omitempty"`
	Error    string    `json:"error,omitempty"`
	Stderr   string    `json:"stderr_tail,omitempty"` // failed attempts: what the model was shown
	Seconds  float64   `json:"seconds,omitempty"`
	// Metrics are the means of final_info.json of a successful run.
	Metrics map[string]map[string]float64 `json:"metrics,omitempty"`
}

func (a *Activities) logExecution(ctx context.Context, dir string, e execution) {
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		e.Workflow = info.WorkflowExecution.ID
		if e.Activity == 0 {
			e.Activity = info.Attempt
		}
	}
	hb := a.Device.heartbeat("", 0)
	e.Host, e.Device, e.Time = hb.Host, hb.Device, time.Now().UTC()
	if err := appendJSONLine(filepath.Join(dir, ExecutionsFile), e); err != nil && activity.IsActivity(ctx) {
		activity.GetLogger(ctx).Warn("executions ledger not written", "error", err)
	}
}

// retried handles a run that Temporal retries after the previous try was
// lost (a killed worker, a missed heartbeat): that try's logs are kept
// under <log>.activity<N>.{stdout,stderr}, since the canonical names are
// what the coder reads, and a start without an end in the ledger is closed
// with an "abandoned" event.
func (a *Activities) retried(ctx context.Context, dir, logs, logName, script string, run, attempt int) {
	if !activity.IsActivity(ctx) || activity.GetInfo(ctx).Attempt <= 1 {
		return
	}
	prev := activity.GetInfo(ctx).Attempt - 1
	for _, ext := range []string{".stdout", ".stderr"} {
		if old := filepath.Join(logs, logName+ext); store.Exists(old) {
			_ = os.Rename(old, filepath.Join(logs, fmt.Sprintf("%s.activity%d%s", logName, prev, ext)))
		}
	}
	started, ended := false, false
	f, err := os.Open(filepath.Join(dir, ExecutionsFile))
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var e execution
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Script != script || e.Run != run || e.Attempt != attempt || e.Activity != prev {
			continue
		}
		started = started || e.Event == "start"
		ended = ended || e.Event == "end"
	}
	if started && !ended {
		a.logExecution(ctx, dir, execution{Event: "abandoned", Script: script, Run: run, Attempt: attempt, Activity: prev,
			Error: "this try never reported back (worker killed or heartbeat lost); Temporal retried it"})
	}
}

// logEnd records how a script's execution ended, as the workflow sees it
// (a run that exited 0 without final_info.json is a failure here too).
func (a *Activities) logEnd(ctx context.Context, dir string, run, attempt int, res RunResult, err error) {
	script := "experiment.py"
	if run < 0 {
		script = "plot.py"
	}
	e := execution{Event: "end", Script: script, Run: run, Attempt: attempt, OK: res.OK, Error: res.Error, Seconds: res.Duration.Seconds()}
	if err != nil {
		e.Error = "activity failed: " + err.Error()
	} else {
		e.ExitCode = &res.ExitCode
	}
	if !res.OK {
		e.Stderr = res.stderrTail
	}
	if res.OK && len(res.metrics) > 0 {
		e.Metrics = map[string]map[string]float64{}
		for ds, v := range res.metrics {
			e.Metrics[ds] = v.Means
		}
	}
	a.logExecution(ctx, dir, e)
}

func (a *Activities) runScript(ctx context.Context, p PaperRef, dir, logName string, run, attempt int, plan string, quick bool, timeout time.Duration, args ...string) (RunResult, error) {
	t, err := a.template(p.Template)
	if err != nil {
		return RunResult{}, err
	}
	py, err := a.python(ctx, t.Name, t.Dir)
	if err != nil {
		return RunResult{}, err
	}
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return RunResult{}, err
	}
	a.retried(ctx, dir, logs, logName, args[0], run, attempt)
	stdout, err := os.Create(filepath.Join(logs, logName+".stdout"))
	if err != nil {
		return RunResult{}, err
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(logs, logName+".stderr"))
	if err != nil {
		return RunResult{}, err
	}
	defer stderr.Close()
	env := []string{"PYTHONUNBUFFERED=1", "MPLBACKEND=Agg"}
	if quick {
		env = append(env, "AISCI_QUICK=1")
	}
	env = append(env, a.Device.env()...) // its own GPU only
	a.logExecution(ctx, dir, execution{Event: "start", Script: args[0], Run: run, Attempt: attempt, Change: plan})
	start := time.Now()
	r, err := pyrun.Run(ctx, pyrun.Spec{
		Python: py, Dir: dir, Args: args, Env: env, Timeout: timeout,
		Stdout: stdout, Stderr: stderr, Sandbox: &a.Sandbox,
		Tick: func() {
			activity.RecordHeartbeat(ctx, a.Device.heartbeat(logName, int(time.Since(start).Seconds())))
		},
		TickEvery: 5 * time.Second,
	})
	if err != nil {
		return RunResult{}, err
	}
	res := RunResult{OK: r.ExitCode == 0 && !r.TimedOut, Duration: r.Duration, ExitCode: r.ExitCode, stderrTail: r.StderrTail}
	switch {
	case r.TimedOut:
		res.Error = fmt.Sprintf("%s timed out after %s", args[0], timeout)
	case r.ExitCode != 0:
		res.Error = fmt.Sprintf("%s exited with status %d: %s", args[0], r.ExitCode, pyrun.LastLine(r.StderrTail))
	}
	return res, nil
}
