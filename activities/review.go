package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"github.com/aiscientist/aiscientist/internal/latex"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/paper/fewshot"
	"github.com/aiscientist/aiscientist/internal/store"
)

// The review follows the reference system's reviewer: the PDF's text, a
// NeurIPS-style form with few-shot example reviews, an ensemble of
// independent reviews (each its own activity, run concurrently), an area
// chair's meta-review whose numeric scores are the ensemble's rounded
// means, then up to Reflections rounds in which the reviewer checks its
// review ("I am done" ends them early).

// ReviewSpec is how a paper is reviewed. The defaults are the reference
// system's: 1 few-shot example, 5 reflections, an ensemble of 5 (see
// Defaults).
type ReviewSpec struct {
	Model    string // reviewer model; empty: the paper's
	Ensemble int    // independent reviews (0: 5)
	// Reflections and FewShot: 0 means the default (5 and 1), a negative
	// value none.
	Reflections int `json:",omitempty"`
	FewShot     int `json:",omitempty"`
}

// Defaults fills in the reference system's settings.
func (s ReviewSpec) Defaults() ReviewSpec {
	if s.Ensemble <= 0 {
		s.Ensemble = 5
	}
	switch {
	case s.Reflections == 0:
		s.Reflections = 5
	case s.Reflections < 0:
		s.Reflections = 0
	}
	switch {
	case s.FewShot == 0:
		s.FewShot = 1
	case s.FewShot < 0:
		s.FewShot = 0
	}
	return s
}

// ReviewInput names the PDF to review: PDF (default <Name>.pdf) in the
// workspace of Paper, its review written to <Out>.json and <Out>.txt
// (default review; review_improved for the improved paper), the ensemble
// members and transcripts under reviews/<Out>/.
type ReviewInput struct {
	Paper  PaperRef
	PDF    string `json:",omitempty"`
	Out    string `json:",omitempty"`
	Spec   ReviewSpec
	Member int // ensemble member (ReviewMember)
	// WithForm returns the review itself in the result (a standalone
	// review prints it); papers keep it in their files only.
	WithForm bool `json:",omitempty"`
	Budgeted
}

func (in ReviewInput) pdf() string {
	if in.PDF != "" {
		return in.PDF
	}
	return in.Paper.Name + ".pdf"
}

func (in ReviewInput) out() string {
	if in.Out != "" {
		return in.Out
	}
	return "review"
}

func (in ReviewInput) model() string {
	if in.Spec.Model != "" {
		return in.Spec.Model
	}
	return in.Paper.Model
}

// MemberResult is one ensemble member's review, for the meta-review.
type MemberResult struct {
	Overall int
	// Note: the paper text was cut to fit (said once, for status).
	Note string `json:",omitempty"`
	Metered
}

// ReviewResult is the headline of the final review.
type ReviewResult struct {
	Overall  int
	Decision string
	// Reviews is how many ensemble members the review rests on.
	Reviews     int
	Reflections int // reflection rounds done
	// Form is the review (see ReviewInput.WithForm).
	Form *paper.Review `json:",omitempty"`
	Metered
}

const (
	reviewTemperature   float32 = 0.1
	ensembleTemperature float32 = 0.75 // members of an ensemble should differ
)

// maxPaperChars bounds the paper text sent to the reviewer (about 30,000
// tokens; a conference paper's text is 40,000-80,000 characters).
const maxPaperChars = 120_000

// minPaperChars: a PDF with fewer letters and digits than this has no
// text layer to review (a scanned paper, at most page numbers) or is empty.
const minPaperChars = 20

// ErrTypeNoText marks a PDF without extractable text.
const ErrTypeNoText = "NoText"

// PaperText extracts a PDF's text for review, capped at maxPaperChars with
// a note saying so. A .txt or .md file is the paper's text already (the
// reference's benchmark ships its papers as text, iclr_parsed/<id>.txt).
func PaperText(ctx context.Context, pdf string) (text, note string, err error) {
	if !store.Exists(pdf) {
		return "", "", missingInput("%s does not exist", filepath.Base(pdf))
	}
	switch strings.ToLower(filepath.Ext(pdf)) {
	case ".txt", ".md":
		b, err := os.ReadFile(pdf)
		if err != nil {
			return "", "", missingInput("read %s: %v", filepath.Base(pdf), err)
		}
		text = string(b)
	default:
		if text, err = latex.PDFText(ctx, pdf); err != nil {
			return "", "", missingInput("read %s: %v", filepath.Base(pdf), err)
		}
	}
	if n := alnum(text); n < minPaperChars {
		return "", "", nonRetryable(ErrTypeNoText, fmt.Sprintf("%s has no text to review: pdftotext found %d letters or digits in it (a scanned PDF has none; run OCR on it first, e.g. ocrmypdf)", filepath.Base(pdf), n))
	}
	if len(text) > maxPaperChars {
		note = fmt.Sprintf("the paper's text has %d characters; the reviewer read the first %d", len(text), maxPaperChars)
		cut := maxPaperChars
		for cut > 0 && (text[cut]&0xC0) == 0x80 { // a rune boundary
			cut--
		}
		text = text[:cut] + fmt.Sprintf("\n\n[The text was cut here: the reviewer sees the first %d of its %d characters.]", maxPaperChars, len(text))
	}
	return text, note, nil
}

func alnum(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

// reviewerRequest is a member's request: persona, form and examples in the
// system prompt, the paper in the message.
func reviewerRequest(model, text string, spec ReviewSpec, temperature float32) llm.Request {
	examples := ""
	if ex := fewshot.Examples(spec.FewShot); len(ex) > 0 {
		var b strings.Builder
		for _, e := range ex {
			fmt.Fprintf(&b, reviewExample, strings.TrimSpace(e.Text), strings.TrimSpace(string(e.Review)))
		}
		examples = fmt.Sprintf(reviewExamples, b.String())
	}
	return llm.Request{Model: model, System: fmt.Sprintf(reviewSystem, examples), Temperature: temperature,
		Messages: []llm.Message{{Role: "user", Content: fmt.Sprintf(reviewPrompt, "", text)}}}
}

func reviewDir(dir, out string) string { return filepath.Join(dir, "reviews", out) }

func memberPath(dir, out string, i int) string {
	return filepath.Join(reviewDir(dir, out), fmt.Sprintf("member_%d.json", i))
}

// ReviewMember writes one ensemble member's review (reviews/<Out>/member_<i>.json).
// A reply without a valid form is re-asked (see MaxReasks) before the
// member fails; the others still make the review.
func (a *Activities) ReviewMember(ctx context.Context, in ReviewInput) (_ MemberResult, err error) {
	s, err := a.memberScope(ctx, in.Paper, filepath.Join("reviews", in.out(), fmt.Sprintf("member_%d.calls.jsonl", in.Member)))
	if err != nil {
		return MemberResult{}, err
	}
	defer s.close(ctx, &err)
	ctx, dir := s.meter(ctx, in.Budget), s.dir
	spec := in.Spec.Defaults()
	path := memberPath(dir, in.out(), in.Member)
	var done paper.Review
	if err := readJSON(path, &done); err == nil && done.Validate() == nil {
		return MemberResult{Overall: done.Overall}, nil
	}
	text, note, err := PaperText(ctx, filepath.Join(dir, in.pdf()))
	if err != nil {
		return MemberResult{}, err
	}
	temp := reviewTemperature
	if spec.Ensemble > 1 {
		temp = ensembleTemperature
	}
	var r paper.Review
	parse := func(reply string) (err error) {
		r, err = ReadReview(reply)
		return err
	}
	req := reviewerRequest(in.model(), text, spec, temp)
	_, msgs, err := a.ask(ctx, req, fmt.Sprintf("review %d of %d", in.Member+1, spec.Ensemble), parse,
		func(err error) string { return Correction(ReplyReview, "", err) })
	if err := os.MkdirAll(reviewDir(dir, in.out()), 0o755); err != nil {
		return MemberResult{}, err
	}
	if len(msgs) > len(req.Messages) {
		// Kept for failures too: the replies show why a review was unusable.
		_ = store.WriteFile(filepath.Join(reviewDir(dir, in.out()), fmt.Sprintf("member_%d_transcript.md", in.Member)), []byte(transcript(msgs)))
	}
	if err != nil {
		return MemberResult{}, err
	}
	if err := writeJSON(path, r); err != nil {
		return MemberResult{}, err
	}
	return MemberResult{Overall: r.Overall, Note: note, Metered: s.metered()}, nil
}

// MetaInput combines the members' reviews into the paper's review.
type MetaInput struct {
	ReviewInput
	// Members are the ensemble members whose reviews exist, in order.
	Members []int
}

// ReviewInfo (reviews/<Out>/summary.json) says what the review rests on;
// review.txt itself holds exactly the form.
type ReviewInfo struct {
	Model       string            `json:"model"`
	Asked       int               `json:"ensemble_asked"`
	Reviews     int               `json:"ensemble_reviews"`
	Members     []int             `json:"members"`
	Spread      map[string][2]int `json:"score_spread,omitempty"`
	FewShot     int               `json:"fewshot"`
	Reflections int               `json:"reflections_done"`
	MaxReflect  int               `json:"reflections_max"`
	Meta        bool              `json:"meta_review"`
}

// MetaReview writes the paper's review: with several members an area
// chair's meta-review carrying the members' rounded mean scores, with one
// that member's review; then the reflection rounds. It writes <Out>.json,
// <Out>.txt (exactly the review JSON, as the reference's analysis
// notebooks json.load it) and reviews/<Out>/summary.json.
func (a *Activities) MetaReview(ctx context.Context, in MetaInput) (_ ReviewResult, err error) {
	s, err := a.paperScope(ctx, in.Paper, false)
	if err != nil {
		return ReviewResult{}, err
	}
	defer s.close(ctx, &err)
	dir := s.dir
	out := in.out()
	// The members' calls join the paper's ledger before the chair's.
	if err := foldLedgers(dir, filepath.Join("reviews", out, "member_*.calls.jsonl")); err != nil {
		return ReviewResult{}, fmt.Errorf("fold the reviewers' call ledgers: %w", err)
	}
	ctx = s.meter(ctx, in.Budget)
	spec := in.Spec.Defaults()
	var done paper.Review
	var info ReviewInfo
	if err := readJSON(filepath.Join(dir, out+".json"), &done); err == nil && done.Validate() == nil {
		_ = readJSON(filepath.Join(reviewDir(dir, out), "summary.json"), &info)
		res := ReviewResult{Overall: done.Overall, Decision: done.Decision, Reviews: info.Reviews, Reflections: info.Reflections}
		if in.WithForm {
			res.Form = &done
		}
		return res, nil
	}
	members := append([]int(nil), in.Members...)
	sort.Ints(members)
	var reviews []paper.Review
	var used []int
	for _, m := range members {
		var r paper.Review
		if err := readJSON(memberPath(dir, out, m), &r); err == nil && r.Validate() == nil {
			reviews, used = append(reviews, r), append(used, m)
		}
	}
	if len(reviews) == 0 {
		return ReviewResult{}, missingInput("no ensemble member's review exists under reviews/%s: every reviewer failed", out)
	}
	info = ReviewInfo{Model: in.model(), Asked: spec.Ensemble, Reviews: len(reviews), Members: used,
		Spread: paper.ScoreSpread(reviews), FewShot: spec.FewShot, MaxReflect: spec.Reflections}
	review := reviews[0]
	var log []llm.Message
	if len(reviews) > 1 {
		info.Meta = true
		review, log, err = a.metaReview(ctx, in.model(), spec.Ensemble, reviews)
		if err != nil {
			return ReviewResult{}, err
		}
	}
	// Reflections continue a reviewer's conversation whose answer is the
	// review so far, as the reference does after its meta-review.
	text, _, err := PaperText(ctx, filepath.Join(dir, in.pdf()))
	if err != nil {
		return ReviewResult{}, err
	}
	js, err := review.JSON()
	if err != nil {
		return ReviewResult{}, err
	}
	req := reviewerRequest(in.model(), text, spec, reviewTemperature)
	req.Messages = append(req.Messages, llm.Message{Role: "assistant",
		Content: "THOUGHT:\nMy review of the paper.\n\nREVIEW JSON:\n```json\n" + strings.TrimSpace(string(js)) + "\n```"})
	for round := 1; round <= spec.Reflections; round++ {
		req.Messages = append(req.Messages, llm.Message{Role: "user", Content: fmt.Sprintf(reviewReflectPrompt, round, spec.Reflections)})
		r := review
		parse := func(reply string) (err error) {
			got, err := ReadReview(reply)
			if err != nil && strings.Contains(reply, "I am done") && !strings.Contains(reply, "REVIEW JSON") {
				return nil // done, without repeating the review: it stands
			}
			if err == nil {
				r = got
			}
			return err
		}
		resp, msgs, err := a.ask(ctx, req, fmt.Sprintf("review reflection %d", round), parse,
			func(err error) string { return Correction(ReplyReview, "", err) })
		req.Messages = msgs
		if IsUnparsable(err) {
			break // the last good review stands
		}
		if err != nil {
			return ReviewResult{}, err
		}
		review = r
		info.Reflections = round
		if strings.Contains(resp.Content, "I am done") {
			break
		}
	}
	log = append(log, req.Messages[1:]...)
	if err := os.MkdirAll(reviewDir(dir, out), 0o755); err != nil {
		return ReviewResult{}, err
	}
	_ = store.WriteFile(filepath.Join(reviewDir(dir, out), "transcript.md"), []byte(transcript(log)))
	final, err := review.JSON()
	if err != nil {
		return ReviewResult{}, err
	}
	if err := writeJSON(filepath.Join(reviewDir(dir, out), "summary.json"), info); err != nil {
		return ReviewResult{}, err
	}
	if err := store.WriteFile(filepath.Join(dir, out+".txt"), final); err != nil {
		return ReviewResult{}, err
	}
	if err := store.WriteFile(filepath.Join(dir, out+".json"), final); err != nil {
		return ReviewResult{}, err
	}
	res := ReviewResult{Overall: review.Overall, Decision: review.Decision, Reviews: len(reviews), Reflections: info.Reflections, Metered: s.metered()}
	if in.WithForm {
		res.Form = &review
	}
	return res, nil
}

// metaReview asks the area chair; its scores become the members' rounded
// means. An unusable meta-review falls back to the members' means on the
// first member's text, so the reviews are never lost.
func (a *Activities) metaReview(ctx context.Context, model string, asked int, reviews []paper.Review) (paper.Review, []llm.Message, error) {
	var b strings.Builder
	for i, r := range reviews {
		js, _ := json.MarshalIndent(r, "", "  ")
		fmt.Fprintf(&b, "\nReview %d of %d:\n```json\n%s\n```\n", i+1, len(reviews), js)
	}
	count := fmt.Sprintf("The paper received %d reviews.", len(reviews))
	if len(reviews) < asked {
		count = fmt.Sprintf("The paper received %d reviews (%d were asked for; %d reviewers failed to deliver one).", len(reviews), asked, asked-len(reviews))
	}
	var meta paper.Review
	means := paper.MeanScores(paper.Review{}, reviews)
	parse := func(reply string) (err error) {
		meta, err = readMetaReview(reply, means)
		return err
	}
	req := llm.Request{Model: model, System: metaReviewSystem, Temperature: reviewTemperature,
		Messages: []llm.Message{{Role: "user", Content: fmt.Sprintf(metaReviewPrompt, count, b.String())}}}
	_, msgs, err := a.ask(ctx, req, "meta-review", parse, func(err error) string { return fmt.Sprintf(metaReviewBadJSONPrompt, err) })
	if IsUnparsable(err) {
		meta, err = reviews[0], nil
		meta.Decision = ""
	}
	if err != nil {
		return paper.Review{}, msgs, err
	}
	return paper.MeanScores(meta, reviews), msgs, nil
}

// readMetaReview reads the chair's reply. The chair is told its scores
// become the members' means, so a reply that leaves them out is complete:
// missing scores are taken from means before the form is checked.
func readMetaReview(reply string, means paper.Review) (paper.Review, error) {
	js, err := llm.ExtractJSONObjectAfter(reply, "REVIEW JSON:")
	if err != nil {
		return paper.Review{}, err
	}
	var fields map[string]any
	if json.Unmarshal([]byte(js), &fields) == nil {
		mb, _ := json.Marshal(means)
		var mf map[string]any
		_ = json.Unmarshal(mb, &mf)
		for _, k := range []string{"Originality", "Quality", "Clarity", "Significance", "Soundness", "Presentation", "Contribution", "Overall", "Confidence"} {
			present := false
			for have := range fields {
				if strings.EqualFold(strings.ReplaceAll(have, " ", ""), k) {
					present = true
				}
			}
			if !present {
				fields[k] = mf[k]
			}
		}
		if b, err := json.Marshal(fields); err == nil {
			js = string(b)
		}
	}
	return paper.ParseReview(js)
}
