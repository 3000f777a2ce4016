package numbers

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/aiscientist/aiscientist/internal/paper"
)

var (
	runDir  = regexp.MustCompile(`^run_(\d+)$`)
	runCode = regexp.MustCompile(`^run_(\d+)\.py$`)
)

// LoadValues reads the true numbers of a paper folder (a workspace or an
// exported results folder; both have the same layout): the means and
// standard errors of every run_*/final_info.json, runs in numeric order,
// then the settings of experiment.py and of its run_<i>.py snapshots.
//
// Only final_info.json counts: a run folder's other JSON files (curves,
// configs) are not results a paper reports. A run without final_info.json
// (it failed or is still running) is skipped. The error is ErrNoRuns,
// wrapped, when no run has a readable final_info.json.
func LoadValues(dir string) ([]Value, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the paper folder: %w", err)
	}
	type numbered struct {
		n    int
		name string
	}
	var runs, snapshots []numbered
	for _, e := range entries {
		if m := runDir.FindStringSubmatch(e.Name()); m != nil && e.IsDir() {
			n, _ := strconv.Atoi(m[1])
			runs = append(runs, numbered{n, e.Name()})
		} else if m := runCode.FindStringSubmatch(e.Name()); m != nil && !e.IsDir() {
			n, _ := strconv.Atoi(m[1])
			snapshots = append(snapshots, numbered{n, e.Name()})
		}
	}
	byNumber := func(s []numbered) {
		sort.Slice(s, func(i, j int) bool { return s[i].n < s[j].n })
	}
	byNumber(runs)
	byNumber(snapshots)

	var values []Value
	var problems []string
	read := 0
	for _, r := range runs {
		b, err := os.ReadFile(filepath.Join(dir, r.name, "final_info.json"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s/final_info.json: %v", r.name, err))
			continue
		}
		fi, err := paper.ParseFinalInfo(b)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s/%v", r.name, err))
			continue
		}
		read++
		values = append(values, runValues(r.name, fi)...)
	}
	if read == 0 {
		if len(problems) > 0 {
			return nil, fmt.Errorf("no readable run_*/final_info.json in %s (%s): %w", dir, strings.Join(problems, "; "), ErrNoRuns)
		}
		return nil, fmt.Errorf("no run_*/final_info.json in %s: %w", dir, ErrNoRuns)
	}

	files := []string{"experiment.py"}
	for _, s := range snapshots {
		files = append(files, s.name)
	}
	for _, f := range files {
		src, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			continue // no code: the results alone are still worth checking against
		}
		values = append(values, codeValues(f, string(src))...)
	}
	return values, nil
}

// runValues lists a run's results, datasets and metrics sorted, means
// before standard errors. Diverged and missing metrics have no value.
func runValues(run string, fi paper.FinalInfo) []Value {
	var out []Value
	for _, ds := range sortedKeys(fi) {
		r := fi[ds]
		for _, m := range sortedKeys(r.Means) {
			out = append(out, Value{Run: run, Path: ds + meansSep + m, Value: r.Means[m]})
		}
		for _, m := range sortedKeys(r.Stderrs) {
			out = append(out, Value{Run: run, Path: ds + stderrsSep + m, Value: r.Stderrs[m]})
		}
	}
	return out
}

const (
	meansSep   = ".means."
	stderrsSep = ".stderrs."
)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
