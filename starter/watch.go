package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"golang.org/x/term"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// A live view of papers: one snapshot is collected from the server every
// few seconds and rendered as a table that redraws in place on a
// terminal, or as lines of what changed when the output is not one (a
// log, a pipe, CI).

// watchRow is one paper as the view shows it.
type watchRow struct {
	Paper   string
	Stage   workflows.Stage
	State   workflows.State
	Run     int
	MaxRuns int
	Attempt int
	Host    string
	Device  int
	Elapsed time.Duration // since the paper started
	CostUSD float64
	// Script: the experiment or plot running now, from its heartbeat.
	Script *watchScript
	Note   string // budget note or error
}

type watchScript struct {
	Log         string
	Elapsed     time.Duration
	Limit       time.Duration // the run's timeout (0: unknown)
	GPUMemoryMB uint64
	GPUUtil     int
}

// watchSnapshot is everything one frame shows.
type watchSnapshot struct {
	Title string // the campaign line, or what is watched
	Rows  []watchRow
}

const barWidth = 20

// bar draws a fraction as a fixed-width bar.
func bar(frac float64) string {
	frac = min(max(frac, 0), 1)
	n := int(frac*barWidth + 0.5)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", barWidth-n) + "]"
}

func short(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}

func (r watchRow) runText() string {
	switch {
	case r.Run == 0 && r.Stage != workflows.StageBaseline:
		return "-"
	case r.MaxRuns > 0:
		return fmt.Sprintf("%d/%d", r.Run, r.MaxRuns)
	}
	return fmt.Sprint(r.Run)
}

func (r watchRow) where() string {
	if r.Host == "" {
		return "-"
	}
	return fmt.Sprintf("%s/%d", r.Host, r.Device)
}

func (s *watchScript) line() string {
	out := "  " + s.Log + " "
	if s.Limit > 0 {
		out += fmt.Sprintf("%s %s of %s", bar(s.Elapsed.Seconds()/s.Limit.Seconds()), short(s.Elapsed), short(s.Limit))
	} else {
		out += short(s.Elapsed)
	}
	if s.GPUMemoryMB > 0 || s.GPUUtil > 0 {
		out += fmt.Sprintf("  GPU %.1f GiB %d%%", float64(s.GPUMemoryMB)/1024, s.GPUUtil)
	}
	return out
}

// renderTable draws a whole frame (the terminal form).
func renderTable(w io.Writer, s watchSnapshot) {
	fmt.Fprintln(w, s.Title)
	// The rows are aligned alone; each row's bar and note go under it
	// afterwards, so they never widen a column.
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PAPER\tSTAGE\tRUN\tATTEMPT\tHOST/DEVICE\tELAPSED\tCOST\tSTATE")
	for _, r := range s.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t$%.4f\t%s\n", r.Paper, r.Stage, r.runText(), r.Attempt, r.where(), short(r.Elapsed), r.CostUSD, r.State)
	}
	_ = tw.Flush()
	lines := strings.SplitAfter(b.String(), "\n")
	fmt.Fprint(w, lines[0])
	for i, r := range s.Rows {
		fmt.Fprint(w, lines[i+1])
		if r.Script != nil {
			fmt.Fprintln(w, r.Script.line())
		}
		if r.Note != "" {
			fmt.Fprintln(w, "  "+r.Note)
		}
	}
}

// renderChanges prints one line per paper whose stage, run, state or note
// changed since seen (the plain form), and remembers it.
func renderChanges(w io.Writer, s watchSnapshot, seen map[string]string, now time.Time) {
	stamp := now.Format("15:04:05")
	if seen[""] != s.Title {
		seen[""] = s.Title
		fmt.Fprintf(w, "%s  %s\n", stamp, s.Title)
	}
	for _, r := range s.Rows {
		line := fmt.Sprintf("%s: %s", r.Paper, r.Stage)
		if r.Stage == workflows.StageExperiments || r.Stage == workflows.StageBaseline {
			line += fmt.Sprintf(" run %s attempt %d", r.runText(), r.Attempt)
		}
		if r.Host != "" {
			line += " on " + r.where()
		}
		line += " " + string(r.State)
		if r.Note != "" {
			line += " — " + r.Note
		}
		if seen[r.Paper] != line {
			seen[r.Paper] = line
			fmt.Fprintf(w, "%s  %s ($%.4f)\n", stamp, line, r.CostUSD)
		}
	}
}

// watcher draws snapshots on w: in place on a terminal, else as changes.
type watcher struct {
	w     io.Writer
	tty   bool
	width int // the terminal's columns: longer lines are cut, so none wraps (0: none cut)
	lines int // lines of the last frame, to redraw over
	seen  map[string]string
	now   func() time.Time
}

func newWatcher(w io.Writer) *watcher {
	v := &watcher{w: w, seen: map[string]string{}, now: time.Now}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		v.tty = true
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil {
			v.width = cols
		}
	}
	return v
}

func (v *watcher) draw(s watchSnapshot) {
	if !v.tty {
		renderChanges(v.w, s, v.seen, v.now())
		return
	}
	var b strings.Builder
	renderTable(&b, s)
	frame := b.String()
	if v.width > 1 {
		lines := strings.SplitAfter(frame, "\n")
		for i, l := range lines {
			if r := []rune(strings.TrimSuffix(l, "\n")); len(r) >= v.width {
				lines[i] = string(r[:v.width-1]) + "\n"
			}
		}
		frame = strings.Join(lines, "")
	}
	if v.lines > 0 {
		fmt.Fprintf(v.w, "\x1b[%dA\x1b[J", v.lines) // up over the last frame, clear below
	}
	fmt.Fprint(v.w, frame)
	v.lines = strings.Count(frame, "\n")
}

// collect builds a snapshot: the campaign's papers, or (id "") every
// paper that is running.
func collect(ctx context.Context, c client.Client, id string) (watchSnapshot, error) {
	var snap watchSnapshot
	var papers []string
	if id != "" {
		var cp workflows.CampaignProgress
		if err := query(ctx, c, id, &cp); err != nil {
			return snap, fmt.Errorf("campaign %s: %w", id, err)
		}
		snap.Title = fmt.Sprintf("%s  stage %s  state %s  $%.4f", id, cp.Stage, cp.State, cp.Budget.SpentUSD)
		if cp.Budget.LimitUSD > 0 {
			snap.Title += fmt.Sprintf(" of $%.2f", cp.Budget.LimitUSD)
		}
		if cp.Budget.Note != "" {
			snap.Title += " — " + cp.Budget.Note
		}
		for _, i := range cp.Ideas {
			if i.PaperID != "" {
				papers = append(papers, i.PaperID)
			}
		}
	} else {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running'", workflows.PaperWorkflowName)})
		if err != nil {
			return snap, fmt.Errorf("list papers: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			papers = append(papers, e.GetExecution().GetWorkflowId())
		}
		snap.Title = fmt.Sprintf("%d papers running", len(papers))
	}
	// Heartbeats are decoded here, with the key when payloads are encrypted.
	dc, err := app.DataConverter()
	if err != nil {
		return snap, err
	}
	for _, p := range papers {
		snap.Rows = append(snap.Rows, paperRow(ctx, c, dc, p))
	}
	return snap, nil
}

// paperRow is one paper's progress plus, from the server's description,
// how long it has run and the heartbeat of a script running now.
func paperRow(ctx context.Context, c client.Client, dc converter.DataConverter, id string) watchRow {
	r := watchRow{Paper: id}
	var pp workflows.PaperProgress
	if err := query(ctx, c, id, &pp); err != nil {
		r.Note = "progress unavailable: " + err.Error()
		return r
	}
	r.Stage, r.State, r.Run, r.MaxRuns, r.Attempt, r.Host, r.Device, r.CostUSD = pp.Stage, pp.State, pp.Run, pp.MaxRuns, pp.Attempt, pp.Host, pp.Device, pp.Tokens.CostUSD
	switch {
	case pp.Error != "":
		r.Note = pp.Error
	case pp.Budget.Note != "":
		r.Note = pp.Budget.Note
	}
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return r
	}
	info := desc.GetWorkflowExecutionInfo()
	if st := info.GetStartTime(); st != nil {
		end := time.Now()
		if ct := info.GetCloseTime(); ct != nil && info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			end = ct.AsTime()
		}
		r.Elapsed = end.Sub(st.AsTime())
	}
	for _, pa := range desc.GetPendingActivities() {
		name := pa.GetActivityType().GetName()
		if (name != "RunExperiment" && name != "RunPlot") || pa.GetHeartbeatDetails() == nil {
			continue
		}
		var hb activities.RunHeartbeat
		if dc.FromPayloads(pa.GetHeartbeatDetails(), &hb) != nil {
			continue
		}
		r.Script = &watchScript{Log: hb.Log, Elapsed: time.Duration(hb.ElapsedSec) * time.Second, Limit: time.Duration(hb.LimitSec) * time.Second,
			GPUMemoryMB: hb.GPUMemoryMB, GPUUtil: hb.GPUUtil}
	}
	return r
}

func watchCmd(g *globals) *cobra.Command {
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "watch [campaign-id]",
		Short: "A live table of papers: stage, run, attempt, host and device, elapsed time, cost, state",
		Long: `Shows a campaign's papers (or, without an ID, every running paper) as a table that
refreshes in place, with a bar for each running experiment or plot (elapsed time
against the run's timeout, GPU memory and utilisation, from its heartbeats). When
the output is not a terminal it prints one line per change instead. It ends when
the campaign does, or on Ctrl-C (the work goes on).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := ""
			if len(args) == 1 {
				id = args[0]
			}
			return withClient(cmd, g, func(ctx context.Context, c client.Client) error {
				v := newWatcher(cmd.OutOrStdout())
				var done chan error
				if id != "" {
					done = make(chan error, 1)
					go func() { done <- c.GetWorkflow(ctx, id, "").Get(ctx, nil) }()
				}
				tick := time.NewTicker(every)
				defer tick.Stop()
				for {
					if s, err := collect(ctx, c, id); err == nil {
						v.draw(s)
					} else if id != "" {
						return err
					}
					select {
					case err := <-done:
						if s, cerr := collect(ctx, c, id); cerr == nil {
							v.draw(s)
						}
						return err
					case <-tick.C:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
			})
		},
	}
	cmd.Flags().DurationVar(&every, "every", 2*time.Second, "refresh interval")
	return cmd
}
