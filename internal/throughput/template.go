package throughput

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// TemplateName is the benchmark template's name.
const TemplateName = "throughput"

//go:embed template
var templateFS embed.FS

// WriteTemplate writes the benchmark template into dir/throughput: runs
// that take runDuration, and papers seed ideas that each sweep SCALE over
// two values (two runs, a cached baseline and a plot per paper).
func WriteTemplate(dir string, runDuration time.Duration, papers int) (string, error) {
	root := filepath.Join(dir, TemplateName)
	err := fs.WalkDir(templateFS, "template", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(root, strings.TrimPrefix(path, "template"))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := templateFS.ReadFile(path)
		if err != nil {
			return err
		}
		b = []byte(strings.ReplaceAll(string(b), "{{RUN_SECONDS}}", strconv.FormatFloat(runDuration.Seconds(), 'f', -1, 64)))
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		return "", fmt.Errorf("write the benchmark template: %w", err)
	}
	type seed struct {
		Name, Title, Experiment               string
		Interestingness, Feasibility, Novelty int
	}
	seeds := make([]seed, papers)
	for i := range seeds {
		lo, hi := 0.5+float64(i)/10, 2+float64(i)/10
		seeds[i] = seed{
			Name:  fmt.Sprintf("scale_%02d", i+1),
			Title: fmt.Sprintf("Benchmark Paper %d: the Score at Two Scales", i+1),
			Experiment: fmt.Sprintf("Vary SCALE over %s and %s and compare the score with the baseline.",
				strconv.FormatFloat(lo, 'f', -1, 64), strconv.FormatFloat(hi, 'f', -1, 64)),
			Interestingness: 1, Feasibility: 10, Novelty: 1,
		}
	}
	b, err := json.MarshalIndent(seeds, "", "    ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(root, "seed_ideas.json"), b, 0o644); err != nil {
		return "", fmt.Errorf("write the benchmark's ideas: %w", err)
	}
	return root, nil
}
