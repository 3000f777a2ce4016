// Package paper holds the research artefacts that move between stages:
// ideas, experiment results and reviews, with their validation.
package paper

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Idea is one research idea in the reference system's JSON shape.
type Idea struct {
	Name            string `json:"Name"`
	Title           string `json:"Title"`
	Experiment      string `json:"Experiment"`
	Interestingness int    `json:"Interestingness"`
	Feasibility     int    `json:"Feasibility"`
	Novelty         int    `json:"Novelty"`
	// Novel is set by the novelty check; nil until checked.
	Novel *bool `json:"novel,omitempty"`
}

var (
	nameRe       = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)
	underscoreRe = regexp.MustCompile(`_+`)
)

// Normalize lower-cases the name and replaces other characters with '_',
// because models do not always follow the naming rule.
func (i *Idea) Normalize() {
	n := strings.ToLower(strings.TrimSpace(i.Name))
	var b strings.Builder
	for _, r := range n {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteRune('_')
		}
	}
	i.Name = strings.Trim(underscoreRe.ReplaceAllString(b.String(), "_"), "_")
	if len(i.Name) > 60 {
		i.Name = strings.TrimRight(i.Name[:60], "_")
	}
}

// Validate reports what is missing or out of range, in words a model can act on.
func (i Idea) Validate() error {
	var errs []string
	if !nameRe.MatchString(i.Name) {
		errs = append(errs, fmt.Sprintf("Name %q must be lowercase letters, digits and underscores", i.Name))
	}
	if strings.TrimSpace(i.Title) == "" {
		errs = append(errs, "Title is empty")
	}
	if strings.TrimSpace(i.Experiment) == "" {
		errs = append(errs, "Experiment is empty")
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"Interestingness", i.Interestingness}, {"Feasibility", i.Feasibility}, {"Novelty", i.Novelty}} {
		if f.v < 1 || f.v > 10 {
			errs = append(errs, fmt.Sprintf("%s must be an integer from 1 to 10, got %d", f.name, f.v))
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// Review is the reviewer's form (NeurIPS style, as in the reference system).
type Review struct {
	Summary         string   `json:"Summary"`
	Strengths       []string `json:"Strengths"`
	Weaknesses      []string `json:"Weaknesses"`
	Originality     int      `json:"Originality"`
	Quality         int      `json:"Quality"`
	Clarity         int      `json:"Clarity"`
	Significance    int      `json:"Significance"`
	Questions       []string `json:"Questions"`
	Limitations     []string `json:"Limitations"`
	EthicalConcerns bool     `json:"Ethical Concerns"`
	Soundness       int      `json:"Soundness"`
	Presentation    int      `json:"Presentation"`
	Contribution    int      `json:"Contribution"`
	Overall         int      `json:"Overall"`
	Confidence      int      `json:"Confidence"`
	Decision        string   `json:"Decision"`
}

// Validate checks every field the form requires.
func (r Review) Validate() error {
	if errs := r.problems(); len(errs) > 0 {
		return fmt.Errorf("review JSON: %s", strings.Join(errs, "; "))
	}
	return nil
}

// problems lists what is missing or out of range, in words for the model.
func (r Review) problems() []string {
	var errs []string
	if strings.TrimSpace(r.Summary) == "" {
		errs = append(errs, "Summary is empty")
	}
	for _, f := range []struct {
		name     string
		v, lo, h int
	}{
		{"Originality", r.Originality, 1, 4}, {"Quality", r.Quality, 1, 4}, {"Clarity", r.Clarity, 1, 4},
		{"Significance", r.Significance, 1, 4}, {"Soundness", r.Soundness, 1, 4}, {"Presentation", r.Presentation, 1, 4},
		{"Contribution", r.Contribution, 1, 4}, {"Overall", r.Overall, 1, 10}, {"Confidence", r.Confidence, 1, 5},
	} {
		switch {
		case f.v == 0:
			errs = append(errs, fmt.Sprintf("%s is missing (an integer from %d to %d)", f.name, f.lo, f.h))
		case f.v < f.lo || f.v > f.h:
			errs = append(errs, fmt.Sprintf("%s must be an integer from %d to %d, got %d", f.name, f.lo, f.h, f.v))
		}
	}
	switch r.Decision {
	case "Accept", "Reject":
	case "":
		errs = append(errs, `Decision is missing ("Accept" or "Reject")`)
	default:
		errs = append(errs, fmt.Sprintf("Decision must be \"Accept\" or \"Reject\", got %q", r.Decision))
	}
	return errs
}

// SameIdea reports whether b repeats a: the same Name, or a near-identical
// title (the same words once case, punctuation and order are ignored, or
// word sets that overlap by at least 80%), which is how a model restates an
// idea it has already proposed.
func SameIdea(a, b Idea) bool {
	if a.Name != "" && a.Name == b.Name {
		return true
	}
	wa, wb := titleWords(a.Title), titleWords(b.Title)
	if len(wa) == 0 || len(wb) == 0 {
		return false
	}
	common := 0
	for w := range wa {
		if wb[w] {
			common++
		}
	}
	union := len(wa) + len(wb) - common
	return float64(common)/float64(union) >= 0.8
}

// titleWords is the set of a title's lower-case words, letters and digits only.
func titleWords(title string) map[string]bool {
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(title), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		words[w] = true
	}
	return words
}
