package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/pyrun"
	"github.com/aiscientist/aiscientist/internal/sandbox"
	"github.com/aiscientist/aiscientist/internal/store"
	"github.com/aiscientist/aiscientist/internal/telemetry"
	"github.com/aiscientist/aiscientist/internal/template"
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
	// Fresh runs a baseline even when the host has it cached, and replaces
	// the cached one (starter templates baseline --rerun).
	Fresh bool `json:",omitempty"`
	// Report puts the run's final_info.json and the host's cache folder in
	// the result (a standalone baseline; a paper's history does without).
	Report bool `json:",omitempty"`
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
	// Results and Cache: with RunInput.Report, the parsed final_info.json
	// and where the host keeps this baseline ("" when it keeps none).
	Results paper.FinalInfo `json:",omitempty"`
	Cache   string          `json:",omitempty"`

	stderrTail string          // for the executions ledger, not the history
	metrics    paper.FinalInfo // likewise: the parsed final_info.json
}

// Runner runs experiment and plot scripts on one device of an experiment
// host: its activities are registered on that device's queue alone, one at
// a time, so a run never shares its GPU (or CPU slot). The host's plotter
// (NewPlotter) is a Runner too, on the plot queue, with no GPU.
type Runner struct {
	acts *Activities
	dev  *Device
}

// NewRunner serves device dev (never nil: a run always has its device)
// with the dependencies of acts.
func NewRunner(acts *Activities, dev *Device) *Runner {
	return &Runner{acts: acts, dev: dev}
}

// RunExperiment runs the experiment script in the paper folder. Its logs go
// to logs/run_<i>_attempt_<k>.{stdout,stderr}; on success experiment.py is
// snapshotted as run_<i>.py. Exit 0 without a valid final_info.json is a
// failed run with a clear reason, not a crash.
func (r *Runner) RunExperiment(ctx context.Context, in RunInput) (_ RunResult, err error) {
	defer r.dev.done()
	s, err := r.acts.paperScope(ctx, in.Paper, false)
	if err != nil {
		return RunResult{}, err
	}
	defer s.close(ctx, &err)
	dir := s.dir
	out := fmt.Sprintf("run_%d", in.Run)
	cache := r.baselineCache(in, dir)
	if res, ok := r.recoverRun(ctx, dir, in, cache); ok {
		return res, nil
	}
	// A previous attempt may have left partial output behind.
	if err := os.RemoveAll(filepath.Join(dir, out)); err != nil {
		return RunResult{}, fmt.Errorf("clear %s: %w", out, err)
	}
	if cache != "" && !in.Fresh && store.Exists(filepath.Join(cache, "final_info.json")) {
		r.logExecution(ctx, dir, execution{Event: "cached", Script: "experiment.py", Run: in.Run, Attempt: in.Attempt})
		if err := store.CopyDir(cache, filepath.Join(dir, out)); err != nil {
			return RunResult{}, fmt.Errorf("copy the host's cached baseline: %w", err)
		}
		if err := store.CopyFile(filepath.Join(dir, "experiment.py"), filepath.Join(dir, out+".py")); err != nil {
			return RunResult{}, fmt.Errorf("snapshot experiment.py: %w", err)
		}
		res := RunResult{OK: true, Cached: true}
		if in.Report {
			res.Cache = cache
			if b, err := os.ReadFile(filepath.Join(cache, "final_info.json")); err == nil {
				res.Results, _ = ReadFinalInfo(b)
			}
		}
		return res, nil
	}
	res, err := r.runScript(ctx, in.Paper, dir, script{
		log: fmt.Sprintf("run_%d_attempt_%d", in.Run, in.Attempt), run: in.Run, attempt: in.Attempt,
		plan: in.Plan, quick: in.Quick, timeout: in.Timeout, args: []string{"experiment.py", "--out_dir=" + out},
	})
	if err != nil || !res.OK {
		r.logEnd(ctx, dir, in.Run, in.Attempt, res, err)
		return res, err
	}
	defer func() { r.logEnd(ctx, dir, in.Run, in.Attempt, res, err) }()
	b, err := os.ReadFile(filepath.Join(dir, out, "final_info.json"))
	if err != nil {
		res.OK, res.Error = false, fmt.Sprintf("experiment.py exited 0 but wrote no %s/final_info.json", out)
		return res, nil
	}
	if res.metrics, err = ReadFinalInfo(b); err != nil {
		res.OK, res.Error = false, fmt.Sprintf("%s/final_info.json: %v", out, err)
		return res, nil
	}
	if err := store.CopyFile(filepath.Join(dir, "experiment.py"), filepath.Join(dir, out+".py")); err != nil {
		return RunResult{}, fmt.Errorf("snapshot experiment.py: %w", err)
	}
	if in.Report {
		res.Results = res.metrics
	}
	if cache != "" {
		// Best effort: a failed save only means the next paper runs it too.
		if err := saveBaseline(filepath.Join(dir, out), cache, in.Fresh); err != nil {
			activity.GetLogger(ctx).Warn("baseline not cached", "cache", cache, "error", err)
		} else if in.Report {
			res.Cache = cache
		}
	}
	return res, nil
}

// recoverRun returns the results of run in.Run when an earlier Temporal
// attempt of this activity finished it (see finishedEarlier) and its
// output is intact: final_info.json parses and the run_<i>.py snapshot,
// written after it, exists.
func (r *Runner) recoverRun(ctx context.Context, dir string, in RunInput, cache string) (RunResult, bool) {
	prev, ok := finishedEarlier(ctx, dir, "experiment.py", in.Run, in.Attempt)
	if !ok {
		return RunResult{}, false
	}
	out := fmt.Sprintf("run_%d", in.Run)
	b, err := os.ReadFile(filepath.Join(dir, out, "final_info.json"))
	if err != nil || !store.Exists(filepath.Join(dir, out+".py")) {
		return RunResult{}, false
	}
	fi, err := ReadFinalInfo(b)
	if err != nil {
		return RunResult{}, false
	}
	r.logRecovered(ctx, dir, prev)
	activity.GetLogger(ctx).Info("returning a finished run's results: an earlier attempt's completion was lost", "run", in.Run, "attempt", in.Attempt, "earlier_activity_attempt", prev.Activity)
	res := RunResult{OK: true, Duration: time.Duration(prev.Seconds * float64(time.Second))}
	if in.Report {
		res.Results = fi
		if cache != "" && store.Exists(filepath.Join(cache, "final_info.json")) {
			res.Cache = cache
		}
	}
	return res, true
}

// baselineCache is where this host keeps run_0 of a template: the baseline
// is the template's own code, so a host computes it once per template,
// configuration and version of experiment.py, on its own hardware, and
// later papers copy it. Empty: not a baseline on an experiment host.
func (r *Runner) baselineCache(in RunInput, dir string) string {
	if in.Run != 0 || r.dev.Host == nil {
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
	return filepath.Join(r.acts.Store.Root, "baselines", r.dev.Host.Name, in.Paper.Template, mode, hex.EncodeToString(sum[:8]), "run_0")
}

// saveBaseline copies a finished run_0 into the cache, whole or not at all;
// replace swaps out one cached before.
func saveBaseline(run, cache string, replace bool) error {
	if store.Exists(cache) && !replace {
		return nil // another paper saved it meanwhile
	}
	tmp := fmt.Sprintf("%s.tmp-%d", cache, os.Getpid())
	_ = os.RemoveAll(tmp)
	if err := store.CopyDir(run, tmp); err != nil {
		return err
	}
	if replace && store.Exists(cache) {
		old := fmt.Sprintf("%s.old-%d", cache, os.Getpid())
		_ = os.RemoveAll(old)
		if err := os.Rename(cache, old); err != nil {
			_ = os.RemoveAll(tmp)
			return err
		}
		defer os.RemoveAll(old)
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
func (r *Runner) RunPlot(ctx context.Context, in PlotInput) (_ RunResult, err error) {
	defer r.dev.done()
	s, err := r.acts.paperScope(ctx, in.Paper, false)
	if err != nil {
		return RunResult{}, err
	}
	defer s.close(ctx, &err)
	dir := s.dir
	if prev, ok := finishedEarlier(ctx, dir, "plot.py", -1, in.Attempt); ok {
		if n := len(figures(dir)); n > 0 {
			r.logRecovered(ctx, dir, prev)
			return RunResult{OK: true, Duration: time.Duration(prev.Seconds * float64(time.Second)), Figures: n}, nil
		}
	}
	res, err := r.runScript(ctx, in.Paper, dir, script{
		log: fmt.Sprintf("plot_attempt_%d", in.Attempt), run: -1, attempt: in.Attempt,
		plan: in.Plan, quick: in.Quick, timeout: in.Timeout, args: []string{"plot.py"},
	})
	defer func() { r.logEnd(ctx, dir, -1, in.Attempt, res, err) }()
	if err != nil || !res.OK {
		return res, err
	}
	res.Figures = len(figures(dir))
	if res.Figures == 0 {
		res.OK, res.Error = false, "plot.py exited 0 but wrote no PNG file into the paper folder"
	}
	return res, nil
}

// script is one execution of a template script.
type script struct {
	log          string // logs/<log>.{stdout,stderr}
	run, attempt int    // run -1: plot.py
	plan         string // the coder's account of the change, for the ledger
	quick        bool
	timeout      time.Duration
	args         []string // the script, then its arguments
}

func (r *Runner) runScript(ctx context.Context, p PaperRef, dir string, sc script) (RunResult, error) {
	t, err := r.acts.template(p.Template)
	if err != nil {
		return RunResult{}, err
	}
	py, err := r.acts.python(ctx, t.Name, t.Dir)
	if err != nil {
		return RunResult{}, err
	}
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return RunResult{}, err
	}
	r.retried(ctx, dir, logs, sc.log, sc.args[0], sc.run, sc.attempt)
	stdout, err := os.Create(filepath.Join(logs, sc.log+".stdout"))
	if err != nil {
		return RunResult{}, err
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(logs, sc.log+".stderr"))
	if err != nil {
		return RunResult{}, err
	}
	defer stderr.Close()
	env := []string{"PYTHONUNBUFFERED=1", "MPLBACKEND=Agg"}
	if sc.quick {
		env = append(env, "AISCI_QUICK=1")
	}
	env = append(env, r.dev.env()...) // its own GPU only
	r.logExecution(ctx, dir, execution{Event: "start", Script: sc.args[0], Run: sc.run, Attempt: sc.attempt, Change: sc.plan})
	start := time.Now()
	box := r.acts.Sandbox
	box.Network = box.Network || t.Prompt.Network
	// Appends below must not write into the worker's shared slices.
	box.ReadOnly, box.Links = slices.Clip(box.ReadOnly), slices.Clip(box.Links)
	if err := r.dataLinks(dir, t, &box); err != nil {
		activity.GetLogger(ctx).Warn("the template's data folder is not linked beside the paper folder", "data", t.DataDir(), "error", err)
	}
	runCtx, stopRun := outlastOutage(ctx)
	defer stopRun()
	// Heartbeats go on through an outage too (a cancelled context would
	// keep them from being sent once the server is back).
	hbCtx := context.WithoutCancel(ctx)
	res, err := pyrun.Run(runCtx, pyrun.Spec{
		Python: py, Dir: dir, Args: sc.args, Env: env, Timeout: sc.timeout,
		Stdout: stdout, Stderr: stderr, Sandbox: &box,
		Tick: func() {
			hb := r.dev.heartbeat(sc.log, int(time.Since(start).Seconds()))
			hb.LimitSec = int(sc.timeout.Seconds())
			activity.RecordHeartbeat(hbCtx, hb)
		},
		TickEvery: 5 * time.Second,
	})
	r.observe(ctx, sc.args[0], res, err)
	if err != nil {
		return RunResult{}, err
	}
	out := RunResult{OK: res.ExitCode == 0 && !res.TimedOut, Duration: res.Duration, ExitCode: res.ExitCode, stderrTail: res.StderrTail}
	switch {
	case res.TimedOut:
		out.Error = fmt.Sprintf("%s timed out after %s", sc.args[0], sc.timeout)
	case res.ExitCode != 0:
		out.Error = fmt.Sprintf("%s exited with status %d: %s", sc.args[0], res.ExitCode, pyrun.LastLine(res.StderrTail))
		switch {
		case r.dev.Index == PlotSlot && needsCUDA.MatchString(res.StderrTail):
			out.Error += " (it asks for CUDA: plots run on the experiment host's CPUs, beside the runs, so plot.py reads the results without a GPU, e.g. torch.load(..., map_location=\"cpu\"))"
		case r.dev.Slot.CPU && needsCUDA.MatchString(res.StderrTail):
			out.Error += " (it asks for CUDA, and this run had a CPU slot: a template that requires a GPU runs on an experiment host with NVIDIA GPUs, whose worker finds them itself)"
		}
		if dataMissing.MatchString(res.StderrTail) && t.DataDir() == "" {
			out.Error += fmt.Sprintf(" (it reads a data folder relative to the paper folder, as the reference system's templates do; put the data in %s, beside the templates folder, where every paper of this template finds it read-only)",
				filepath.Join(filepath.Dir(filepath.Dir(t.Dir)), "data"))
		}
		if !box.Network && !box.Disabled && networkFailure.MatchString(res.StderrTail) {
			out.Error += fmt.Sprintf(" (it tried to reach the network, which the experiment sandbox blocks; a template that downloads at run time says so with \"network\": true in its prompt.json, %s)", filepath.Join(t.Dir, "prompt.json"))
		}
	}
	return out, nil
}

// observe puts a script's run time into the metrics, by host and device.
func (r *Runner) observe(ctx context.Context, script string, res pyrun.Result, err error) {
	host, device := "", fmt.Sprintf("gpu%d", r.dev.Slot.Index)
	if r.dev.Host != nil {
		host = r.dev.Host.Name
	}
	switch {
	case r.dev.Index == PlotSlot:
		device = "plots"
	case r.dev.Slot.CPU:
		device = fmt.Sprintf("cpu%d", r.dev.Index)
	}
	outcome := "ok"
	switch {
	case err != nil:
		outcome = "cancelled"
	case res.TimedOut:
		outcome = "timeout"
	case res.ExitCode != 0:
		outcome = "failed"
	}
	telemetry.FromContext(ctx).Experiment(host, device, script, outcome, res.Duration)
}

// dataLinks makes the template's data folder (template.DataDir) appear
// where a reference-system template looks for it from the paper folder,
// <artifacts>/papers/<template>/<folder>: ../../data (its baseline) and
// ../../../data (its later runs), as in the reference's layout. On the
// host they are symbolic links in the artifact store (a real folder a
// person put there is left as it is); box shows them and the data folder
// to the experiment, read-only.
func (r *Runner) dataLinks(dir string, t template.Template, box *sandbox.Config) error {
	data := t.DataDir()
	if data == "" {
		return nil
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	root, err := filepath.Abs(r.acts.Store.Root)
	if err != nil {
		return err
	}
	if rr, err := filepath.EvalSymlinks(root); err == nil {
		root = rr
	}
	box.ReadOnly = append(box.ReadOnly, data)
	for _, up := range []string{"../../data", "../../../data"} {
		at := filepath.Join(real, up)
		if rel, err := filepath.Rel(root, at); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			continue // not a paper folder of the artifact store
		}
		isLink, err := ensureLink(at, data)
		if err != nil {
			return err
		}
		if isLink {
			box.Links = append(box.Links, sandbox.Link{Path: at, Target: data})
		} else {
			box.ReadOnly = append(box.ReadOnly, at)
		}
	}
	return nil
}

// ensureLink makes path a symbolic link to target, replacing a link that
// points elsewhere (atomically: concurrent runs never see it missing). A
// folder or file already there is kept: false.
func ensureLink(path, target string) (bool, error) {
	fi, err := os.Lstat(path)
	switch {
	case err == nil && fi.Mode()&os.ModeSymlink == 0:
		return false, nil
	case err == nil:
		if cur, err := os.Readlink(path); err == nil && cur == target {
			return true, nil
		}
	case !errors.Is(err, os.ErrNotExist):
		return false, err
	}
	tmp := fmt.Sprintf("%s.tmp-%d", path, os.Getpid())
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return false, err
	}
	return true, nil
}

// needsCUDA: PyTorch's errors for CUDA asked for where there is none.
var needsCUDA = regexp.MustCompile(`Torch not compiled with CUDA enabled|Found no NVIDIA driver|No CUDA GPUs are available|CUDA driver initialization failed`)

// dataMissing: Python's error for a data file looked up at ../../data or
// ../../../data that is not there.
var dataMissing = regexp.MustCompile(`No such file or directory: '(\.\./){2,3}data/`)

// networkFailure: what Python prints when the network is not there.
var networkFailure = regexp.MustCompile(`Temporary failure in name resolution|Name or service not known|Network is unreachable|nodename nor servname|urlopen error|getaddrinfo failed|Failed to establish a new connection|ConnectionError|No route to host`)
