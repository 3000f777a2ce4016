package workflows

import (
	"errors"
	"fmt"
)

// Budget arithmetic, shared by papers and campaigns: plain functions of
// numbers, so they are tested without a workflow environment.

// minGrant is the least share worth starting (or topping up) a paper with.
const minGrant = 0.01

// paperBudget is a paper's limits: its own (user-set) and its campaign's
// share. Whichever is lower binds.
type paperBudget struct {
	limit, grant float64 // 0: none
	version      int     // bumped on every change, so a refused call waits for one
	note         string
}

// effective is the limit that binds (0: none).
func (b paperBudget) effective() float64 {
	switch {
	case b.limit > 0 && b.grant > 0:
		return min(b.limit, b.grant)
	case b.limit > 0:
		return b.limit
	}
	return b.grant
}

// campaignBinds: raising the campaign's budget is what frees the paper
// only when its share is strictly below its own limit; otherwise the
// paper's own limit is raised first and the campaign extends the share as
// it can.
func (b paperBudget) campaignBinds() bool {
	return b.grant > 0 && (b.limit == 0 || b.grant < b.limit)
}

// validLimit checks a new limit against what was already spent.
func validLimit(limit, spent float64) error {
	if limit <= 0 {
		return errors.New("the budget must be a positive number of US dollars")
	}
	if limit <= spent {
		return fmt.Errorf("a budget of $%.2f is not above the $%.4f already spent", limit, spent)
	}
	return nil
}

// share is the grant for each of n papers about to start, out of left
// (the money neither spent nor granted), capped at paperLimit (0: none),
// since more would only sit idle; false when it is too little to start a
// paper with.
func share(left float64, n int, paperLimit float64) (float64, bool) {
	g := left / float64(max(n, 1))
	if paperLimit > 0 {
		g = min(g, paperLimit)
	}
	return g, g >= minGrant
}

// grantee is a running paper as the campaign's arithmetic sees it.
type grantee struct {
	grant     float64
	limit     float64 // the paper's own limit (0: none)
	exhausted bool    // stopped at its share
}

// rebalance hands out left (money neither spent nor granted) and returns
// every running paper's new grant, in order: first to papers stopped at
// their share (finishing a paper beats starting one), sharing with the
// starting papers about to start; when no paper waits to start
// (waiting 0), every running paper gets an equal part. A paper whose own
// limit binds gets nothing, since more would only sit idle; no part is
// smaller than minGrant.
func rebalance(left float64, papers []grantee, waiting, starting int) []float64 {
	out := make([]float64, len(papers))
	var to []int
	for i, p := range papers {
		out[i] = p.grant
		if p.limit > 0 && p.grant >= p.limit {
			continue
		}
		if waiting == 0 || p.exhausted {
			to = append(to, i)
		}
	}
	if len(to) == 0 || left < minGrant {
		return out
	}
	extra := left / float64(len(to)+starting)
	if extra < minGrant {
		return out
	}
	for _, i := range to {
		give := extra
		if l := papers[i].limit; l > 0 {
			give = min(give, l-papers[i].grant)
		}
		out[i] += give
	}
	return out
}
