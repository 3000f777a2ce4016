package activities

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/store"
	"github.com/aiscientist/aiscientist/internal/telemetry"
)

// A paper's two ledgers, append-only JSON lines in its logs/ folder: every
// model call (the record behind every cost figure shown) and every start
// and end of a script (the record that a finished run never ran again).

// LedgerFile lists every model call of a paper (or a campaign's ideation),
// one JSON line each.
const LedgerFile = "logs/calls.jsonl"

// ExecutionsFile lists every start and end of an experiment or plot
// script in a paper, one JSON line each.
const ExecutionsFile = "logs/executions.jsonl"

// ledgerEntry is one line of the calls ledger.
type ledgerEntry struct {
	llm.CallRecord
	Workflow string `json:"workflow"`
	Run      string `json:"run"`
	Activity string `json:"activity"`
	Attempt  int32  `json:"attempt"`
}

var ledgerMu sync.Mutex // one worker process appends one line at a time

// startMeter counts (and limits) the activity's model calls, writing each to
// the ledger under dir. Calls made by earlier attempts of the same activity
// are read back from the ledger, so a retried activity reports everything
// it cost and its budget check includes money already spent.
func startMeter(ctx context.Context, dir string, b llm.Budget) (context.Context, *llm.Meter) {
	return startMeterAt(ctx, dir, LedgerFile, b)
}

// startMeterAt is startMeter with the ledger at ledger (relative to dir):
// activities that run at the same time on one paper (the review's
// ensemble) each keep their own, folded into LedgerFile afterwards (see
// foldLedgers), so no worker's copy of the shared ledger overwrites
// another's in a remote store.
func startMeterAt(ctx context.Context, dir, ledger string, b llm.Budget) (context.Context, *llm.Meter) {
	info := activity.GetInfo(ctx)
	path := filepath.Join(dir, ledger)
	earlier := earlierAttempts(path, info)
	b.SpentUSD += earlier.CostUSD
	ctx, m := llm.WithMeter(ctx, b)
	m.Add(earlier)
	metrics, stage := telemetry.FromContext(ctx), activityStage(info.ActivityType.Name)
	m.Record = func(r llm.CallRecord) {
		e := ledgerEntry{CallRecord: r, Workflow: info.WorkflowExecution.ID, Run: info.WorkflowExecution.RunID, Activity: info.ActivityID, Attempt: info.Attempt}
		if err := appendJSONLine(path, e); err != nil {
			activity.GetLogger(ctx).Warn("call ledger not written", "path", path, "error", err)
		}
		if !r.Replayed {
			u := r.Usage
			metrics.ModelCall(r.Model, stage, u.PromptTokens, u.CompletionTokens, u.CachedPromptTokens, u.CostUSD,
				time.Duration(r.Seconds*float64(time.Second)), r.Error != "")
		}
	}
	return llm.WithReplies(ctx, fileReplies{dir: repliesDir(dir, info)}), m
}

// activityStage is the stage label of a model-calling activity in the
// metrics: the stage of a paper (or campaign) it works for.
func activityStage(activityType string) string {
	switch activityType {
	case "GenerateIdea":
		return "ideas"
	case "NoveltyRound":
		return "novelty"
	case "CoderTurn":
		return "experiments" // the coder's turns for runs, plots and notes
	case "WriteSection":
		return "writeup" // first drafts, the refinement pass and the improvement
	case "CitationRound":
		return "citations"
	case "BuildPDF":
		return "latex"
	case "CheckNumbers":
		return "numbers"
	case "ReviewMember", "MetaReview":
		return "review"
	}
	return strings.ToLower(activityType)
}

// RepliesDir (under a paper's or campaign's folder) keeps the replies of
// model calls of activities that have not finished yet, so a retry pays
// only for the calls it has not had (see llm.Replies): one folder per
// workflow run and activity, removed when the activity succeeds. A resumed
// paper is a new run and asks afresh, since its stage failed with those
// replies.
const RepliesDir = "logs/replies"

func repliesDir(dir string, info activity.Info) string {
	return filepath.Join(dir, RepliesDir, info.WorkflowExecution.RunID, info.ActivityID)
}

// fileReplies keeps each reply as <seq>.json.
type fileReplies struct{ dir string }

type savedReply struct {
	Key   string       `json:"key"` // llm.RequestKey of the request
	Reply llm.Response `json:"reply"`
}

func (f fileReplies) Load(seq int, key string) (llm.Response, bool) {
	var s savedReply
	if err := readJSON(filepath.Join(f.dir, fmt.Sprintf("%03d.json", seq)), &s); err != nil || s.Key != key {
		return llm.Response{}, false
	}
	return s.Reply, true
}

func (f fileReplies) Save(seq int, key string, resp llm.Response) error {
	return writeJSON(filepath.Join(f.dir, fmt.Sprintf("%03d.json", seq)), savedReply{Key: key, Reply: resp})
}

// earlierAttempts sums the ledger's calls of this activity's earlier attempts.
func earlierAttempts(path string, info activity.Info) llm.Usage {
	var u llm.Usage
	if info.Attempt <= 1 {
		return u
	}
	eachLine(path, func(e ledgerEntry) {
		if e.Workflow == info.WorkflowExecution.ID && e.Run == info.WorkflowExecution.RunID &&
			e.Activity == info.ActivityID && e.Attempt < info.Attempt {
			u = u.Add(e.Usage)
		}
	})
	return u
}

// eachLine calls fn with every line of a JSON-lines ledger that parses
// (a torn last line after a crash does not); a missing file has none.
func eachLine[T any](path string, fn func(T)) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var v T
		if json.Unmarshal(sc.Bytes(), &v) == nil {
			fn(v)
		}
	}
}

// execution is one line of the executions ledger.
type execution struct {
	Event    string    `json:"event"` // start, end, cached, abandoned
	Script   string    `json:"script"`
	Run      int       `json:"run"` // -1: plot.py
	Attempt  int       `json:"attempt"`
	Workflow string    `json:"workflow,omitempty"`
	RunID    string    `json:"workflow_run,omitempty"`
	Activity int32     `json:"activity_attempt,omitempty"` // Temporal's retry count
	Host     string    `json:"host,omitempty"`
	Device   int       `json:"device"` // PlotSlot (-1): the host's plot queue
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

func (r *Runner) logExecution(ctx context.Context, dir string, e execution) {
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		e.Workflow, e.RunID = info.WorkflowExecution.ID, info.WorkflowExecution.RunID
		if e.Activity == 0 {
			e.Activity = info.Attempt
		}
	}
	hb := r.dev.heartbeat("", 0)
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
func (r *Runner) retried(ctx context.Context, dir, logs, logName, script string, run, attempt int) {
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
	eachLine(filepath.Join(dir, ExecutionsFile), func(e execution) {
		if e.Script == script && e.Run == run && e.Attempt == attempt && e.Activity == prev {
			started = started || e.Event == "start"
			ended = ended || e.Event == "end"
		}
	})
	if started && !ended {
		r.logExecution(ctx, dir, execution{Event: "abandoned", Script: script, Run: run, Attempt: attempt, Activity: prev,
			Error: "this try never reported back (worker killed or heartbeat lost); Temporal retried it"})
	}
}

// finishedEarlier finds, in the executions ledger under dir, a successful
// end of script (run, attempt) by an earlier Temporal attempt of the
// running activity. Temporal runs an activity again when its completion
// never reached the server: the server was down or restarting when the
// worker reported it, or the heartbeat timeout fired meanwhile. The run's
// results are on disk then, so the retry returns them instead of running
// hours of experiment again. Only an activity retry qualifies (not the
// workflow's next attempt, not another workflow run).
func finishedEarlier(ctx context.Context, dir, script string, run, attempt int) (execution, bool) {
	if !activity.IsActivity(ctx) {
		return execution{}, false
	}
	info := activity.GetInfo(ctx)
	return findFinished(filepath.Join(dir, ExecutionsFile), info.WorkflowExecution.ID, info.WorkflowExecution.RunID, info.Attempt, script, run, attempt)
}

// findFinished is finishedEarlier on explicit identities.
func findFinished(path, workflow, runID string, activityAttempt int32, script string, run, attempt int) (execution, bool) {
	var found execution
	ok := false
	if activityAttempt <= 1 {
		return found, false
	}
	eachLine(path, func(e execution) {
		if e.Event == "end" && e.OK && e.Script == script && e.Run == run && e.Attempt == attempt &&
			e.Workflow == workflow && e.RunID == runID && e.Activity > 0 && e.Activity < activityAttempt {
			found, ok = e, true
		}
	})
	return found, ok
}

// logRecovered records that a retried activity returned the results of an
// earlier attempt's finished run instead of running it again.
func (r *Runner) logRecovered(ctx context.Context, dir string, prev execution) {
	r.logExecution(ctx, dir, execution{Event: "recovered", Script: prev.Script, Run: prev.Run, Attempt: prev.Attempt, OK: true,
		Seconds: prev.Seconds,
		Error:   fmt.Sprintf("activity attempt %d finished this run but its completion never reached the Temporal server; its results are returned as they are", prev.Activity)})
}

// logEnd records how a script's execution ended, as the workflow sees it
// (a run that exited 0 without final_info.json is a failure here too).
func (r *Runner) logEnd(ctx context.Context, dir string, run, attempt int, res RunResult, err error) {
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
	r.logExecution(ctx, dir, e)
}

// appendJSONLine appends v as one JSON line (both ledgers).
func appendJSONLine(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ledgerMu.Lock()
	defer ledgerMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// foldLedgers appends the lines of the ledgers matching glob (relative to
// dir) to LedgerFile and removes them, in name order.
func foldLedgers(dir, glob string) error {
	parts, err := filepath.Glob(filepath.Join(dir, glob))
	if err != nil || len(parts) == 0 {
		return err
	}
	sort.Strings(parts)
	ledgerMu.Lock()
	defer ledgerMu.Unlock()
	f, err := os.OpenFile(filepath.Join(dir, LedgerFile), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	for _, p := range parts {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Close()
			return err
		}
		if _, err := f.Write(b); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range parts {
		_ = os.Remove(p)
	}
	return nil
}
