package workflows

import (
	"math"
	"testing"

	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/internal/llm"
)

// The budget arithmetic, without a workflow environment.

func TestPaperBudgetEffective(t *testing.T) {
	for _, tt := range []struct {
		name          string
		limit, grant  float64
		want          float64
		campaignBinds bool
	}{
		{name: "no limit", want: 0},
		{name: "own limit only", limit: 2, want: 2},
		{name: "share only", grant: 0.5, want: 0.5, campaignBinds: true},
		{name: "share below own limit", limit: 2, grant: 0.5, want: 0.5, campaignBinds: true},
		{name: "own limit below share", limit: 0.3, grant: 0.5, want: 0.3},
		{name: "equal: the paper's limit is raised first", limit: 1, grant: 1, want: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := paperBudget{limit: tt.limit, grant: tt.grant}
			if got := b.effective(); got != tt.want {
				t.Errorf("effective = %v, want %v", got, tt.want)
			}
			if got := b.campaignBinds(); got != tt.campaignBinds {
				t.Errorf("campaignBinds = %v, want %v", got, tt.campaignBinds)
			}
			if got := (BudgetStatus{LimitUSD: tt.limit, GrantUSD: tt.grant}).PaperLimit(); got != tt.want {
				t.Errorf("PaperLimit = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidLimit(t *testing.T) {
	for _, tt := range []struct {
		limit, spent float64
		ok           bool
	}{
		{limit: 5, spent: 1, ok: true},
		{limit: 1, spent: 1},
		{limit: 0.5, spent: 1},
		{limit: 0},
		{limit: -3},
	} {
		if err := validLimit(tt.limit, tt.spent); (err == nil) != tt.ok {
			t.Errorf("validLimit(%v, %v) = %v, want ok=%v", tt.limit, tt.spent, err, tt.ok)
		}
	}
}

func TestShare(t *testing.T) {
	for _, tt := range []struct {
		name       string
		left       float64
		n          int
		paperLimit float64
		want       float64
		ok         bool
	}{
		{name: "split evenly", left: 1, n: 4, want: 0.25, ok: true},
		{name: "capped by the paper limit", left: 1, n: 2, paperLimit: 0.2, want: 0.2, ok: true},
		{name: "n of zero counts as one", left: 0.5, n: 0, want: 0.5, ok: true},
		{name: "too little to start", left: 0.015, n: 2, want: 0.0075},
		{name: "nothing left", left: 0, n: 1, want: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := share(tt.left, tt.n, tt.paperLimit)
			if math.Abs(got-tt.want) > 1e-12 || ok != tt.ok {
				t.Errorf("share = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestRebalance(t *testing.T) {
	for _, tt := range []struct {
		name              string
		left              float64
		papers            []grantee
		waiting, starting int
		want              []float64
	}{
		{
			name: "papers still to start: only a stopped paper is topped up, sharing with the starters",
			left: 0.9, papers: []grantee{{grant: 0.3, exhausted: true}, {grant: 0.3}}, waiting: 3, starting: 2,
			want: []float64{0.6, 0.3},
		},
		{
			name: "nothing to start: every running paper gets an equal part",
			left: 1, papers: []grantee{{grant: 0.5}, {grant: 0.25}},
			want: []float64{1, 0.75},
		},
		{
			name: "a paper at its own limit gets nothing",
			left: 1, papers: []grantee{{grant: 0.5, limit: 0.5}, {grant: 0.25}},
			want: []float64{0.5, 1.25},
		},
		{
			name: "a paper's own limit caps its part",
			left: 1, papers: []grantee{{grant: 0.5, limit: 0.6}, {grant: 0.25}},
			want: []float64{0.6, 0.75},
		},
		{
			name: "parts below the least grant are not handed out",
			left: 0.015, papers: []grantee{{grant: 0.1}, {grant: 0.1}},
			want: []float64{0.1, 0.1},
		},
		{
			name: "no stopped paper while papers wait to start",
			left: 1, papers: []grantee{{grant: 0.1}}, waiting: 1, starting: 0,
			want: []float64{0.1},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := rebalance(tt.left, tt.papers, tt.waiting, tt.starting)
			if len(got) != len(tt.want) {
				t.Fatalf("rebalance = %v, want %v", got, tt.want)
			}
			for i := range got {
				if math.Abs(got[i]-tt.want[i]) > 1e-12 {
					t.Fatalf("rebalance = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestSharedBudget: concurrent calls split what is left.
func TestSharedBudget(t *testing.T) {
	n := 4
	s := shared{spender: fixedSpender{llm.Budget{LimitUSD: 5, SpentUSD: 3}}, n: &n}
	if b := s.budget(); b.Left() != 0.5 || b.SpentUSD != 3 {
		t.Errorf("4 running: %+v", b)
	}
	n = 1
	if b := s.budget(); b.Left() != 2 {
		t.Errorf("1 running: %+v", b)
	}
	n = 4
	if b := (shared{spender: fixedSpender{llm.Budget{SpentUSD: 3}}, n: &n}).budget(); b.Limited() {
		t.Errorf("no limit became %+v", b)
	}
}

type fixedSpender struct{ b llm.Budget }

func (f fixedSpender) checkpoint(workflow.Context) error          { return nil }
func (f fixedSpender) budget() llm.Budget                         { return f.b }
func (f fixedSpender) exhausted(llm.Budget) string                { return "" }
func (f fixedSpender) awaitBudget(workflow.Context, string) error { return nil }
func (f fixedSpender) spend(llm.Usage)                            {}
