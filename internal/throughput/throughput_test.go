package throughput

import (
	"math"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func act(typ string, slot bool, sched, start, end float64) Activity {
	return Activity{Type: typ, Slot: slot, Scheduled: at(sched), Started: at(start), Closed: at(end)}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// Two papers share one slot: B's run waits 2 s for A's. The slot is never
// idle while it has work, and holding it for a whole paper would take
// both papers' critical paths end to end.
func TestAnalyzeSharedSlot(t *testing.T) {
	papers := []Paper{
		{ID: "a", Start: at(0), End: at(4), HistoryEvents: 40, HistoryBytes: 9000, Gaps: []time.Duration{3 * time.Millisecond}, Activities: []Activity{
			act("PreparePaper", false, 0, 0.005, 1), act("RunExperiment", true, 1, 1, 3), act("WriteSection", false, 3, 3.005, 4),
		}},
		{ID: "b", Start: at(0), End: at(6), HistoryEvents: 44, HistoryBytes: 9500, Gaps: []time.Duration{5 * time.Millisecond}, Activities: []Activity{
			act("PreparePaper", false, 0, 0.005, 1), act("RunExperiment", true, 1, 3, 5), act("WriteSection", false, 5, 5.005, 6),
		}},
	}
	r := Analyze(papers, 1)
	for name, got := range map[string][2]float64{
		"makespan":       {r.MakespanS, 6},
		"slot seconds":   {r.SlotSecondsS, 4},
		"critical path":  {r.CriticalPathS, 4},
		"lower bound":    {r.LowerBoundS, 4},
		"ratio":          {r.MakespanRatio, 1.5},
		"busy fraction":  {r.BusyFraction, 1},
		"busy window":    {r.BusyWindowS, 4},
		"one per slot":   {r.OnePerSlotS, 8},
		"first ask":      {r.FirstAskS, 1},
		"min writing":    {r.MinWritingS, 1},
		"schedule bound": {r.ScheduleBoundS, 6},
		"schedule ratio": {r.ScheduleRatio, 1},
		"s2s p50":        {r.ScheduleToStartP50Ms, 5},
		"gap p99":        {r.NextScheduledP99Ms, 5},
		"overhead p50":   {r.OverheadP50Ms, 5},
		"history events": {float64(r.MaxHistoryEvents), 44},
		"first done":     {r.FirstDoneS, 4},
		"mean done":      {r.MeanDoneS, 5},
	} {
		if !near(got[0], got[1]) {
			t.Errorf("%s = %v, want %v", name, got[0], got[1])
		}
	}
	if len(r.Idle) != 0 {
		t.Errorf("idle = %+v, want none", r.Idle)
	}
	if m := r.Misses(DefaultTargets); len(m) != 1 || !strings.Contains(m[0], "makespan 1.50") || !strings.Contains(m[0], "1.50 × the lower bound]") {
		t.Errorf("misses = %q", m)
	}
}

// Two slots, one paper at a time: while the only paper writes, a slot
// stands idle with nothing waiting, and the report names the writing.
func TestAnalyzeIdleCause(t *testing.T) {
	papers := []Paper{{ID: "a", Start: at(0), End: at(7), Activities: []Activity{
		act("RunExperiment", true, 0, 0, 2), act("CoderTurn", false, 2, 2, 4), act("RunExperiment", true, 4, 4, 6), act("WriteSection", false, 6, 6, 7),
	}}}
	r := Analyze(papers, 2)
	if !near(r.BusyWindowS, 6) || !near(r.BusyFraction, 4.0/12) {
		t.Errorf("busy window %v, fraction %v", r.BusyWindowS, r.BusyFraction)
	}
	// 4 slot-seconds of CoderTurn (2 s × 2 slots), and 4 of the spare
	// slot beside each of the two runs (2 × 2 s) for want of other papers.
	if len(r.Idle) != 2 || r.Idle[0].Activity != TooFewPapers || !near(r.Idle[0].Seconds, 4) ||
		r.Idle[1].Activity != "CoderTurn" || !near(r.Idle[1].Seconds, 4) {
		t.Fatalf("idle = %+v", r.Idle)
	}
	m := r.Misses(DefaultTargets)
	if len(m) == 0 || !strings.Contains(m[0], "busy fraction 0.33") || !strings.Contains(m[0], "too few papers") {
		t.Errorf("misses = %q", m)
	}
}

func TestOnePerSlotAndPercentile(t *testing.T) {
	s := time.Second
	if got := onePerSlot([]time.Duration{3 * s, 3 * s, 3 * s, 1 * s}, 2); got != 6*s {
		t.Errorf("one per slot = %v, want 6s", got)
	}
	if p := percentile([]float64{1, 2, 3, 4, 100}, 50); p != 3 {
		t.Errorf("p50 = %v", p)
	}
	if p := percentile([]float64{1, 2, 3, 4, 100}, 99); p != 100 {
		t.Errorf("p99 = %v", p)
	}
	if r := Analyze(nil, 2); r.MakespanS != 0 {
		t.Errorf("empty = %+v", r)
	}
}

// The CPUs nearly always busy are named as what held the makespan back.
func TestCPUNote(t *testing.T) {
	r := Report{MakespanS: 10, LowerBoundS: 5, MakespanRatio: 2, BusyFraction: 1}
	r.SetCPU(18, 2)
	if !near(r.CPUBusy, 0.9) {
		t.Fatalf("cpu busy = %v, want 0.9", r.CPUBusy)
	}
	if m := r.Misses(DefaultTargets); len(m) == 0 || !strings.Contains(m[0], "the 2 CPUs were 90% busy") {
		t.Errorf("misses = %q", m)
	}
	r.SetCPU(4, 2)
	if m := r.Misses(DefaultTargets); len(m) == 0 || strings.Contains(m[0], "CPUs were") {
		t.Errorf("an idle machine is named: %q", m)
	}
}

func TestWriteTimeline(t *testing.T) {
	p := Paper{ID: "paper/x", Start: at(0.5), End: at(9), Activities: []Activity{
		act("CoderTurn", false, 0.5, 0.5, 1),
		{Type: "RunExperiment", Slot: true, Asked: at(1), Scheduled: at(1.1), Started: at(2), Closed: at(4)},
		act("RunPlot", false, 5, 5.1, 5.2),
	}}
	var b strings.Builder
	WriteTimeline(&b, []Paper{p})
	if want := "  paper/x  start 0.0  run 0.5→1.5–3.5, plot 4.5→4.6–4.7  end 8.5\n"; !strings.HasSuffix(b.String(), want) {
		t.Errorf("timeline = %q, want it to end %q", b.String(), want)
	}
}
