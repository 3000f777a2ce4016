package bench

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"

	"github.com/aiscientist/aiscientist/internal/paper"
)

// ReviewColumns are the reviews table's columns, the reference's order
// (review_iclr_bench/llm_reviews/*.csv), then Error: why a paper has no
// review.
var ReviewColumns = []string{"paper_id", "Summary", "Questions", "Limitations", "Ethical Concerns", "Soundness",
	"Presentation", "Contribution", "Overall", "Confidence", "Strengths", "Weaknesses", "Originality", "Quality",
	"Clarity", "Significance", "Decision", "Error"}

// Row is one paper of a reviews table: its review, or why there is none
// (its review fields then stay empty, and score counts it as a row
// without a usable Overall).
type Row struct {
	ID     string
	Review *paper.Review
	Error  string
}

// WriteReviews writes the rows as the reviews CSV that ReadReviews reads:
// lists as JSON arrays, Ethical Concerns as True/False as the reference
// writes them.
func WriteReviews(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ReviewColumns); err != nil {
		return err
	}
	for _, r := range rows {
		rec := make([]string, len(ReviewColumns))
		rec[0] = r.ID
		rec[len(rec)-1] = r.Error
		if v := r.Review; v != nil {
			list := func(x []string) string {
				if x == nil {
					x = []string{}
				}
				b, _ := json.Marshal(x)
				return string(b)
			}
			ethics := "False"
			if v.EthicalConcerns {
				ethics = "True"
			}
			n := strconv.Itoa
			copy(rec[1:], []string{v.Summary, list(v.Questions), list(v.Limitations), ethics, n(v.Soundness),
				n(v.Presentation), n(v.Contribution), n(v.Overall), n(v.Confidence), list(v.Strengths), list(v.Weaknesses),
				n(v.Originality), n(v.Quality), n(v.Clarity), n(v.Significance), v.Decision})
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
