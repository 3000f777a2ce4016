// Package numbers checks that the numbers a paper states are true.
//
// A paper written by a language model can state numbers that no experiment
// produced: a plausible 0.987 where the run reached 0.953, an improvement
// of 12% that is really 4%. This package reads every number in the paper's
// abstract, its Results section and its tables, and matches each against
// the real results (every run_*/final_info.json) and the code's settings
// (experiment.py and its run_<i>.py snapshots). A number that matches none
// is reported with its line and the closest true values, so that the writer
// can correct it or justify it.
//
// Matching is deliberately lenient about form (rounding, truncation,
// percents, thousands separators, scientific notation, differences and
// ratios between runs) and strict about substance: a number must follow
// from a true value by one of a few documented rules (see Check).
package numbers

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Value is one true number: a run's result or a setting from the code.
type Value struct {
	Run   string  `json:"run"`   // "run_1"; "code" for settings from experiment.py / run_i.py
	Path  string  `json:"path"`  // "x_div_y.means.final_val_acc", "experiment.py:WEIGHT_DECAY"
	Value float64 `json:"value"` // as the run or the code holds it
}

// CodeRun is Value.Run for numbers read from the code.
const CodeRun = "code"

// Number is one number the paper states.
type Number struct {
	Text  string  `json:"text"`  // as written, e.g. "99.2\%", "0.953", "1.5\times"
	Value float64 `json:"value"` // the number as written: 99.2 for "99.2\%", 0.001 for "1e-3", 7500 for "7.5k"
	Line  int     `json:"line"`  // 1-based line in template.tex
	Where string  `json:"where"` // "abstract", "Results", "table" (a tabular outside Results/abstract) or "Results table"
	Match string  `json:"match"` // the true value it follows from, e.g. "run_1 x_div_y.means.final_val_acc = 0.95312", or "unmatched"
	How   string  `json:"how,omitempty"`
	// Closest holds, for an unmatched number, up to three true values
	// nearest to it, so that the writer sees what it could have meant.
	Closest []string `json:"closest,omitempty"`
}

// Match values that are not a true value's description.
const (
	// NoMatch is Number.Match of a number that follows from no true value.
	NoMatch = "unmatched"
	// UncheckedUncertainty is Number.Match of a ± value that matches no
	// standard error: it may be a standard deviation or a confidence
	// interval, which final_info.json does not hold, so it is neither
	// trusted nor counted as unmatched.
	UncheckedUncertainty = "no standard error matches (not counted)"
)

// How a number follows from a true value (Number.How).
const (
	HowRounded     = "rounded"
	HowPercent     = "percent"
	HowCode        = "code setting"
	HowMean        = "mean over datasets"
	HowDifference  = "difference"
	HowRelative    = "relative change"
	HowRatio       = "ratio"
	HowUncertainty = "uncertainty"
)

// Report is the outcome of checking one paper.
type Report struct {
	Numbers   []Number `json:"numbers"`   // every number checked, in the order of the text
	Unmatched int      `json:"unmatched"` // how many follow from no true value
	Checked   int      `json:"checked"`   // how many were checked (± values without a matching stderr are not)
}

// ErrNoRuns means the folder has no run whose final_info.json could be
// read, so there is nothing to check the paper against. It is wrapped with
// the folder's name.
var ErrNoRuns = errors.New("nothing to check the paper's numbers against")

// TexPath is where the paper's source lies inside a paper folder.
const TexPath = "latex/template.tex"

// CheckDir checks dir's latex/template.tex against the results and code in
// dir (LoadValues). The error says what is missing: the runs (ErrNoRuns),
// the paper, or both.
func CheckDir(dir string) (Report, error) {
	values, verr := LoadValues(dir)
	tex, terr := os.ReadFile(filepath.Join(dir, TexPath))
	if terr != nil {
		if errors.Is(terr, fs.ErrNotExist) {
			terr = fmt.Errorf("no %s in %s: the paper has not been written yet: %w", TexPath, dir, terr)
		} else {
			terr = fmt.Errorf("reading the paper: %w", terr)
		}
	}
	if err := errors.Join(verr, terr); err != nil {
		return Report{}, err
	}
	return Check(string(tex), values), nil
}

// Unmatched returns the numbers of r that follow from no true value.
func Unmatched(r Report) []Number {
	var out []Number
	for _, n := range r.Numbers {
		if n.Match == NoMatch {
			out = append(out, n)
		}
	}
	return out
}

// Feedback renders the unmatched numbers for the language model that wrote
// the paper: where each is, what it says, and the closest true values, so
// that it can replace the number by a true one or remove the claim. It is
// empty when every number checked out.
func (r Report) Feedback() string {
	un := Unmatched(r)
	if len(un) == 0 {
		return ""
	}
	var b strings.Builder
	if len(un) == 1 {
		b.WriteString("1 number in the paper matches no experiment result and no setting in the code.")
	} else {
		fmt.Fprintf(&b, "%d numbers in the paper match no experiment result and no setting in the code.", len(un))
	}
	b.WriteString(" Every number in the abstract, the Results section and the tables must come from the runs' final_info.json" +
		" (rounded, as a percent, or as a difference, relative change or ratio between runs) or from experiment.py." +
		" Replace each by the true value or remove the claim:\n")
	for _, n := range un {
		fmt.Fprintf(&b, "- line %d (%s): %s matches no run result", n.Line, n.Where, n.Text)
		if len(n.Closest) > 0 {
			fmt.Fprintf(&b, "; closest true values: %s", strings.Join(n.Closest, "; "))
		}
		if hint := hintFor(n); hint != "" {
			b.WriteString(" (" + hint + ")")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// hintFor explains a rule the writer may have run into.
func hintFor(n Number) string {
	if s, ok := parseStated(n.Text); ok && s.sig < minDerivedSig {
		return "a difference, relative change or ratio between runs must be stated with at least 2 significant digits"
	}
	return ""
}
