package activities

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aiscientist/aiscientist/internal/numbers"
	"github.com/aiscientist/aiscientist/internal/store"
)

// NumbersInput is one numbers-check round.
type NumbersInput struct {
	Paper PaperRef
	Round int
}

// NumbersResult is the check's outcome; the details are in
// writeup/numbers.json and, for the writer, writeup/numbers_feedback.txt.
type NumbersResult struct {
	Checked, Unmatched int
	// NoRuns: the paper has no run results to check against (nothing checked).
	NoRuns bool `json:",omitempty"`
	// Summary names the first unmatched numbers, for status.
	Summary string `json:",omitempty"`
}

// numbersFeedback (in writeup/) is what the next fix round shows the writer.
const numbersFeedback = "numbers_feedback.txt"

// CheckNumbers checks every number in the abstract, the Results and the
// tables of latex/template.tex against the runs' final_info.json and the
// code's settings (see package numbers), and saves the outcome with the
// paper as writeup/numbers.json.
func (a *Activities) CheckNumbers(ctx context.Context, in NumbersInput) (_ NumbersResult, err error) {
	s, err := a.paperScope(ctx, in.Paper, false)
	if err != nil {
		return NumbersResult{}, err
	}
	defer s.close(ctx, &err)
	return CheckPaperNumbers(s.dir)
}

// CheckPaperNumbers is CheckNumbers on a paper folder (a workspace or an
// exported results folder); `starter verify` runs the same check.
func CheckPaperNumbers(dir string) (NumbersResult, error) {
	rep, err := numbers.CheckDir(dir)
	switch {
	case errors.Is(err, numbers.ErrNoRuns):
		return NumbersResult{NoRuns: true, Summary: err.Error()}, nil
	case errors.Is(err, os.ErrNotExist):
		return NumbersResult{}, missingInput("check numbers: %v", err)
	case err != nil:
		return NumbersResult{}, fmt.Errorf("check numbers: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "writeup"), 0o755); err != nil {
		return NumbersResult{}, err
	}
	if err := writeJSON(filepath.Join(dir, "writeup", "numbers.json"), rep); err != nil {
		return NumbersResult{}, err
	}
	res := NumbersResult{Checked: rep.Checked, Unmatched: rep.Unmatched}
	fb := filepath.Join(dir, "writeup", numbersFeedback)
	if rep.Unmatched == 0 {
		_ = os.Remove(fb)
		return res, nil
	}
	un := numbers.Unmatched(rep)
	for i, n := range un {
		if i == 3 {
			res.Summary += fmt.Sprintf(" and %d more", len(un)-3)
			break
		}
		if i > 0 {
			res.Summary += "; "
		}
		res.Summary += fmt.Sprintf("%s (line %d, %s)", n.Text, n.Line, n.Where)
	}
	return res, store.WriteFile(fb, []byte(rep.Feedback()))
}
