package activities_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/paper"
)

// PDFs this project did not write, from Debian packages the set-up installs.
const (
	scannedPDF = "/usr/share/matplotlib/mpl-data/images/matplotlib.pdf"         // a logo: no text layer
	hugePDF    = "/usr/share/doc/texlive-doc/latex/koma-script/scrguide-en.pdf" // about 1.3 million characters
	foreignPDF = "/usr/share/doc/texlive-doc/bibtex/base/btxdoc.pdf"            // "BibTeXing", a short manual
)

func needFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not installed", path)
	}
}

// TestPaperTextBadInput: a PDF without text is refused with a clear
// message; a huge one is cut, and says so.
func TestPaperTextBadInput(t *testing.T) {
	needTeX(t)
	t.Run("scanned", func(t *testing.T) {
		needFile(t, scannedPDF)
		_, _, err := activities.PaperText(context.Background(), scannedPDF)
		ae := wantFinal(t, err, activities.ErrTypeNoText)
		if !strings.Contains(ae.Message(), "has no text to review") || !strings.Contains(ae.Message(), "OCR") {
			t.Errorf("message = %q", ae.Message())
		}
	})
	t.Run("huge", func(t *testing.T) {
		needFile(t, hugePDF)
		text, note, err := activities.PaperText(context.Background(), hugePDF)
		if err != nil {
			t.Fatal(err)
		}
		if len(text) > 121_000 || !strings.Contains(text, "[The text was cut here") || !strings.Contains(note, "the reviewer read the first 120000") {
			t.Errorf("%d characters, note %q", len(text), note)
		}
	})
	t.Run("missing", func(t *testing.T) {
		_, _, err := activities.PaperText(context.Background(), filepath.Join(t.TempDir(), "none.pdf"))
		wantFinal(t, err, activities.ErrTypeMissingInput)
	})
}

func writeMember(t *testing.T, dir string, i int, r paper.Review) {
	t.Helper()
	p := filepath.Join(dir, "reviews", "review", fmt.Sprintf("member_%d.json", i))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func memberReview(overall, quality int) paper.Review {
	return paper.Review{Summary: fmt.Sprintf("member with %d", overall), Strengths: []string{"s"}, Weaknesses: []string{"w"},
		Originality: 2, Quality: quality, Clarity: 3, Significance: 2, Soundness: 2, Presentation: 3, Contribution: 2,
		Overall: overall, Confidence: 4, Decision: "Reject"}
}

// TestMetaReviewAggregates: the area chair sees every member's review and
// how many failed; the scores are the members' rounded means whatever the
// chair wrote; the reflections end at "I am done"; review.txt is the JSON.
func TestMetaReviewAggregates(t *testing.T) {
	f := newFakeModel(t, func(n int, _ openai.ChatCompletionRequest) fakeReply {
		if n == 1 {
			return fakeReply{Content: strings.Replace(reviewReply(9), `"Summary": "s"`, `"Summary": "the chair's summary"`, 1)}
		}
		return fakeReply{Content: strings.Replace(reviewReply(9), "THOUGHT: ok", "THOUGHT: ok. I am done", 1)}
	})
	e, ref, dir := reviewEnv(t, f)
	writeMember(t, dir, 0, memberReview(3, 2))
	writeMember(t, dir, 1, memberReview(4, 3))
	writeMember(t, dir, 3, memberReview(6, 3))
	in := activities.ReviewInput{Paper: ref, Spec: activities.ReviewSpec{Ensemble: 4, Reflections: 3, FewShot: 1}}
	res := mustExecute[activities.ReviewResult](t, e, e.acts.MetaReview, activities.MetaInput{ReviewInput: in, Members: []int{0, 1, 3}})
	if f.calls() != 2 {
		t.Fatalf("%d calls, want the meta-review and one reflection", f.calls())
	}
	meta := f.request(0).Messages[len(f.request(0).Messages)-1].Content
	for _, want := range []string{"## Meta-review", "3 reviews (4 were asked for; 1 reviewers failed", "member with 3", "member with 6"} {
		if !strings.Contains(meta, want) {
			t.Errorf("meta-review prompt lacks %q", want)
		}
	}
	// The reflection continues a reviewer's conversation: the paper, then
	// the review so far (the means, the chair's text).
	refl := f.request(1).Messages
	if last := refl[len(refl)-1].Content; !strings.HasPrefix(last, "## Review reflection 1 of 3") {
		t.Errorf("reflection prompt = %.80q", last)
	}
	if prev := refl[len(refl)-2].Content; !strings.Contains(prev, "the chair's summary") || !strings.Contains(prev, `"Overall": 4`) {
		t.Errorf("the reflection does not see the aggregated review: %.300s", prev)
	}
	if !strings.Contains(refl[0].Content, "<example_paper>") {
		t.Error("the reviewer's system prompt has no few-shot example")
	}
	// Scores: means of 3,4,6 = 4.33 → 4 (the reflection's 9 is its own
	// judgement, and it said it was done: it stands).
	b := readFile(t, filepath.Join(dir, "review.txt"))
	var r paper.Review
	if err := json.Unmarshal([]byte(b), &r); err != nil {
		t.Fatalf("review.txt is not JSON: %v", err)
	}
	if r.Overall != 9 || res.Reviews != 3 || res.Reflections != 1 {
		t.Errorf("review %+v, result %+v", r, res)
	}
	var info activities.ReviewInfo
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "reviews", "review", "summary.json"))), &info); err != nil {
		t.Fatal(err)
	}
	if info.Asked != 4 || info.Reviews != 3 || !info.Meta || info.Spread["Overall"] != [2]int{3, 6} {
		t.Errorf("summary.json = %+v", info)
	}
}

// TestMetaReviewMeans: without reflections the review's scores are the
// members' rounded means (half to even, as the reference) on the chair's text.
func TestMetaReviewMeans(t *testing.T) {
	f := constant(t, strings.Replace(reviewReply(9), `"Decision": "Reject"`, `"Decision": "Accept"`, 1))
	e, ref, dir := reviewEnv(t, f)
	writeMember(t, dir, 0, memberReview(3, 2))
	writeMember(t, dir, 1, memberReview(6, 3))
	in := activities.ReviewInput{Paper: ref, Spec: activities.ReviewSpec{Ensemble: 2, Reflections: -1}}
	res := mustExecute[activities.ReviewResult](t, e, e.acts.MetaReview, activities.MetaInput{ReviewInput: in, Members: []int{0, 1}})
	r, err := paper.ParseReview(readFile(t, filepath.Join(dir, "review.json")))
	if err != nil {
		t.Fatal(err)
	}
	// Overall 4.5 → 4, Quality 2.5 → 2; the chair's decision stands.
	if r.Overall != 4 || r.Quality != 2 || r.Clarity != 3 || r.Decision != "Accept" || res.Overall != 4 || f.calls() != 1 {
		t.Errorf("review %+v after %d calls", r, f.calls())
	}
}

// TestMetaReviewOneMember: a single review is the review; no chair is asked.
func TestMetaReviewOneMember(t *testing.T) {
	f := constant(t, "unused")
	e, ref, dir := reviewEnv(t, f)
	writeMember(t, dir, 2, memberReview(5, 3))
	in := activities.ReviewInput{Paper: ref, Spec: activities.ReviewSpec{Ensemble: 3, Reflections: -1}}
	res := mustExecute[activities.ReviewResult](t, e, e.acts.MetaReview, activities.MetaInput{ReviewInput: in, Members: []int{2}})
	if res.Overall != 5 || res.Reviews != 1 || f.calls() != 0 {
		t.Errorf("result %+v after %d calls", res, f.calls())
	}
	// No member at all: a clear error, nothing written.
	_, err := execute[activities.ReviewResult](t, e, e.acts.MetaReview, activities.MetaInput{ReviewInput: activities.ReviewInput{Paper: ref, Out: "review_improved", Spec: in.Spec}, Members: nil})
	wantFinal(t, err, activities.ErrTypeMissingInput)
	if exists(filepath.Join(dir, "review_improved.txt")) {
		t.Error("a review was written without members")
	}
}

// TestReviewForeignPDF: a PDF this project did not write is reviewed.
func TestReviewForeignPDF(t *testing.T) {
	needTeX(t)
	needFile(t, foreignPDF)
	f := constant(t, reviewReply(2))
	e := newEnv(t, withFake(f), withTemplates(miniTemplate(t, "")))
	ref, dir := miniPaper(t, e, "foreign")
	ref.Model = fakeModelName
	b, err := os.ReadFile(foreignPDF)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "btxdoc.pdf"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	res := reviewAll(t, e, activities.ReviewInput{Paper: ref, PDF: "btxdoc.pdf", Spec: single})
	if res.Overall != 2 || !strings.Contains(f.request(0).Messages[1].Content, "Oren Patashnik") {
		t.Errorf("result %+v; the prompt does not carry the manual's text", res)
	}
}

// TestMetaReviewWithoutScores: a chair that leaves the scores out (they
// are the means anyway) still gives a review.
func TestMetaReviewWithoutScores(t *testing.T) {
	f := constant(t, "THOUGHT: the reviewers agree.\n\nREVIEW JSON:\n```json\n"+`{"Summary": "chair", "Strengths": ["s"], "Weaknesses": ["w"], "Questions": [], "Limitations": [], "Ethical Concerns": false, "Decision": "Reject"}`+"\n```\n")
	e, ref, dir := reviewEnv(t, f)
	writeMember(t, dir, 0, memberReview(3, 2))
	writeMember(t, dir, 1, memberReview(5, 4))
	in := activities.ReviewInput{Paper: ref, Spec: activities.ReviewSpec{Ensemble: 2, Reflections: -1}}
	res := mustExecute[activities.ReviewResult](t, e, e.acts.MetaReview, activities.MetaInput{ReviewInput: in, Members: []int{0, 1}})
	r, err := paper.ParseReview(readFile(t, filepath.Join(dir, "review.json")))
	if err != nil || r.Summary != "chair" || r.Overall != 4 || r.Quality != 3 || res.Overall != 4 || f.calls() != 1 {
		t.Errorf("review %+v (%v) after %d calls", r, err, f.calls())
	}
}

// TestReflectionDoneWithoutJSON: a reviewer that only says "I am done"
// keeps its review; nothing is re-asked.
func TestReflectionDoneWithoutJSON(t *testing.T) {
	f := constant(t, "THOUGHT: The review is accurate. I am done")
	e, ref, dir := reviewEnv(t, f)
	writeMember(t, dir, 0, memberReview(4, 2))
	in := activities.ReviewInput{Paper: ref, Spec: activities.ReviewSpec{Ensemble: 1, Reflections: 5}}
	res := mustExecute[activities.ReviewResult](t, e, e.acts.MetaReview, activities.MetaInput{ReviewInput: in, Members: []int{0}})
	if f.calls() != 1 || res.Overall != 4 || res.Reflections != 1 {
		t.Errorf("result %+v after %d calls", res, f.calls())
	}
}

// TestFinalPassTitleInBlock: a writer that repeats "Title: ..." inside the
// abstract's block gets its title set and the line kept out of the abstract.
func TestFinalPassTitleInBlock(t *testing.T) {
	f := constant(t, "THOUGHT: better.\n\n```latex\nTitle: A Sharper Title\n\nWe find that the setting matters.\n```\n")
	e := newEnv(t, withFake(f))
	ref, dir := resultsPaper(t, e, "final-title", fakeModelName)
	mustExecute[activities.SectionResult](t, e, e.acts.WriteSection, activities.SectionInput{Paper: ref, Section: activities.TitleAbstract})
	mustExecute[activities.SectionResult](t, e, e.acts.WriteSection, activities.SectionInput{Paper: ref, Section: activities.TitleAbstract, Pass: activities.PassFinal})
	tex := readFile(t, filepath.Join(dir, "latex", "template.tex"))
	if !strings.Contains(tex, `\title{A Sharper Title}`) || !strings.Contains(tex, "\\begin{abstract}\nWe find that the setting matters.\n\\end{abstract}") {
		t.Errorf("template.tex:\n%s", tex)
	}
}
