package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/aiscientist/aiscientist/internal/latex"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/store"
)

// ReviewInput names the paper to review.
type ReviewInput struct {
	Paper PaperRef
	Model string // reviewer model; empty: the paper's model
	Budgeted
}

// ReviewResult is the headline of review.json.
type ReviewResult struct {
	Overall  int
	Decision string
	Metered
}

const reviewTemperature = 0.1

// maxPaperChars bounds the paper text sent to the reviewer.
const maxPaperChars = 120_000

// ReviewPaper extracts the PDF's text, asks for a NeurIPS-style review and
// writes review.json and review.txt. A reply without a valid form is re-asked
// (see MaxReasks) before the stage fails.
func (a *Activities) ReviewPaper(ctx context.Context, in ReviewInput) (_ ReviewResult, err error) {
	s, err := a.paperScope(ctx, in.Paper, false)
	if err != nil {
		return ReviewResult{}, err
	}
	defer s.close(ctx, &err)
	ctx, dir := s.meter(ctx, in.Budget), s.dir
	var done paper.Review
	if err := readJSON(filepath.Join(dir, "review.json"), &done); err == nil && done.Validate() == nil {
		return ReviewResult{Overall: done.Overall, Decision: done.Decision}, nil
	}
	pdf := filepath.Join(dir, in.Paper.Name+".pdf")
	text, err := latex.PDFText(ctx, pdf)
	if err != nil {
		return ReviewResult{}, missingInput("read %s: %v", filepath.Base(pdf), err)
	}
	if len(text) > maxPaperChars {
		text = text[:maxPaperChars]
	}
	model := in.Model
	if model == "" {
		model = in.Paper.Model
	}
	var r paper.Review
	parse := func(reply string) (err error) {
		r, err = ReadReview(reply)
		return err
	}
	req := llm.Request{Model: model, System: reviewSystem, Temperature: reviewTemperature,
		Messages: []llm.Message{{Role: "user", Content: fmt.Sprintf(reviewPrompt, text)}}}
	_, msgs, err := a.ask(ctx, req, "review", parse, func(err error) string { return Correction(ReplyReview, "", err) })
	if len(msgs) > len(req.Messages) {
		// Kept for failures too: the replies show why a review was unusable.
		_ = store.WriteFile(filepath.Join(dir, "logs", "review_transcript.md"), []byte(transcript(msgs)))
	}
	if err != nil {
		return ReviewResult{}, err
	}
	if err := writeJSON(filepath.Join(dir, "review.json"), r); err != nil {
		return ReviewResult{}, err
	}
	if err := store.WriteFile(filepath.Join(dir, "review.txt"), []byte(reviewText(r))); err != nil {
		return ReviewResult{}, err
	}
	return ReviewResult{Overall: r.Overall, Decision: r.Decision, Metered: s.metered()}, nil
}

func reviewText(r paper.Review) string {
	b, _ := json.MarshalIndent(r, "", "    ")
	var s strings.Builder
	fmt.Fprintf(&s, "Decision: %s (Overall %d/10, Confidence %d/5)\n\n", r.Decision, r.Overall, r.Confidence)
	s.Write(b)
	s.WriteString("\n")
	return s.String()
}
