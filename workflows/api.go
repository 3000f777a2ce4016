package workflows

import (
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
)

// This file is the contract between the workflows and everyone who starts,
// follows or steers them (starter, worker, tests, the Web UI): names, IDs,
// stages, states, messages, inputs, progress and results.

// Workflow types, as registered and as recorded in histories.
const (
	CampaignWorkflowName = "CampaignWorkflow"
	PaperWorkflowName    = "PaperWorkflow"
	ReviewWorkflowName   = "ReviewWorkflow"
	BaselineWorkflowName = "BaselineWorkflow"
	BenchWorkflowName    = "BenchReviewWorkflow"
)

// TaskQueue is where the workers poll for workflows and for every activity
// that is not an experiment host's (see activities.ExperimentsQueue).
const TaskQueue = "aiscientist"

// CampaignWorkflowID is readable, so a campaign can be found by template
// and launch time.
func CampaignWorkflowID(template, stamp string) string { return "campaign/" + template + "/" + stamp }

// PaperWorkflowID is deterministic and readable, so a paper can be found,
// fetched and resumed by name, and the same idea never runs twice at once.
func PaperWorkflowID(template, idea string) string { return "paper/" + template + "/" + idea }

// ReviewWorkflowID names a standalone review (`starter review --pdf`) by
// its start time and the PDF's name; its workspace key is ReviewKey.
func ReviewWorkflowID(stamp, name string) string { return "review/" + stamp + "_" + name }

// ReviewKey is a standalone review's workspace key.
func ReviewKey(stamp, name string) string { return "reviews/" + stamp + "_" + name }

// BaselineWorkflowID: one baseline of a template and configuration per
// host at a time (host "" is whichever host answers first: "any").
func BaselineWorkflowID(template string, quick bool, host string) string {
	if host == "" {
		host = "any"
	}
	return "baseline/" + template + "/" + mode(quick) + "/" + host
}

// BaselineKey is a standalone baseline's workspace key, at a paper's depth
// (<template>/<folder>) so that relative data paths work as in a paper.
func BaselineKey(template, stamp string, quick bool) string {
	return template + "/" + stamp + "_baseline_" + mode(quick)
}

func mode(quick bool) string {
	if quick {
		return "quick"
	}
	return "full"
}

// BenchWorkflowID names a reviewer benchmark run (starter bench-review
// run) by its name; its workspaces lie under BenchKey.
func BenchWorkflowID(name string) string { return "bench-review/" + name }

// BenchKey is the parent of a benchmark's workspaces: <BenchKey>/<paper id>
// for each paper, and activities.BenchResultsKey for its reviews table.
func BenchKey(name string) string { return "bench/" + name }

// Stage is where a workflow is in its work, in order. Stages only move
// forward; whether the workflow is running, paused or stopped is its State.
type Stage string

// Stages of a campaign.
const (
	StagePreflight Stage = "preflight"
	StageIdeas     Stage = "ideas"
	StageNovelty   Stage = "novelty"
	StagePapers    Stage = "papers"
)

// Stages of a paper.
const (
	StageSetup       Stage = "setup"
	StageBaseline    Stage = "baseline"
	StageExperiments Stage = "experiments"
	StagePlots       Stage = "plots"
	StageNotes       Stage = "notes"
	StageWriteup     Stage = "writeup"
	StageCitations   Stage = "citations"
	StageRefine      Stage = "refine"  // the second pass over every section, the whole paper in view
	StageNumbers     Stage = "numbers" // every number checked against the runs
	StageLatex       Stage = "latex"
	StageReview      Stage = "review"
	StageImprove     Stage = "improvement" // --improvement: revised from the review, rebuilt, reviewed again
	StageExport      Stage = "export"
)

// StageDone ends campaigns and papers that completed.
const StageDone Stage = "done"

// StageDurationMetric is the timer papers record, through the SDK's
// metrics handler, for each stage they finish: exported to Prometheus as
// aisci_stage_duration_seconds{stage, outcome} (ok, failed, cancelled).
const StageDurationMetric = "aisci_stage_duration"

// State is how a workflow, or one idea of a campaign, stands.
type State string

// States of campaigns and papers.
const (
	StateRunning   State = "running"
	StateCompleted State = "completed"
	StateFailed    State = "failed"
	// StateCancelled is a paper cancelled by a person (or skipped).
	StateCancelled State = "cancelled"
	// StatePaused holds before the next activity until an unpause.
	StatePaused State = "paused"
	// StateBudgetExhausted waits for the budget to be raised.
	StateBudgetExhausted State = "budget exhausted"
	// StateAwaitingApproval: a held idea (an IdeaStatus), or a campaign
	// with nothing to run until one is approved or rejected.
	StateAwaitingApproval State = "awaiting approval"
)

// States an idea of a campaign has besides those of its paper.
const (
	StatePending  State = "pending" // kept, its paper not started yet
	StateSkipped  State = "skipped" // a duplicate, or skipped by request
	StateRejected State = "rejected"
	// StateNotNovel: the novelty check found the idea done before.
	StateNotNovel State = "not novel"
)

// Search attributes the workflows publish, so papers and campaigns are
// filterable in the Web UI and by `starter list` (e.g. `Stage =
// "experiments" AND State = "budget exhausted"`).
var (
	TemplateKey = temporal.NewSearchAttributeKeyKeyword("Template")
	IdeaNameKey = temporal.NewSearchAttributeKeyKeyword("IdeaName")
	StageKey    = temporal.NewSearchAttributeKeyKeyword("Stage")
	StateKey    = temporal.NewSearchAttributeKeyKeyword("State")
	// CostUSD is the model spend so far, e.g. `CostUSD > 5`.
	CostUSD = temporal.NewSearchAttributeKeyFloat64("CostUSD")
	// ReviewOverall is the review's overall score (1-10), published once
	// the paper is reviewed, e.g. `ReviewOverall >= 6`.
	ReviewOverall = temporal.NewSearchAttributeKeyInt64("ReviewOverall")
)

// SearchAttributes lists every key above with its type, for registration
// on a namespace (the embedded server does it at every start).
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		TemplateKey.GetName():   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		IdeaNameKey.GetName():   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		StageKey.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		StateKey.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		CostUSD.GetName():       enumspb.INDEXED_VALUE_TYPE_DOUBLE,
		ReviewOverall.GetName(): enumspb.INDEXED_VALUE_TYPE_INT,
	}
}

// Messages. Every workflow answers ProgressQuery (a PaperProgress or a
// CampaignProgress). Pause and unpause are signals on papers and campaigns
// (a campaign passes them on); they take effect at the next activity
// boundary. BudgetUpdate is both an update (answers with the new
// BudgetStatus, or refuses a bad value before anything changes) and a
// signal, on papers and campaigns alike. Skip is a campaign signal naming
// one of its papers or ideas (a string). Approve and reject are campaign
// updates taking an IdeaDecision and answering with the names decided.
const (
	ProgressQuery = "progress"
	PauseSignal   = "pause"
	UnpauseSignal = "unpause"
	BudgetUpdate  = "budget"
	SkipSignal    = "skip"
	ApproveUpdate = "approve"
	RejectUpdate  = "reject"
)

// Messages between a campaign and its papers.
const (
	// grantSignal carries a campaign's share for one of its papers (USD).
	grantSignal = "budget-grant"
	// paperBudgetSignal tells a campaign that one of its papers stopped
	// at, or resumed after, its budget (a paperBudgetNotice).
	paperBudgetSignal = "paper-budget"
)

// BudgetChange sets a new limit in US dollars: a paper's own limit, or a
// campaign's total.
type BudgetChange struct {
	LimitUSD float64 `json:"limit_usd"`
}

// BudgetStatus is a workflow's budget as shown by status and updates.
type BudgetStatus struct {
	// LimitUSD is the workflow's own limit: a campaign's total, a paper's
	// own (0: none).
	LimitUSD float64 `json:"limit_usd,omitempty"`
	SpentUSD float64 `json:"spent_usd"`
	// GrantUSD is, for a paper, its share of the campaign's budget; for a
	// campaign, the shares its running papers hold.
	GrantUSD  float64 `json:"grant_usd,omitempty"`
	Exhausted bool    `json:"exhausted,omitempty"`
	Note      string  `json:"note,omitempty"` // why it stopped and how to go on
}

// PaperLimit is what binds a paper: the lower of its own limit and its
// share (0: no limit).
func (b BudgetStatus) PaperLimit() float64 {
	return paperBudget{limit: b.LimitUSD, grant: b.GrantUSD}.effective()
}

// paperBudgetNotice is what a paper tells its campaign.
type paperBudgetNotice struct {
	Paper     string
	Exhausted bool
	SpentUSD  float64
	LimitUSD  float64 // the paper's own limit (0: none), which a share need not pass
}

// IdeaDecision names the idea (its Name) an approve or reject update is for;
// All approves every idea that waits.
type IdeaDecision struct {
	Idea   string `json:"idea,omitempty"`
	All    bool   `json:"all,omitempty"`
	Reason string `json:"reason,omitempty"` // a rejection's, shown in status
}

// PaperInput starts one paper. Its workspace is Paper.Key
// (<template>/<YYYYMMDD_HHMMSS>_<Name>), whose last part also names the
// exported folder.
type PaperInput struct {
	Paper         activities.PaperRef
	Idea          paper.Idea
	Quick         bool
	RerunBaseline bool // run run_0 here instead of using the template's
	// TemplateBaseline keeps the template's checked-in run_0 for a full
	// paper instead of the experiment host's own.
	TemplateBaseline bool
	MaxRuns          int           // default 5
	MaxRunAttempts   int           // attempts per run, default 4 (every run alike)
	RunTimeout       time.Duration // default 2 h
	PlotTimeout      time.Duration // default 10 min
	LatexRounds      int           // check/compile rounds, default 5
	ResultsDir       string        // export root; empty: no export
	// Novelty is the campaign's novelty verdict, for the paper's status.
	Novelty string `json:",omitempty"`
	// SkipCitations writes the paper with its template's bibliography only;
	// otherwise up to CitationRounds (default 20) rounds search the
	// literature for missing citations, Engine first (default
	// semanticscholar).
	SkipCitations  bool   `json:",omitempty"`
	CitationRounds int    `json:",omitempty"`
	Engine         string `json:",omitempty"`
	// Review is how the paper is reviewed (zero: the reference system's
	// settings, the paper's model); Improvement revises the paper from its
	// review into <Name>_improved.pdf and reviews it again.
	Review      activities.ReviewSpec `json:",omitempty"`
	Improvement bool                  `json:",omitempty"`
	// NumberRounds: numbers checks before compiling, the writer fixing
	// unmatched numbers between them (default 3).
	NumberRounds int `json:",omitempty"`
	// BudgetUSD limits this paper's model spending (0: no limit of its own).
	BudgetUSD float64
	// GrantUSD is the campaign's share for this paper (0: none); the
	// campaign raises it with a signal as money frees up.
	GrantUSD float64
	// HostTimeout: an experiment host that does not pick up its queued work
	// within it is taken for dead, and the run moves (default 5 min).
	HostTimeout time.Duration
	// HostWait: how long to wait for any experiment host at all (default 24 h).
	HostWait time.Duration
	// RunOrder orders the runs waiting for a host's devices: RunOrderRounds
	// (empty, the default) or RunOrderFinishFirst; see runPriority.
	RunOrder string `json:",omitempty"`
}

// How the runs waiting for a host's devices are ordered (PaperInput.RunOrder,
// starter --run-order).
const (
	// RunOrderRounds: fewest runs done first; papers advance together and
	// the slots stay busy to the end (the default).
	RunOrderRounds = "rounds"
	// RunOrderFinishFirst: fewest runs left first; papers finish one after
	// another, the first much sooner, and the slots may idle at the end.
	RunOrderFinishFirst = "finish-first"
)

// ParseRunOrder accepts a run order as a researcher types it (empty: the
// default) and names the choices when it is none of them.
func ParseRunOrder(s string) (string, error) {
	switch o := strings.ToLower(strings.TrimSpace(s)); o {
	case "", RunOrderRounds:
		return RunOrderRounds, nil
	case RunOrderFinishFirst:
		return o, nil
	}
	return "", fmt.Errorf("unknown run order %q: use %s (fewest runs done first, slots busy to the end) or %s (fewest runs left first, the first papers sooner)", s, RunOrderRounds, RunOrderFinishFirst)
}

func (in *PaperInput) defaults() {
	if in.MaxRuns <= 0 {
		in.MaxRuns = 5
	}
	if in.MaxRunAttempts <= 0 {
		in.MaxRunAttempts = 4
	}
	if in.RunTimeout <= 0 {
		in.RunTimeout = 2 * time.Hour
	}
	if in.PlotTimeout <= 0 {
		in.PlotTimeout = 10 * time.Minute
	}
	if in.LatexRounds <= 0 {
		in.LatexRounds = 5
	}
	if in.HostTimeout <= 0 {
		in.HostTimeout = 5 * time.Minute
	}
	if in.HostWait <= 0 {
		in.HostWait = 24 * time.Hour
	}
	if in.CitationRounds <= 0 {
		in.CitationRounds = 20
	}
	if in.NumberRounds <= 0 {
		in.NumberRounds = 3
	}
}

// RunStatus is one experiment run as the progress query reports it.
type RunStatus struct {
	Run      int    `json:"run"`
	Attempts int    `json:"attempts"`
	OK       bool   `json:"ok"`
	Error    string `json:"error,omitempty"`
	Seconds  int    `json:"seconds,omitempty"`
	Cached   bool   `json:"cached,omitempty"` // a baseline the host had computed before
	// Change is the coder's account of the last attempt's change; every
	// attempt's full record is in the paper's logs/executions.jsonl.
	Change string `json:"change,omitempty"`
}

// PaperProgress answers the progress query.
type PaperProgress struct {
	Paper    string       `json:"paper"`
	Idea     string       `json:"idea"`
	Title    string       `json:"title"`
	Template string       `json:"template"`
	Model    string       `json:"model"`
	Stage    Stage        `json:"stage"`
	State    State        `json:"state"`
	Run      int          `json:"run"`
	MaxRuns  int          `json:"max_runs,omitempty"` // the paper's limit of experiment runs
	Attempt  int          `json:"attempt"`
	Host     string       `json:"host,omitempty"` // experiment host of the runs
	Device   int          `json:"device"`
	Runs     []RunStatus  `json:"runs"`
	Tokens   llm.Usage    `json:"tokens"`
	Budget   BudgetStatus `json:"budget"` // computed when queried and at the end
	Figures  int          `json:"figures"`
	PDF      string       `json:"pdf,omitempty"`
	Overall  int          `json:"overall,omitempty"`
	Decision string       `json:"decision,omitempty"`
	Reviews  int          `json:"reviews,omitempty"` // ensemble members the review rests on
	// Numbers is the numbers check's outcome ("41 checked, 0 match no run").
	Numbers         string   `json:"numbers,omitempty"`
	ImprovedPDF     string   `json:"improved_pdf,omitempty"`
	ImprovedOverall int      `json:"improved_overall,omitempty"`
	Workspace       string   `json:"workspace,omitempty"`
	ResultDir       string   `json:"result_dir,omitempty"`
	Warnings        []string `json:"warnings,omitempty"`
	Error           string   `json:"error,omitempty"`
	// Stages of the reference system this build cannot run yet, shown so
	// nobody mistakes their absence for a pass.
	NoveltyCheck   string `json:"novelty_check"`
	CitationSearch string `json:"citation_search"`
}

// PaperResult is what a finished paper returns. A failed or cancelled
// paper carries its PaperProgress in the error's details instead.
type PaperResult struct {
	Progress PaperProgress
}

// CampaignInput is one launch: a template, a model and a number of ideas.
type CampaignInput struct {
	Template           string
	Model              string
	NumIdeas           int
	Quick              bool
	TemplateBaseline   bool // full papers use the template's run_0, not the host's
	SkipIdeaGeneration bool // run stored ideas: the template's seeds, then its idea store
	// HoldIdeas holds each new idea until an approve (or reject) update.
	HoldIdeas bool
	// SkipNoveltyCheck starts papers without checking ideas against the
	// literature; KeepNotNovel runs ideas judged not novel anyway. Engine
	// is the literature engine tried first (default semanticscholar, then
	// the others), NoveltyRounds the most rounds per idea (default 10).
	SkipNoveltyCheck bool
	KeepNotNovel     bool
	Engine           string
	NoveltyRounds    int
	// SkipCitations: papers cite their template's bibliography only.
	SkipCitations bool
	// Review and Improvement are passed on to every paper.
	Review      activities.ReviewSpec `json:",omitempty"`
	Improvement bool                  `json:",omitempty"`
	Reflections int                   // idea self-reflection rounds, default 3
	Parallel    int                   // papers at once, default 1
	ResultsDir  string
	// Stamp (YYYYMMDD_HHMMSS) names result folders; default: workflow start time.
	Stamp string
	// Paper settings passed on to every paper (zero: paper defaults).
	MaxRuns    int
	RunTimeout time.Duration
	// HostTimeout: an experiment host silent for this long loses its runs
	// to another (zero: the paper default, 5 min).
	HostTimeout time.Duration
	// RunOrder is every paper's PaperInput.RunOrder.
	RunOrder string `json:",omitempty"`
	// BudgetUSD limits the campaign's model spending in total, ideas and
	// papers together; PaperBudgetUSD limits each paper. Zero: no limit.
	BudgetUSD      float64
	PaperBudgetUSD float64
	// HistoryLimit: past this many history events the campaign finishes
	// its running papers, starts no new one, and continues as new (0: when
	// the server suggests it, at about 4,000 events or 4 MB).
	HistoryLimit int
	// Carry is what a campaign that continued as new carries over.
	Carry *CampaignCarry `json:",omitempty"`
}

// CampaignCarry is a campaign's state across continue-as-new: its progress,
// the ideas it keeps and how far it got; no paper is running at that point.
type CampaignCarry struct {
	Prog      CampaignProgress
	Ideas     []paper.Idea
	Next      int // ideas[Next:] have not started
	Completed int
	Finished  float64 // what finished papers spent
	Total     float64 // the budget, raises included
	Paused    bool
}

// IdeaStatus is one idea and its paper as the campaign sees it.
type IdeaStatus struct {
	Name    string `json:"name"`
	Title   string `json:"title"`
	PaperID string `json:"paper_id,omitempty"`
	State   State  `json:"state"` // pending, awaiting approval, not novel, running, budget exhausted, completed, failed, skipped, rejected
	// Novelty is the novelty check's verdict, with the closest papers
	// (the queries and papers seen: ideas/<name>/novelty.json).
	Novelty  string `json:"novelty,omitempty"`
	Error    string `json:"error,omitempty"`
	Overall  int    `json:"overall,omitempty"`
	Decision string `json:"decision,omitempty"`
	Result   string `json:"result_dir,omitempty"`
	PDF      string `json:"pdf,omitempty"` // in the result folder when exported
	// CostUSD is a finished paper's model spending.
	CostUSD float64 `json:"cost_usd,omitempty"`
}

// CampaignProgress answers the progress query, and is the campaign's result.
type CampaignProgress struct {
	Campaign string       `json:"campaign"`
	Template string       `json:"template"`
	Model    string       `json:"model"`
	Stage    Stage        `json:"stage"` // preflight, ideas, novelty, papers, done
	State    State        `json:"state"`
	Ideas    []IdeaStatus `json:"ideas"`
	Tokens   llm.Usage    `json:"tokens"` // ideation only; papers report their own
	// Budget: SpentUSD counts ideation and finished papers; GrantUSD is what
	// running papers may still spend.
	Budget       BudgetStatus `json:"budget"`
	NoveltyCheck string       `json:"novelty_check"`
	Error        string       `json:"error,omitempty"`
}

// ReviewWorkflowInput reviews one PDF, Review.PDF in the workspace
// Review.Paper.Key.
type ReviewWorkflowInput struct {
	Review activities.ReviewInput
}

// ReviewProgress answers a standalone review's progress query.
type ReviewProgress struct {
	Review string    `json:"review"`
	PDF    string    `json:"pdf"`
	Model  string    `json:"model"`
	Stage  Stage     `json:"stage"`
	State  State     `json:"state"`
	Tokens llm.Usage `json:"tokens"`
	Notes  []string  `json:"notes,omitempty"`
	Error  string    `json:"error,omitempty"`
}

// ReviewWorkflowResult is a standalone review's outcome; the form itself
// is review.txt in its workspace.
type ReviewWorkflowResult struct {
	Result   activities.ReviewResult
	Progress ReviewProgress
}

// BaselineInput runs a template's own experiment.py as run_0 on an
// experiment host (starter templates baseline), which keeps it in its
// baseline cache, where that host's papers of the same template,
// configuration and code find it.
type BaselineInput struct {
	Template string
	Quick    bool
	// Host is the experiment host to run on ("": the first that answers).
	Host string `json:",omitempty"`
	// Rerun computes it even when the host has it, replacing the cached one.
	Rerun bool `json:",omitempty"`
	// Stamp (YYYYMMDD_HHMMSS) names the workspace, see BaselineKey.
	Stamp string
	// RunTimeout: 0 is the template's own limit (prompt.json), else 2 h.
	RunTimeout  time.Duration `json:",omitempty"`
	HostTimeout time.Duration `json:",omitempty"` // default 5 min
	HostWait    time.Duration `json:",omitempty"` // default 24 h (Host "": any host)
}

// BaselineResult is where the baseline ran and what it measured.
type BaselineResult struct {
	Host      string
	Device    int
	Attempts  int
	Cached    bool // the host had it already (Rerun recomputes)
	Seconds   int  // the run's own time (0 when cached)
	Workspace string
	// Cache is the folder on the host where its papers find it.
	Cache   string          `json:",omitempty"`
	Results paper.FinalInfo `json:",omitempty"`
}

// BenchPaper is one paper of a reviewer benchmark: its ID (the ratings'
// paper_id) and its file in its workspace (paper.pdf or paper.txt).
type BenchPaper struct {
	ID   string `json:"id"`
	File string `json:"file"`
}

// BenchInput reviews every paper with the same reviewer (starter
// bench-review run). A run reviews at most a batch of papers, then
// continues as new with what it carries, so its history stays small.
type BenchInput struct {
	Name   string
	Papers []BenchPaper
	Review activities.ReviewSpec
	// Concurrency: papers reviewed at once (default 4); the worker's
	// --llm-concurrency still bounds the model calls in flight.
	Concurrency int `json:",omitempty"`
	BudgetUSD   float64
	// Carried across continue-as-new: what was spent, and the papers that
	// failed in this run (not retried until the benchmark is started again).
	Spent  llm.Usage         `json:",omitempty"`
	Failed map[string]string `json:",omitempty"`
	Batch  int               `json:",omitempty"` // papers per run (default 50)
}

// BenchProgress is what status shows of a benchmark.
type BenchProgress struct {
	Bench    string       `json:"bench"`
	Model    string       `json:"model"`
	State    State        `json:"state"`
	Total    int          `json:"total"`
	Reviewed int          `json:"reviewed"`
	Failed   int          `json:"failed"`
	Running  int          `json:"running"`
	Tokens   llm.Usage    `json:"tokens"`
	Budget   BudgetStatus `json:"budget"`
	// Errors: the first few failed papers, "<id>: why".
	Errors []string `json:"errors,omitempty"`
	// Table is the reviews CSV on the worker that wrote it (the starter
	// copies it out of the artifact store).
	Table string `json:"table,omitempty"`
}

// BenchResult is a finished benchmark.
type BenchResult struct {
	Progress BenchProgress
	Table    activities.BenchTable
}
