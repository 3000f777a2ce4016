package paper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Reading what models write. The JSON comes from llm.ExtractJSON (already
// valid, repaired); here its values are read as a person would read them:
// a number written as a string or with a half, "Reject." for Reject, "No"
// for false, a paragraph where a list was asked for, field names in any
// case. What cannot be read gets an error that names the field and what it
// should hold, since it is sent back to the model.

// AcceptThreshold is the Overall score from which a review without a
// Decision counts as Accept: the reference system's setting (accept iff
// Overall ≥ 6, NeurIPS's "weak accept").
const AcceptThreshold = 6

// fields decodes a JSON object into values keyed by canonical field names:
// lower case without spaces, underscores or hyphens ("Ethical Concerns",
// "ethical_concerns" → "ethicalconcerns"). Numbers stay json.Number.
func fields(js string) (map[string]any, error) {
	d := json.NewDecoder(strings.NewReader(js))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if list, ok := v.([]any); ok && len(list) == 1 {
		v = list[0] // an object wrapped in a list of one
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected one JSON object ({...}), got %s", kindOf(v))
	}
	out := make(map[string]any, len(obj))
	for k, val := range obj {
		out[canonical(k)] = val
	}
	return out, nil
}

func canonical(k string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(k)))
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "true/false"
	case nil:
		return "null"
	}
	return "an object"
}

var leadingNumber = regexp.MustCompile(`^\s*[-+]?(\d+(\.\d*)?|\.\d+)`)

// number reads a number written as a number or as a string that starts
// with one ("4", "4.5", "4 (borderline reject)", "3/4"); ok is false when
// v holds none.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		m := leadingNumber.FindString(x)
		if m == "" {
			return 0, false
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(m), 64)
		return f, err == nil
	}
	return 0, false
}

// score reads an integer score: a number, rounded half to even as the
// reference rounds (Python's round: 5.5 → 6, 4.5 → 4), or a string holding
// one. missing is true when the field is absent or null.
func score(f map[string]any, key string) (n int, missing bool, err error) {
	v, ok := f[key]
	if !ok || v == nil {
		return 0, true, nil
	}
	x, ok := number(v)
	if !ok {
		return 0, false, fmt.Errorf("%s must be a number, got %s", fieldName(key), quoteValue(v))
	}
	return int(math.RoundToEven(x)), false, nil
}

// text reads a string field (a number or list is written out).
func text(f map[string]any, key string) string {
	switch x := f[key].(type) {
	case string:
		return strings.TrimSpace(x)
	case nil:
		return ""
	case []any:
		parts := make([]string, 0, len(x))
		for _, p := range x {
			parts = append(parts, text(map[string]any{"v": p}, "v"))
		}
		return strings.Join(parts, "\n")
	default:
		return strings.TrimSpace(fmt.Sprint(x))
	}
}

// list reads a list of strings: a list, a single paragraph, or null.
func list(f map[string]any, key string) []string {
	switch x := f[key].(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, 0, len(x))
		for _, p := range x {
			if s := text(map[string]any{"v": p}, "v"); s != "" {
				out = append(out, s)
			}
		}
		return out
	default:
		if s := text(f, key); s != "" {
			return []string{s}
		}
		return nil
	}
}

// flag reads a yes/no field: true/false, "Yes"/"No" (and "none", "n/a" as
// no), 1/0. Absent is false.
func flag(f map[string]any, key string) (bool, error) {
	switch x := f[key].(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	case json.Number:
		n, _ := x.Float64()
		return n != 0, nil
	case string:
		w := strings.ToLower(strings.Trim(strings.TrimSpace(x), ".!"))
		switch {
		case w == "yes" || w == "true" || w == "y" || strings.HasPrefix(w, "yes"):
			return true, nil
		case w == "no" || w == "false" || w == "n" || w == "none" || w == "n/a" || w == "" || strings.HasPrefix(w, "no"):
			return false, nil
		}
		return false, fmt.Errorf("%s must be true or false, got %q", fieldName(key), x)
	}
	return false, fmt.Errorf("%s must be true or false, got %s", fieldName(key), kindOf(f[key]))
}

// fieldName is the form's own name of a canonical key, for messages.
func fieldName(key string) string {
	if n, ok := formNames[key]; ok {
		return n
	}
	return key
}

var formNames = map[string]string{}

func init() {
	for _, n := range []string{"Summary", "Strengths", "Weaknesses", "Originality", "Quality", "Clarity", "Significance",
		"Questions", "Limitations", "Ethical Concerns", "Soundness", "Presentation", "Contribution", "Overall", "Confidence",
		"Decision", "Name", "Title", "Experiment", "Interestingness", "Feasibility", "Novelty"} {
		formNames[canonical(n)] = n
	}
}

func quoteValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return kindOf(v)
}

// decision reads a decision word: "Accept", "accept.", "Weak Accept",
// "Borderline reject", "**Reject**"; ok is false for anything else.
func decision(s string) (string, bool) {
	w := strings.ToLower(strings.Trim(strings.TrimSpace(s), ".!*\"' "))
	switch {
	case strings.Contains(w, "reject"):
		return "Reject", true
	case strings.Contains(w, "accept"):
		return "Accept", true
	}
	return "", false
}

// ScoreText reads a score written as text ("4", "4.0", " 6 (weak
// accept)"); ok is false when it starts with no number.
func ScoreText(s string) (float64, bool) { return number(s) }

// DecisionText reads a decision word as reviews write it ("Accept",
// "Reject.", "Weak Accept", "**Borderline reject**"): "Accept" or
// "Reject", ok false for anything else.
func DecisionText(s string) (string, bool) { return decision(s) }

// ParseReview reads a review form as models write it (see above): scores
// as numbers or strings, halves rounded half to even, lists or
// paragraphs, yes/no for Ethical Concerns, any decision word with
// punctuation, and a missing Decision taken from Overall (Accept from
// AcceptThreshold). The result is validated.
func ParseReview(js string) (Review, error) {
	f, err := fields(js)
	if err != nil {
		return Review{}, fmt.Errorf("review JSON: %w", err)
	}
	r := Review{
		Summary: text(f, "summary"), Strengths: list(f, "strengths"), Weaknesses: list(f, "weaknesses"),
		Questions: list(f, "questions"), Limitations: list(f, "limitations"),
	}
	var errs []string
	unreadable := map[string]bool{} // "X is missing" said better by its own error
	for _, s := range []struct {
		key string
		dst *int
	}{
		{"originality", &r.Originality}, {"quality", &r.Quality}, {"clarity", &r.Clarity}, {"significance", &r.Significance},
		{"soundness", &r.Soundness}, {"presentation", &r.Presentation}, {"contribution", &r.Contribution},
		{"overall", &r.Overall}, {"confidence", &r.Confidence},
	} {
		n, missing, err := score(f, s.key)
		switch {
		case err != nil:
			errs = append(errs, err.Error())
			unreadable[fieldName(s.key)+" is missing"] = true
		case !missing:
			*s.dst = n
		}
	}
	if r.EthicalConcerns, err = flag(f, "ethicalconcerns"); err != nil {
		errs = append(errs, err.Error())
	}
	switch d := text(f, "decision"); {
	case d == "" && r.Overall > 0:
		r.Decision = "Reject"
		if r.Overall >= AcceptThreshold {
			r.Decision = "Accept"
		}
	default:
		var ok bool
		if r.Decision, ok = decision(d); !ok {
			r.Decision = d // Validate names it
		}
	}
	for _, p := range r.problems() {
		if !unreadable[strings.SplitN(p, " (", 2)[0]] {
			errs = append(errs, p)
		}
	}
	if len(errs) > 0 {
		return Review{}, fmt.Errorf("review JSON: %s", strings.Join(errs, "; "))
	}
	return r, nil
}

// ParseIdea reads an idea as models write it: an object or a list holding
// one, field names in any case, ratings as numbers or strings (halves
// rounded half to even); a missing Name is made from the Title. The name
// is normalised and the idea validated.
func ParseIdea(js string) (Idea, error) {
	f, err := fields(js)
	if err != nil {
		return Idea{}, fmt.Errorf("idea JSON: %w", err)
	}
	i := Idea{Name: text(f, "name"), Title: text(f, "title"), Experiment: text(f, "experiment")}
	if i.Name == "" {
		i.Name = i.Title
	}
	var errs []string
	for _, s := range []struct {
		key string
		dst *int
	}{{"interestingness", &i.Interestingness}, {"feasibility", &i.Feasibility}, {"novelty", &i.Novelty}} {
		n, missing, err := score(f, s.key)
		switch {
		case err != nil:
			errs = append(errs, err.Error())
		case missing:
			errs = append(errs, fieldName(s.key)+" is missing (a rating from 1 to 10)")
		default:
			*s.dst = n
		}
	}
	if v, ok := f["novel"].(bool); ok {
		i.Novel = &v
	}
	if len(errs) > 0 {
		return Idea{}, fmt.Errorf("idea JSON: %s", strings.Join(errs, "; "))
	}
	i.Normalize()
	if err := i.Validate(); err != nil {
		return Idea{}, fmt.Errorf("idea JSON: %w", err)
	}
	return i, nil
}

// Result is one dataset of final_info.json: its means (and standard
// errors) by metric. Nested metrics are flattened with dots
// ("style_consistency_scores.mean_consistency"), lists by index
// ("per_seed.0"). A mean that was NaN or infinite is Diverged, one that was
// null or not a number is Missing: neither is ever read as 0.
type Result struct {
	Means    map[string]float64 `json:"means"`
	Stderrs  map[string]float64 `json:"stderrs,omitempty"`
	Diverged []string           `json:"diverged,omitempty"`
	Missing  []string           `json:"missing,omitempty"`
}

// FinalInfo is experiment.py's output: dataset → Result.
type FinalInfo map[string]Result

// ParseFinalInfo reads final_info.json as experiments write it: the
// reference's {dataset: {"means": {metric: number}}} shape, with nested
// metrics, NaN and Infinity as Python's json writes them, and nulls. A
// dataset needs at least one metric (a number, a diverged or a missing
// one); its errors say what the file should hold.
func ParseFinalInfo(b []byte) (FinalInfo, error) {
	js, err := repairedJSON(b)
	if err != nil {
		return nil, fmt.Errorf(`final_info.json is not JSON (expected {"<dataset>": {"means": {"<metric>": <number>}}}): %w`, err)
	}
	d := json.NewDecoder(strings.NewReader(js))
	d.UseNumber()
	var top any
	if err := d.Decode(&top); err != nil {
		return nil, fmt.Errorf("final_info.json: %w", err)
	}
	obj, ok := top.(map[string]any)
	if !ok || len(obj) == 0 {
		return nil, errors.New(`final_info.json holds no results (expected {"<dataset>": {"means": {"<metric>": <number>}}})`)
	}
	fi := FinalInfo{}
	for _, ds := range sortedKeys(obj) {
		entry, ok := obj[ds].(map[string]any)
		if !ok {
			return nil, fmt.Errorf(`final_info.json: %q is %s, not an object with "means"`, ds, kindOf(obj[ds]))
		}
		means, ok := entry["means"]
		if !ok {
			return nil, fmt.Errorf(`final_info.json: %q has no "means" (expected {"means": {"<metric>": <number>}})`, ds)
		}
		if _, ok := means.(map[string]any); !ok {
			if _, scalar := means.(json.Number); scalar {
				// One number per entry (the reference's probes template):
				// the entry's single metric.
				means = map[string]any{"value": means}
			} else {
				return nil, fmt.Errorf(`final_info.json: "means" of %q is %s, not an object of metrics`, ds, kindOf(means))
			}
		}
		r := Result{Means: map[string]float64{}}
		r.Diverged, r.Missing = flatten("", means, r.Means)
		if se, ok := entry["stderrs"]; ok {
			r.Stderrs = map[string]float64{}
			flatten("", se, r.Stderrs)
		}
		if len(r.Means)+len(r.Diverged)+len(r.Missing) == 0 {
			return nil, fmt.Errorf(`final_info.json: %q has no metrics in "means"`, ds)
		}
		fi[ds] = r
	}
	return fi, nil
}

// repairedJSON is b as valid JSON: NaN, Infinity and -Infinity (as
// Python's json module writes them) become strings a reader recognises.
func repairedJSON(b []byte) (string, error) {
	if json.Valid(b) {
		return string(b), nil
	}
	s := nonFinite.ReplaceAllStringFunc(string(b), func(m string) string {
		return m[:len(m)-len(strings.TrimLeft(m, ":[, \t\r\n"))] + `"` + strings.TrimLeft(m, ":[, \t\r\n") + `"`
	})
	if !json.Valid([]byte(s)) {
		var v any
		err := json.Unmarshal(b, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + bytes.Count(b[:min(int(se.Offset), len(b))], []byte("\n"))
			return "", fmt.Errorf("%v (line %d)", err, line)
		}
		return "", err
	}
	return s, nil
}

// nonFinite finds NaN and Infinity values (after ':', '[' or ',').
var nonFinite = regexp.MustCompile(`[:\[,][ \t\r\n]*-?(NaN|Infinity)\b`)

// flatten adds v's numbers to out under prefix-joined names and returns
// the names of diverged (NaN, ±Infinity) and missing (null, not a number)
// values, sorted.
func flatten(prefix string, v any, out map[string]float64) (diverged, missing []string) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			d, m := flatten(join(k), x[k], out)
			diverged, missing = append(diverged, d...), append(missing, m...)
		}
	case []any:
		for i, e := range x {
			d, m := flatten(join(strconv.Itoa(i)), e, out)
			diverged, missing = append(diverged, d...), append(missing, m...)
		}
	case json.Number:
		if f, err := x.Float64(); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			out[prefix] = f
		} else {
			diverged = append(diverged, prefix)
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "nan", "infinity", "-infinity", "inf", "-inf":
			diverged = append(diverged, prefix)
		default:
			// A number written as a string counts; other text (a
			// configuration such as "128x0e + 128x1o") is not a metric.
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				out[prefix] = f
			}
		}
	case bool:
		out[prefix] = map[bool]float64{false: 0, true: 1}[x]
	default: // null
		missing = append(missing, prefix)
	}
	return diverged, missing
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Summary renders the means compactly for prompts, datasets and metrics
// sorted; diverged and missing metrics are named as such, never as 0.
func (fi FinalInfo) Summary() string {
	var b strings.Builder
	for _, k := range sortedKeys(fi) {
		r := fi[k]
		fmt.Fprintf(&b, "%s:", k)
		for _, m := range sortedKeys(r.Means) {
			fmt.Fprintf(&b, " %s=%.4g", m, r.Means[m])
		}
		for _, m := range r.Diverged {
			fmt.Fprintf(&b, " %s=diverged (NaN or infinite)", m)
		}
		for _, m := range r.Missing {
			fmt.Fprintf(&b, " %s=missing (null)", m)
		}
		b.WriteString("\n")
	}
	return b.String()
}
