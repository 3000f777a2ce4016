package activities

import (
	"fmt"

	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
)

// Reading model replies: one layer every stage uses, and `starter parse`
// too, so what a user checks by hand is exactly what the pipeline does.
// Each reader returns the normalised value or an error; Correction is the
// message the model is sent for that error.

// Reply kinds, as `starter parse` names them.
const (
	ReplyIdea      = "idea"
	ReplyReview    = "review"
	ReplySection   = "section"
	ReplyFinalInfo = "final-info"
)

// ReadIdea reads an idea reply: THOUGHT:, then NEW IDEA JSON: and the idea.
func ReadIdea(reply string) (paper.Idea, error) {
	js, err := llm.ExtractJSONObjectAfter(reply, "NEW IDEA JSON:")
	if err != nil {
		return paper.Idea{}, err
	}
	return paper.ParseIdea(js)
}

// ReadReview reads a review reply: THOUGHT:, then REVIEW JSON: and the form.
func ReadReview(reply string) (paper.Review, error) {
	js, err := llm.ExtractJSONObjectAfter(reply, "REVIEW JSON:")
	if err != nil {
		return paper.Review{}, err
	}
	return paper.ParseReview(js)
}

// WrittenSection is a section as the writer wrote it: its LaTeX and, for the first section, the
// paper's title.
type WrittenSection struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"latex"`
}

// ReadSection reads a section reply (see paper.ParseSection).
func ReadSection(reply string) (WrittenSection, error) {
	t, b, err := paper.ParseSection(reply)
	return WrittenSection{Title: t, Body: b}, err
}

// ReadFinalInfo reads a run's final_info.json (see paper.ParseFinalInfo).
func ReadFinalInfo(b []byte) (paper.FinalInfo, error) { return paper.ParseFinalInfo(b) }

// Correction is the message a model gets back for a reply of kind that
// could not be read; step names the request for sections ("Write section
// Method").
func Correction(kind, step string, err error) string {
	switch kind {
	case ReplyIdea:
		return fmt.Sprintf(ideaBadJSONPrompt, err)
	case ReplyReview:
		return fmt.Sprintf(reviewBadJSONPrompt, err)
	case ReplySection:
		return fmt.Sprintf(sectionBadLatexPrompt, step, err)
	}
	// final_info.json goes back with the run's failure (see the coder's fix turn).
	return err.Error()
}
