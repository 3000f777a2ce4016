package activities_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/gpu"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/sandbox"
)

// writeFinalInfo is a script fragment that writes a valid final_info.json
// into the --out_dir given on the command line.
const writeFinalInfo = `import json, os, sys
out = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--out_dir=")][0]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "final_info.json"), "w") as f:
    json.dump({"x_plus_y": {"means": {"final_val_acc": 0.99}, "stderrs": {"final_val_acc": 0.01}}}, f)
print("quick=" + os.environ.get("AISCI_QUICK", "") + " mpl=" + os.environ.get("MPLBACKEND", ""))
`

func TestRunExperiment(t *testing.T) {
	needPython(t)
	e := newEnv(t, withTemplates(miniTemplate(t, "")))
	tests := []struct {
		name       string
		script     string
		timeout    time.Duration
		quick      bool
		stale      bool // a previous attempt left a valid run_1 behind
		wantOK     bool
		wantErr    []string
		wantStdout string
		maxTime    time.Duration
	}{
		{
			name:    "traceback",
			script:  "import sys\n\ndef train():\n    raise ValueError(\"loss is nan at step 17\")\n\ntrain()\n",
			wantErr: []string{"experiment.py exited with status 1", "ValueError: loss is nan at step 17"},
		},
		{
			name:    "a CUDA-only script on a CPU slot",
			script:  "raise AssertionError('Torch not compiled with CUDA enabled')\n",
			wantErr: []string{"AssertionError: Torch not compiled with CUDA enabled", "runs on an experiment host with NVIDIA GPUs"},
		},
		{
			name:    "explicit exit code",
			script:  "import sys\nsys.stderr.write('out of memory\\n')\nsys.exit(3)\n",
			wantErr: []string{"status 3", "out of memory"},
		},
		{
			name:    "exit 0 without final_info.json",
			script:  "print('trained, forgot to save')\n",
			wantErr: []string{"exited 0", "run_1/final_info.json"},
		},
		{
			name:    "stale output of an earlier attempt is cleared",
			script:  "print('trained, forgot to save')\n",
			stale:   true,
			wantErr: []string{"run_1/final_info.json"},
		},
		{
			name:    "final_info.json without means",
			script:  "import json, os\nos.makedirs('run_1', exist_ok=True)\njson.dump({'x_plus_y': {'stderrs': {}}}, open('run_1/final_info.json', 'w'))\n",
			wantErr: []string{"final_info.json", "means"},
		},
		{
			name:    "final_info.json not JSON",
			script:  "import os\nos.makedirs('run_1', exist_ok=True)\nopen('run_1/final_info.json', 'w').write('{nope')\n",
			wantErr: []string{"final_info.json"},
		},
		{
			name:       "success",
			script:     writeFinalInfo,
			wantOK:     true,
			wantStdout: "quick= mpl=Agg",
		},
		{
			name:       "quick mode",
			script:     writeFinalInfo,
			quick:      true,
			wantOK:     true,
			wantStdout: "quick=1 mpl=Agg",
		},
		{
			name:    "timeout",
			script:  "import time\nprint('starting', flush=True)\ntime.sleep(60)\n",
			timeout: time.Second,
			wantErr: []string{"experiment.py timed out after 1s"},
			maxTime: 20 * time.Second,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, dir := miniPaper(t, e, fmt.Sprintf("exp%d", i))
			writeFile(t, filepath.Join(dir, "experiment.py"), tt.script)
			if tt.stale {
				writeFile(t, filepath.Join(dir, "run_1", "final_info.json"), `{"x": {"means": {"a": 1}}}`)
			}
			start := time.Now()
			res := mustExecute[activities.RunResult](t, e, e.run.RunExperiment, activities.RunInput{Paper: ref, Run: 1, Attempt: 1, Quick: tt.quick, Timeout: tt.timeout})
			if tt.maxTime > 0 && time.Since(start) > tt.maxTime {
				t.Errorf("took %v, want under %v", time.Since(start), tt.maxTime)
			}
			if res.OK != tt.wantOK {
				t.Errorf("OK = %v, want %v (Error %q)", res.OK, tt.wantOK, res.Error)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(res.Error, want) {
					t.Errorf("Error %q does not contain %q", res.Error, want)
				}
			}
			if tt.wantOK && res.Error != "" {
				t.Errorf("Error = %q on success", res.Error)
			}
			if res.Duration <= 0 {
				t.Errorf("Duration = %v", res.Duration)
			}
			for _, f := range []string{"logs/run_1_attempt_1.stdout", "logs/run_1_attempt_1.stderr"} {
				if !exists(filepath.Join(dir, f)) {
					t.Errorf("%s missing", f)
				}
			}
			if strings.Contains(tt.name, "traceback") {
				if stderr := readFile(t, filepath.Join(dir, "logs", "run_1_attempt_1.stderr")); !strings.Contains(stderr, "Traceback (most recent call last)") {
					t.Errorf("stderr log lacks the traceback:\n%s", stderr)
				}
			}
			if tt.wantStdout != "" {
				if out := readFile(t, filepath.Join(dir, "logs", "run_1_attempt_1.stdout")); !strings.Contains(out, tt.wantStdout) {
					t.Errorf("stdout log = %q, want %q", out, tt.wantStdout)
				}
			}
			snapshot := filepath.Join(dir, "run_1.py")
			if tt.wantOK {
				if !exists(snapshot) || readFile(t, snapshot) != tt.script {
					t.Error("run_1.py is not a snapshot of experiment.py")
				}
			} else if exists(snapshot) {
				t.Error("a failed run was snapshotted as run_1.py")
			}
		})
	}
}

func TestRunExperimentBadTemplate(t *testing.T) {
	e := newEnv(t, withTemplates(miniTemplate(t, "")))
	ref, _ := miniPaper(t, e, "bad")
	ref.Template = "gone"
	_, err := execute[activities.RunResult](t, e, e.run.RunExperiment, activities.RunInput{Paper: ref, Run: 1, Attempt: 1})
	wantFinal(t, err, activities.ErrTypeBadInput)
}

func TestRunExperimentMissingModule(t *testing.T) {
	needPython(t)
	root := miniTemplate(t, "")
	writeFile(t, filepath.Join(root, "mini", "experiment.py"), "import surely_not_an_installed_module_xyz\n")
	e := newEnv(t, withTemplates(root))
	ref, _ := miniPaper(t, e, "nomod")
	_, err := execute[activities.RunResult](t, e, e.run.RunExperiment, activities.RunInput{Paper: ref, Run: 1, Attempt: 1})
	ae := wantFinal(t, err, activities.ErrTypeBadInput)
	if !strings.Contains(ae.Error(), "surely_not_an_installed_module_xyz") {
		t.Errorf("error %q does not name the missing module", ae.Error())
	}
}

func TestRunPlot(t *testing.T) {
	needPython(t)
	e := newEnv(t, withTemplates(miniTemplate(t, "")))
	tests := []struct {
		name        string
		script      string
		wantOK      bool
		wantFigures int
		wantErr     string
	}{
		{"no PNG", "print('nothing to plot')\n", false, 0, "wrote no PNG"},
		{"PNG in a subfolder does not count", "import os\nos.makedirs('figs', exist_ok=True)\nopen('figs/a.png', 'wb').write(b'x')\n", false, 0, "wrote no PNG"},
		{"one PNG", "open('val_acc.png', 'wb').write(b'\\x89PNG')\n", true, 1, ""},
		{"two PNGs", "for n in ('a.png', 'b.png'):\n    open(n, 'wb').write(b'\\x89PNG')\n", true, 2, ""},
		{"crash", "raise RuntimeError('no data')\n", false, 0, "RuntimeError: no data"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, dir := miniPaper(t, e, fmt.Sprintf("plot%d", i))
			writeFile(t, filepath.Join(dir, "plot.py"), tt.script)
			res := mustExecute[activities.RunResult](t, e, e.run.RunPlot, activities.PlotInput{Paper: ref, Attempt: 2})
			if res.OK != tt.wantOK || res.Figures != tt.wantFigures {
				t.Errorf("result = %+v, want OK=%v Figures=%d", res, tt.wantOK, tt.wantFigures)
			}
			if !strings.Contains(res.Error, tt.wantErr) || (tt.wantErr == "") != (res.Error == "") {
				t.Errorf("Error = %q, want %q", res.Error, tt.wantErr)
			}
			if !exists(filepath.Join(dir, "logs", "plot_attempt_2.stderr")) {
				t.Error("logs/plot_attempt_2.stderr missing")
			}
		})
	}
}

// An experiment host computes a template's baseline once: the next paper
// on the host copies it, and changed template code is run afresh.
func TestBaselineCachedPerHost(t *testing.T) {
	needPython(t)
	root := t.TempDir()
	dir := filepath.Join(root, "tiny")
	writeFile(t, filepath.Join(dir, "experiment.py"), `import json, os, sys
out = sys.argv[1].split("=", 1)[1]
os.makedirs(out, exist_ok=True)
json.dump(json.load(open("info.json")), open(os.path.join(out, "final_info.json"), "w"))
open(os.path.join(out, "ran.txt"), "w").write(str(os.getpid()))
`)
	writeFile(t, filepath.Join(dir, "info.json"), grokkingFinalInfo(0.9))
	writeFile(t, filepath.Join(dir, "plot.py"), "print('plot')\n")
	writeFile(t, filepath.Join(dir, "prompt.json"), `{"system": "s", "task_description": "t"}`)
	writeFile(t, filepath.Join(dir, "seed_ideas.json"), `[]`)
	writeFile(t, filepath.Join(dir, "latex", "template.tex"), cleanTex)
	e := newEnv(t, withTemplates(root))
	e.acts.Sandbox.Disabled = true // the cache is the subject here, not the sandbox
	e.run = activities.NewRunner(e.acts, &activities.Device{Host: activities.NewHost("host-a", gpu.Inventory{Devices: gpu.CPUSlots(1)}), Slot: gpu.CPUSlots(1)[0]})

	run0 := func(key string) (activities.RunResult, string) {
		ref := activities.PaperRef{Key: "tiny/" + key, Name: key, Template: "tiny", Model: llm.ScriptedModel}
		pdir := mustExecute[string](t, e, e.acts.PreparePaper, activities.PaperSetup{Paper: ref, Idea: testIdea})
		r := mustExecute[activities.RunResult](t, e, e.run.RunExperiment, activities.RunInput{Paper: ref, Run: 0, Attempt: 1, Quick: true, Timeout: time.Minute})
		if !r.OK {
			t.Fatalf("%s: run_0 failed: %s", key, r.Error)
		}
		return r, pdir
	}
	first, dir1 := run0("p1")
	second, dir2 := run0("p2")
	if first.Cached || !second.Cached {
		t.Fatalf("cached: first %v, second %v; want false then true", first.Cached, second.Cached)
	}
	if a, b := readFile(t, filepath.Join(dir1, "run_0", "ran.txt")), readFile(t, filepath.Join(dir2, "run_0", "ran.txt")); a != b {
		t.Error("the second paper's baseline is not the first one's")
	}
	if !exists(filepath.Join(dir2, "run_0.py")) {
		t.Error("no run_0.py snapshot for the cached baseline")
	}
	// Another host, or other code, runs it again.
	writeFile(t, filepath.Join(dir, "experiment.py"), readFile(t, filepath.Join(dir, "experiment.py"))+"# changed\n")
	if third, _ := run0("p3"); third.Cached {
		t.Error("changed experiment.py reused the old baseline")
	}
}

// A reference-system template reads its data relative to the paper folder:
// ../../data for the baseline, ../../../data for later runs. Both show the
// data folder beside the templates folder, with the sandbox and without,
// and a stale link from another template is replaced.
func TestDataFolderBesidePaperFolder(t *testing.T) {
	needPython(t)
	for _, tc := range []struct {
		name    string
		sandbox bool
		noData  bool // no data folder: the failed run says where it belongs
	}{{"sandboxed", true, false}, {"no sandbox", false, false}, {"no data folder", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.sandbox {
				if _, err := exec.LookPath("bwrap"); err != nil {
					t.Skip("bubblewrap is not installed")
				}
			}
			base := t.TempDir()
			root := filepath.Join(base, "templates")
			dir := filepath.Join(root, "withdata")
			writeFile(t, filepath.Join(dir, "experiment.py"), `import json, os, sys
out = sys.argv[1].split("=", 1)[1]
data = "../../data" if out == "run_0" else "../../../data"
os.makedirs(out, exist_ok=True)
value = float(open(os.path.join(data, "set", "value.txt")).read())
json.dump({"set": {"means": {"value": value}}}, open(os.path.join(out, "final_info.json"), "w"))
`)
			writeFile(t, filepath.Join(dir, "plot.py"), "print('plot')\n")
			writeFile(t, filepath.Join(dir, "prompt.json"), `{"system": "s", "task_description": "t"}`)
			writeFile(t, filepath.Join(dir, "latex", "template.tex"), cleanTex)
			if !tc.noData {
				writeFile(t, filepath.Join(base, "data", "set", "value.txt"), "0.75")
			}
			e := newEnv(t, withTemplates(root))
			e.acts.Sandbox = sandbox.DefaultConfig()
			e.acts.Sandbox.Disabled = !tc.sandbox
			e.acts.Sandbox.Hide = []string{e.root}
			stale := filepath.Join(e.root, "papers", "data")
			if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(t.TempDir(), stale); err != nil {
				t.Fatal(err)
			}
			ref := activities.PaperRef{Key: "withdata/20260101_000000_idea", Name: "idea", Template: "withdata", Model: llm.ScriptedModel}
			mustExecute[string](t, e, e.acts.PreparePaper, activities.PaperSetup{Paper: ref, Idea: testIdea})
			for run := range 2 {
				r := mustExecute[activities.RunResult](t, e, e.run.RunExperiment, activities.RunInput{Paper: ref, Run: run, Attempt: 1, Timeout: time.Minute})
				if tc.noData {
					if want := "put the data in " + filepath.Join(base, "data"); r.OK || !strings.Contains(r.Error, want) {
						t.Fatalf("run_0 without its data: %+v, want an error saying %q", r, want)
					}
					return
				}
				if !r.OK {
					t.Fatalf("run_%d: %s", run, r.Error)
				}
			}
			if got, err := os.Readlink(stale); err != nil || got != filepath.Join(base, "data") {
				t.Errorf("papers/data links to %q (%v)", got, err)
			}
		})
	}
}

// TestLostCompletionIsNotRunAgain: Temporal runs an activity again when
// its completion never reached the server (killed or restarting while the
// worker reported). Attempt 1 here finishes run 1 and its report is lost;
// attempt 2 returns the finished run's results without starting the
// script, and says so in the executions ledger.
func TestLostCompletionIsNotRunAgain(t *testing.T) {
	needPython(t)
	e := newEnv(t, withTemplates(miniTemplate(t, "")))
	ref, dir := miniPaper(t, e, "lost_completion")
	writeFile(t, filepath.Join(dir, "experiment.py"), writeFinalInfo+"import random\nopen('draws.txt', 'a').write(str(random.random()) + '\\n')\n")

	var s testsuite.WorkflowTestSuite
	s.SetLogger(quietLogger)
	env := s.NewTestWorkflowEnvironment()
	// The worker's report of attempt 1 is lost: the activity ran to the
	// end, and Temporal saw a failure (a timeout) instead.
	env.RegisterActivityWithOptions(func(ctx context.Context, in activities.RunInput) (activities.RunResult, error) {
		res, err := e.run.RunExperiment(ctx, in)
		if activity.GetInfo(ctx).Attempt == 1 {
			return activities.RunResult{}, errors.New("completion lost")
		}
		return res, err
	}, activity.RegisterOptions{Name: "RunExperiment"})
	env.ExecuteWorkflow(func(ctx workflow.Context) (activities.RunResult, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: time.Minute,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Millisecond, MaximumAttempts: 3},
		})
		var res activities.RunResult
		err := workflow.ExecuteActivity(ctx, "RunExperiment", activities.RunInput{Paper: ref, Run: 1, Attempt: 1, Timeout: time.Minute}).Get(ctx, &res)
		return res, err
	})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res activities.RunResult
	if err := env.GetWorkflowResult(&res); err != nil || !res.OK {
		t.Fatalf("result = %+v, %v; want the finished run's", res, err)
	}
	if draws := strings.Count(readFile(t, filepath.Join(dir, "draws.txt")), "\n"); draws != 1 {
		t.Errorf("experiment.py ran %d times, want once", draws)
	}
	ledger := readFile(t, filepath.Join(dir, "logs", "executions.jsonl"))
	if strings.Count(ledger, `"event":"start"`) != 1 || !strings.Contains(ledger, `"event":"recovered"`) {
		t.Errorf("executions ledger:\n%s\nwant one start and a recovered event", ledger)
	}
	if !exists(filepath.Join(dir, "run_1", "final_info.json")) || !exists(filepath.Join(dir, "run_1.py")) {
		t.Error("the finished run's output is gone")
	}
}

// The host's plotter runs plot.py with no GPU visible, records it as the
// plot queue's (device -1), and tells a plot.py that wants CUDA why it has
// none.
func TestPlotterHasNoGPU(t *testing.T) {
	needPython(t)
	e := newEnv(t, withTemplates(miniTemplate(t, "")))
	host := activities.NewHost("h", gpu.Inventory{Devices: []gpu.Device{{Index: 0, Name: "H100", UUID: "GPU-1"}}})
	e.run = activities.NewRunner(e.acts, activities.NewPlotter(host))
	for _, tt := range []struct {
		name, script, wantErr string
		wantOK                bool
	}{
		{"no GPU visible", "import os\nopen('cuda.txt', 'w').write(repr(os.environ.get('CUDA_VISIBLE_DEVICES')))\nopen('a.png', 'wb').write(b'x')\n", "", true},
		{"asks for CUDA", "import sys\nsys.exit('RuntimeError: No CUDA GPUs are available')\n", "plots run on the experiment host's CPUs", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ref, dir := miniPaper(t, e, "plotter-"+strings.ReplaceAll(tt.name, " ", "-"))
			writeFile(t, filepath.Join(dir, "plot.py"), tt.script)
			res := mustExecute[activities.RunResult](t, e, e.run.RunPlot, activities.PlotInput{Paper: ref, Attempt: 1, Timeout: time.Minute})
			if res.OK != tt.wantOK || !strings.Contains(res.Error, tt.wantErr) {
				t.Fatalf("result = %+v, want OK=%v and an error containing %q", res, tt.wantOK, tt.wantErr)
			}
			if tt.wantOK {
				if b, _ := os.ReadFile(filepath.Join(dir, "cuda.txt")); string(b) != "''" {
					t.Errorf("plot.py saw CUDA_VISIBLE_DEVICES=%s, want it empty", b)
				}
			}
			raw, err := os.ReadFile(filepath.Join(dir, activities.ExecutionsFile))
			if err != nil || !strings.Contains(string(raw), `"host":"h","device":-1`) {
				t.Errorf("executions ledger does not record the plot queue: %s (%v)", raw, err)
			}
		})
	}
}
