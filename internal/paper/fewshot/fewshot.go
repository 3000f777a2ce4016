// Package fewshot holds the worked examples the reviewer's prompt shows
// the model before the paper under review: the text of a short paper, as
// extracted from its PDF, and an expert's review of it in the form's JSON.
//
// The three papers and reviews were written for this project. They are
// small-scale ML studies of the kind the system itself produces, each with
// a calibrated, critical review that cites the paper's sections and
// numbers:
//
//   - diffusion_2d_noise_schedules: a correct, clearly written but
//     incremental study (Overall 4, borderline reject → Reject);
//   - spectral_smoothing_regulariser: a flawed method paper (one seed,
//     tuning on the test set, untuned baselines, overclaims; Overall 3,
//     Reject);
//   - warmup_modular_arithmetic: a careful, seed-controlled study with
//     honest limitations (Overall 6, weak accept → Accept).
//
// # Order
//
// Examples returns them in that order: borderline, reject, accept. The
// reference system shows one example by default, so the first one must
// teach the most. The borderline review does: it has real strengths and
// real weaknesses to weigh, sits just below the acceptance threshold
// (Overall 4 where 6 is needed), and shows that a sound, well-presented paper is still
// rejected when its contribution is small, which is where most
// automatically written papers fall and where models, which tend to
// review too kindly, most need an anchor. A clear reject alone would show
// only fault-finding, and a lone accept would pull scores up. The second
// example adds the flaws a reviewer must catch (test-set tuning, single
// runs, unfair baselines, causal claims from correlation), the third shows
// that careful work is accepted, so k=3 spans the scale.
package fewshot

import (
	"embed"
	"encoding/json"
	"strings"
)

//go:embed papers/*.txt papers/*.json
var files embed.FS

// order is the fixed order of Examples (see the package comment).
var order = []string{
	"diffusion_2d_noise_schedules",
	"spectral_smoothing_regulariser",
	"warmup_modular_arithmetic",
}

// Example is one paper's text and its review, for the reviewer's prompt.
type Example struct {
	Name string // the files' base name, e.g. "warmup_modular_arithmetic"
	Text string // the paper as pdftotext gives it
	// Review is the review JSON as stored: the form's keys in form order,
	// indented by four spaces, with a trailing newline (as Review.JSON
	// writes it).
	Review json.RawMessage
}

// Examples returns the first k examples in the fixed order: borderline
// reject, reject, accept (see the package comment for why). k ≤ 0 gives
// none, k > Count() all. Each call returns fresh copies.
func Examples(k int) []Example {
	k = min(max(k, 0), len(order))
	out := make([]Example, 0, k)
	for _, name := range order[:k] {
		out = append(out, load(name))
	}
	return out
}

// Count is the number of examples.
func Count() int { return len(order) }

func load(name string) Example {
	text, err := files.ReadFile("papers/" + name + ".txt")
	if err != nil {
		panic("fewshot: " + err.Error()) // embedded at build time; a test covers every name
	}
	review, err := files.ReadFile("papers/" + name + ".json")
	if err != nil {
		panic("fewshot: " + err.Error())
	}
	return Example{Name: name, Text: strings.TrimRight(string(text), "\n"), Review: review}
}
