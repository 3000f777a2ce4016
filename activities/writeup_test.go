package activities_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/latex"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/scripted"
)

// resultsPaper prepares a grokking workspace with a baseline, one run and
// one figure, as the experiment stage leaves it.
func resultsPaper(t *testing.T, e *env, key, model string) (activities.PaperRef, string) {
	t.Helper()
	ref, dir := grokkingPaper(t, e, key, model)
	writeRun(t, dir, 0, 0.912)
	writeRun(t, dir, 1, 0.437)
	writeFile(t, filepath.Join(dir, "run_1.py"), "WEIGHT_DECAY = 0.1\n")
	if err := os.WriteFile(filepath.Join(dir, "val_acc_x_plus_y.png"), tinyPNG(t), 0o644); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "notes.txt"), readFile(t, filepath.Join(dir, "notes.txt"))+"\n## Run 1: WEIGHT_DECAY = 0.1\nValidation accuracy fell.\n")
	return ref, dir
}

func TestWriteBuildReviewScripted(t *testing.T) {
	needTeX(t)
	e := newEnv(t)
	ref, dir := resultsPaper(t, e, "writeup", llm.ScriptedModel)
	texPath := filepath.Join(dir, "latex", "template.tex")

	for _, sec := range activities.Sections {
		before := e.scripted.calls.Load()
		usage := mustExecute[activities.SectionResult](t, e, e.acts.WriteSection, activities.SectionInput{Paper: ref, Section: sec.Name})
		want := int32(2) // draft + refinement
		if sec.Sketch {
			want = 1 // a sketch is finished after the citations
		}
		if got := e.scripted.calls.Load() - before; got != want || usage.Usage.Calls != int(want) {
			t.Errorf("%s: %d model calls (usage %d), want %d", sec.Name, got, usage.Usage.Calls, want)
		}
		tex := readFile(t, texPath)
		if strings.Contains(tex, "\n"+sec.Placeholder+"\n") {
			t.Errorf("%s: placeholder %q still in template.tex", sec.Name, sec.Placeholder)
		}
		if !exists(filepath.Join(dir, "writeup", "transcript_"+strings.ToLower(strings.ReplaceAll(sec.Name, " ", "_"))+".md")) {
			t.Errorf("%s: no transcript", sec.Name)
		}
	}
	tex := readFile(t, texPath)
	if !strings.Contains(tex, `\title{`+testIdea.Title+`}`) {
		t.Errorf("title not filled in")
	}
	for _, want := range []string{scripted.Disclaimer, "0.912", "0.437", `\includegraphics[width=0.8\linewidth]{val_acc_x_plus_y.png}`} {
		if !strings.Contains(tex, want) {
			t.Errorf("template.tex lacks %q", want)
		}
	}
	if regexp.MustCompile(`(?m)^[A-Z ]+ HERE$`).MatchString(tex) {
		t.Error("template.tex still has placeholders")
	}
	// Every citation uses a key of the skeleton's bibliography.
	have := map[string]bool{}
	for _, k := range latex.BibKeys(tex) {
		have[k] = true
	}
	for _, k := range latex.CiteKeys(tex) {
		if !have[k] {
			t.Errorf("cites unknown key %q", k)
		}
	}
	var st struct {
		Title    string            `json:"title"`
		Sections map[string]string `json:"sections"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "writeup", "state.json"))), &st); err != nil {
		t.Fatal(err)
	}
	if st.Title != testIdea.Title || len(st.Sections) != len(activities.Sections) {
		t.Errorf("state.json: title %q, %d sections", st.Title, len(st.Sections))
	}

	// A written section is not asked for again, and re-rendering keeps the paper.
	before := e.scripted.calls.Load()
	if u := mustExecute[activities.SectionResult](t, e, e.acts.WriteSection, activities.SectionInput{Paper: ref, Section: "Method"}); u.Usage.Calls != 0 {
		t.Errorf("rewriting Method cost %d calls", u.Usage.Calls)
	}
	if e.scripted.calls.Load() != before || readFile(t, texPath) != tex {
		t.Error("repeating a written section called the model or changed template.tex")
	}

	// The final pass: one call a section, the whole paper in view; the
	// Related Work's plan comments go, and every section keeps its place.
	for _, sec := range activities.Sections {
		u := mustExecute[activities.SectionResult](t, e, e.acts.WriteSection, activities.SectionInput{Paper: ref, Section: sec.Name, Pass: activities.PassFinal})
		if u.Usage.Calls != 1 || u.Note != "" {
			t.Errorf("final %s: %d calls, note %q", sec.Name, u.Usage.Calls, u.Note)
		}
	}
	tex = readFile(t, texPath)
	if strings.Contains(tex, "% Plan:") || !strings.Contains(tex, `\title{`+testIdea.Title+`}`) || !strings.Contains(tex, "0.912") {
		t.Errorf("after the final pass template.tex has the plan, lost its title or its results:\n%s", tex)
	}
	transcript := readFile(t, filepath.Join(dir, "writeup", "transcript_final_results.md"))
	if !strings.Contains(transcript, "## Second refinement: Results\nHere is the whole paper") || !strings.Contains(transcript, `\section{Method}`) {
		t.Error("the final pass did not show the whole paper")
	}

	// The scripted draft states a number no run produced: the check finds
	// it, the writer removes it, the check passes.
	nr := mustExecute[activities.NumbersResult](t, e, e.acts.CheckNumbers, activities.NumbersInput{Paper: ref, Round: 1})
	if nr.Unmatched != 1 || !strings.Contains(nr.Summary, "0.8642") || nr.Checked < 5 {
		t.Fatalf("numbers check = %+v, want the one invented number", nr)
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, "writeup", "numbers.json")), `"match": "unmatched"`) {
		t.Error("numbers.json does not record the unmatched number")
	}
	fix := mustExecute[activities.CoderTurnResult](t, e, e.acts.CoderTurn, activities.CoderTurnInput{Paper: ref, Conversation: activities.ConvWriter,
		TurnID: "numbers-round1", Kind: activities.KindNumbers, Attempt: 1, MaxAttempts: 2})
	if !fix.Applied {
		t.Fatalf("numbers fix not applied: %+v", fix)
	}
	if nr := mustExecute[activities.NumbersResult](t, e, e.acts.CheckNumbers, activities.NumbersInput{Paper: ref, Round: 2}); nr.Unmatched != 0 {
		t.Fatalf("after the fix: %+v", nr)
	}

	// Its Method has a LaTeX error: the build reports it, the writer fixes it.
	res := mustExecute[activities.BuildResult](t, e, e.acts.BuildPDF, activities.BuildInput{Paper: ref, Round: 1})
	if res.OK || res.PDF == "" || !strings.Contains(readText(filepath.Join(dir, "latex", "problems.txt")), "emphh") {
		t.Fatalf("first build = %+v, want a PDF with the undefined \\emphh reported", res)
	}
	lfix := mustExecute[activities.CoderTurnResult](t, e, e.acts.CoderTurn, activities.CoderTurnInput{Paper: ref, Conversation: activities.ConvWriter,
		TurnID: "latex-round1", Kind: activities.KindLatexFix, Attempt: 1, MaxAttempts: 5})
	if !lfix.Applied {
		t.Fatalf("LaTeX fix not applied: %+v", lfix)
	}
	res = mustExecute[activities.BuildResult](t, e, e.acts.BuildPDF, activities.BuildInput{Paper: ref, Round: 2})
	if !res.OK || res.Problems != 0 {
		t.Fatalf("BuildPDF = %+v\nproblems.txt:\n%s", res, readText(filepath.Join(dir, "latex", "problems.txt")))
	}
	if want := filepath.Join(dir, ref.Name+".pdf"); res.PDF != want {
		t.Errorf("PDF = %q, want %q", res.PDF, want)
	}
	if b, err := os.ReadFile(res.PDF); err != nil || !strings.HasPrefix(string(b), "%PDF") {
		t.Fatalf("no PDF at %s: %v", res.PDF, err)
	}
	if exists(filepath.Join(dir, "latex", "problems.txt")) {
		t.Error("problems.txt left behind after a clean build")
	}

	rev := reviewAll(t, e, activities.ReviewInput{Paper: ref, Spec: single})
	b := readFile(t, filepath.Join(dir, "review.json"))
	r, err := paper.ParseReview(b)
	if err != nil {
		t.Fatalf("review.json does not parse: %v\n%s", err, b)
	}
	if rev.Overall != r.Overall || rev.Decision != r.Decision || rev.Decision != "Reject" || rev.Usage.Calls != 1 {
		t.Errorf("ReviewPaper = %+v, review.json = %+v", rev, r)
	}
	// The scripted reviewer quotes the first line of the PDF's text: the title.
	if !strings.Contains(r.Summary, "Weight Decay") {
		t.Errorf("review summary does not quote the paper: %q", r.Summary)
	}
	// review.txt is exactly the review JSON, as the reference's notebooks json.load it.
	var asJSON map[string]any
	if txt := readFile(t, filepath.Join(dir, "review.txt")); json.Unmarshal([]byte(txt), &asJSON) != nil || asJSON["Overall"] != float64(3) {
		t.Errorf("review.txt is not the review JSON: %q", firstLine(txt))
	}
	// A stored review is returned without asking again.
	before = e.scripted.calls.Load()
	again := reviewAll(t, e, activities.ReviewInput{Paper: ref, Spec: single})
	if again.Overall != rev.Overall || e.scripted.calls.Load() != before {
		t.Errorf("repeat review = %+v after %d new calls", again, e.scripted.calls.Load()-before)
	}
}

// Every section's first request should be answered with a section: the
// step header must start the message. WriteSection prepends "Paper title:"
// to every prompt after the title is known, so the scripted model does not
// recognise the step and only the refinement produces text (see report).
func TestWriteSectionPromptStartsWithHeader(t *testing.T) {
	f := constant(t, "THOUGHT: x\n\nTITLE: A Title\n\n```latex\nBody text.\n```\n")
	e := newEnv(t, withFake(f))
	ref, _ := resultsPaper(t, e, "hdr", fakeModelName)
	for _, sec := range activities.Sections[:3] {
		mustExecute[activities.SectionResult](t, e, e.acts.WriteSection, activities.SectionInput{Paper: ref, Section: sec.Name})
	}
	var systems []string
	for i := 0; i < f.calls(); i++ {
		msgs := f.request(i).Messages
		if last := msgs[len(msgs)-1].Content; !strings.HasPrefix(last, "## ") {
			t.Errorf("request %d: user message starts %q, want a \"## \" step header", i, firstLine(last))
		}
		if strings.Contains(msgs[1].Content, "Results of every run") {
			t.Errorf("request %d repeats the paper's material in the user message", i)
		}
		systems = append(systems, msgs[0].Content)
	}
	// Once the title is settled every section shares one system prompt with
	// the paper's material: the stable prefix prompt caches serve again.
	if len(systems) < 4 || !strings.Contains(systems[2], "Results of every run") || systems[2] != systems[len(systems)-1] {
		t.Errorf("the sections after the title do not share one system prompt holding the paper's material (%d requests)", len(systems))
	}
}

func TestWriteSectionFakeModel(t *testing.T) {
	tests := []struct {
		name      string
		replies   []string
		section   string
		wantErr   bool
		wantBody  string
		wantTitle string
		wantCalls int
	}{
		{
			name:      "title and abstract",
			section:   activities.TitleAbstract,
			replies:   []string{"THOUGHT: x\nTITLE: Draft\n```latex\nDraft abstract.\n```", "THOUGHT: y\n**TITLE:** Final Title\n\n```latex\n\\begin{abstract}\nFinal abstract.\n\\end{abstract}\n```"},
			wantBody:  "Final abstract.",
			wantTitle: `\title{Final Title}`,
			wantCalls: 2,
		},
		{
			name:      "unusable refinement keeps the draft",
			section:   "Method",
			replies:   []string{"```latex\n\\section{Method}\nDraft method.\n```", "I think it is fine."},
			wantBody:  "Draft method.",
			wantCalls: 2 + activities.MaxReasks, // the refinement is re-asked, then dropped
		},
		{
			name:      "no latex at all",
			section:   "Method",
			replies:   []string{"no block", "still no block"},
			wantErr:   true,
			wantCalls: 1 + activities.MaxReasks, // the draft never parses: no refinement
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Past the list, the last reply repeats.
			f := newFakeModel(t, func(n int, _ openai.ChatCompletionRequest) fakeReply {
				return fakeReply{Content: tt.replies[min(n, len(tt.replies))-1]}
			})
			e := newEnv(t, withFake(f))
			ref, dir := resultsPaper(t, e, "fw", fakeModelName)
			_, err := execute[activities.SectionResult](t, e, e.acts.WriteSection, activities.SectionInput{Paper: ref, Section: tt.section})
			if f.calls() != tt.wantCalls {
				t.Errorf("model calls = %d, want %d", f.calls(), tt.wantCalls)
			}
			if tt.wantErr {
				wantFinal(t, err, activities.ErrTypeUnparsable)
				if exists(filepath.Join(dir, "writeup", "state.json")) {
					t.Error("a failed section was recorded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tex := readFile(t, filepath.Join(dir, "latex", "template.tex"))
			if !strings.Contains(tex, tt.wantBody) || strings.Contains(tex, `\section{Method}`+"\nDraft") {
				t.Errorf("template.tex lacks %q or kept the model's \\section line", tt.wantBody)
			}
			if tt.wantTitle != "" && !strings.Contains(tex, tt.wantTitle) {
				t.Errorf("template.tex lacks %q", tt.wantTitle)
			}
			if strings.Count(tex, `\begin{abstract}`) > 1 {
				t.Error("the model's abstract environment was nested into the skeleton's")
			}
			// The prompt offers exactly what the workspace has.
			prompt := f.request(0).Messages[0].Content + f.request(0).Messages[1].Content
			for _, want := range []string{"Figures available: val_acc_x_plus_y.png\n", "power2022grokking", `"run_1"`, "0.437", "Validation accuracy fell."} {
				if !strings.Contains(prompt, want) {
					t.Errorf("section prompt lacks %q", want)
				}
			}
		})
	}

	t.Run("unknown section", func(t *testing.T) {
		e := newEnv(t)
		ref, _ := resultsPaper(t, e, "unk", llm.ScriptedModel)
		_, err := execute[activities.SectionResult](t, e, e.acts.WriteSection, activities.SectionInput{Paper: ref, Section: "Appendix Z"})
		wantFinal(t, err, activities.ErrTypeBadInput)
	})
}

const brokenTex = `\documentclass{article}
\begin{document}
Fine line.
\thismacroisnotdefined{x}
\end{document}
`

// fatalTex stops pdflatex before any page: no PDF at all.
const fatalTex = `\documentclass{article}
\begin{document}
\input{no_such_input_file}
\end{document}
`

func TestBuildPDFMini(t *testing.T) {
	needTeX(t)
	tests := []struct {
		name         string
		tex          string
		stalePDF     bool
		wantOK       bool
		wantPDF      bool
		wantProblems []string
	}{
		{name: "clean document", tex: cleanTex, wantOK: true, wantPDF: true},
		{name: "undefined control sequence: built with problems", tex: brokenTex, stalePDF: true, wantPDF: true, wantProblems: []string{"Line 4", "Undefined control sequence", `\thismacroisnotdefined`}},
		{name: "a fatal error: no PDF, and a stale one does not survive", tex: fatalTex, stalePDF: true, wantProblems: []string{"no_such_input_file"}},
		{name: "unknown citation", tex: strings.Replace(cleanTex, `\cite{knuth1984}`, `\cite{nobody2020}`, 1), wantPDF: true, wantProblems: []string{"nobody2020"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, withTemplates(miniTemplate(t, tt.tex)))
			ref, dir := miniPaper(t, e, "build")
			pdf := filepath.Join(dir, ref.Name+".pdf")
			if tt.stalePDF {
				writeFile(t, pdf, "%PDF-1.4 stale")
			}
			res := mustExecute[activities.BuildResult](t, e, e.acts.BuildPDF, activities.BuildInput{Paper: ref, Round: 1})
			if res.OK != tt.wantOK {
				t.Errorf("OK = %v, want %v (%+v)", res.OK, tt.wantOK, res)
			}
			if (res.PDF != "") != tt.wantPDF {
				t.Errorf("PDF = %q, want present=%v", res.PDF, tt.wantPDF)
			}
			if tt.wantPDF && res.PDF != pdf {
				t.Errorf("PDF = %q, want %q", res.PDF, pdf)
			}
			if !tt.wantPDF && exists(pdf) {
				t.Error("a stale PDF survived a failed build")
			}
			problems := filepath.Join(dir, "latex", "problems.txt")
			if len(tt.wantProblems) == 0 {
				if exists(problems) || res.Problems != 0 || res.Summary != "" {
					t.Errorf("clean build reported problems: %+v", res)
				}
				return
			}
			if res.Problems == 0 || res.Summary == "" {
				t.Errorf("result = %+v, want problems and a summary", res)
			}
			text := readFile(t, problems)
			for _, want := range tt.wantProblems {
				if !strings.Contains(text, want) {
					t.Errorf("problems.txt lacks %q:\n%s", want, text)
				}
			}
		})
	}

	t.Run("fix round clears problems.txt", func(t *testing.T) {
		e := newEnv(t, withTemplates(miniTemplate(t, brokenTex)))
		ref, dir := miniPaper(t, e, "fix")
		if res := mustExecute[activities.BuildResult](t, e, e.acts.BuildPDF, activities.BuildInput{Paper: ref, Round: 1}); res.OK {
			t.Fatal("broken document built")
		}
		writeFile(t, filepath.Join(dir, "latex", "template.tex"), cleanTex)
		res := mustExecute[activities.BuildResult](t, e, e.acts.BuildPDF, activities.BuildInput{Paper: ref, Round: 2})
		if !res.OK || exists(filepath.Join(dir, "latex", "problems.txt")) {
			t.Errorf("after the fix: %+v, problems.txt present=%v", res, exists(filepath.Join(dir, "latex", "problems.txt")))
		}
	})
	t.Run("missing template.tex", func(t *testing.T) {
		e := newEnv(t, withTemplates(miniTemplate(t, "")))
		ref, dir := miniPaper(t, e, "gone")
		_ = os.Remove(filepath.Join(dir, "latex", "template.tex"))
		_, err := execute[activities.BuildResult](t, e, e.acts.BuildPDF, activities.BuildInput{Paper: ref})
		wantFinal(t, err, activities.ErrTypeMissingInput)
	})
}

func TestReviewPaperFakeModel(t *testing.T) {
	needTeX(t)
	goodReview := func() string {
		return "THOUGHT: ok\n\nREVIEW JSON:\n```json\n" + `{"Summary": "s", "Strengths": "one paragraph", "Weaknesses": ["w"], "Originality": 3, "Quality": 3, "Clarity": 3, "Significance": 2, "Questions": [], "Limitations": [], "Ethical Concerns": false, "Soundness": 3, "Presentation": 3, "Contribution": 2, "Overall": 6, "Confidence": 4, "Decision": "Accept"}` + "\n```\n"
	}
	tests := []struct {
		name      string
		replies   []string
		wantErr   bool
		wantCalls int
	}{
		{"prose three times", []string{"A lovely paper.", "Really lovely.", "I insist, lovely."}, true, 3},
		{"out of range then valid", []string{strings.Replace(goodReview(), `"Overall": 6`, `"Overall": 11`, 1), goodReview()}, false, 2},
		{"valid at once", []string{goodReview()}, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeModel(t, func(n int, _ openai.ChatCompletionRequest) fakeReply { return fakeReply{Content: tt.replies[n-1]} })
			e := newEnv(t, withFake(f), withTemplates(miniTemplate(t, "")))
			ref, dir := miniPaper(t, e, "rev")
			ref.Model = fakeModelName
			if res := mustExecute[activities.BuildResult](t, e, e.acts.BuildPDF, activities.BuildInput{Paper: ref}); !res.OK {
				t.Fatalf("could not build the paper to review: %+v", res)
			}
			res, err := reviewErr(t, e, activities.ReviewInput{Paper: ref, Spec: single})
			if f.calls() != tt.wantCalls {
				t.Errorf("model calls = %d, want %d", f.calls(), tt.wantCalls)
			}
			if !strings.Contains(f.request(0).Messages[1].Content, "Hello world") {
				t.Error("the review prompt does not carry the PDF's text")
			}
			if tt.wantErr {
				wantFinal(t, err, activities.ErrTypeUnparsable)
				if exists(filepath.Join(dir, "review.json")) {
					t.Error("review.json written for an unusable review")
				}
				if !exists(filepath.Join(dir, "reviews", "review", "member_0_transcript.md")) {
					t.Error("no review transcript for the failed review")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Overall != 6 || res.Decision != "Accept" || res.Usage.Calls != tt.wantCalls {
				t.Errorf("result = %+v", res)
			}
			if r, err := paper.ParseReview(readFile(t, filepath.Join(dir, "review.json"))); err != nil || len(r.Strengths) != 1 {
				t.Errorf("review.json: %+v, %v", r, err)
			}
		})
	}

	t.Run("reviewer model overrides the paper's", func(t *testing.T) {
		f := constant(t, goodReview())
		e := newEnv(t, withFake(f), withTemplates(miniTemplate(t, "")))
		ref, _ := miniPaper(t, e, "rev")
		mustExecute[activities.BuildResult](t, e, e.acts.BuildPDF, activities.BuildInput{Paper: ref})
		reviewAll(t, e, activities.ReviewInput{Paper: ref, Spec: activities.ReviewSpec{Model: "reviewer-x", Ensemble: 1, Reflections: -1, FewShot: -1}})
		if f.calls() != 1 || f.request(0).Model != "reviewer-x" {
			t.Errorf("reviewer model not used: %d calls", f.calls())
		}
		if e.scripted.calls.Load() != 0 {
			t.Error("the paper's scripted model was asked to review")
		}
	})
	t.Run("no PDF", func(t *testing.T) {
		e := newEnv(t, withTemplates(miniTemplate(t, "")))
		ref, _ := miniPaper(t, e, "nopdf")
		_, err := execute[activities.MemberResult](t, e, e.acts.ReviewMember, activities.ReviewInput{Paper: ref, Spec: single})
		wantFinal(t, err, activities.ErrTypeMissingInput)
	})
}

// single is one review without reflections or examples: one call.
var single = activities.ReviewSpec{Ensemble: 1, Reflections: -1, FewShot: -1}

// reviewErr runs a review as the workflow does, members one after another:
// each member, then the meta-review of those that succeeded.
func reviewErr(t *testing.T, e *env, in activities.ReviewInput) (activities.ReviewResult, error) {
	t.Helper()
	var members []int
	var usage llm.Usage
	var firstErr error
	for i := 0; i < in.Spec.Defaults().Ensemble; i++ {
		in.Member = i
		m, err := execute[activities.MemberResult](t, e, e.acts.ReviewMember, in)
		usage = usage.Add(m.Usage)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		members = append(members, i)
	}
	if len(members) == 0 {
		return activities.ReviewResult{Metered: activities.Metered{Usage: usage}}, firstErr
	}
	res, err := execute[activities.ReviewResult](t, e, e.acts.MetaReview, activities.MetaInput{ReviewInput: in, Members: members})
	res.Usage = res.Usage.Add(usage)
	return res, err
}

func reviewAll(t *testing.T, e *env, in activities.ReviewInput) activities.ReviewResult {
	t.Helper()
	res, err := reviewErr(t, e, in)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func readText(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// TestBuildPDFKeepsLastPDF: a round that builds no PDF keeps the PDF of
// the round before, with its source.
func TestBuildPDFKeepsLastPDF(t *testing.T) {
	needTeX(t)
	e := newEnv(t, withTemplates(miniTemplate(t, cleanTex)))
	ref, dir := miniPaper(t, e, "keep")
	first := mustExecute[activities.BuildResult](t, e, e.acts.BuildPDF, activities.BuildInput{Paper: ref, Round: 1})
	if !first.OK || first.Earlier {
		t.Fatalf("first build = %+v", first)
	}
	writeFile(t, filepath.Join(dir, "latex", "template.tex"), fatalTex)
	second := mustExecute[activities.BuildResult](t, e, e.acts.BuildPDF, activities.BuildInput{Paper: ref, Round: 2})
	if second.OK || !second.Earlier || second.PDF != first.PDF || !exists(first.PDF) {
		t.Fatalf("second build = %+v, want the first PDF kept", second)
	}
	if got := readFile(t, filepath.Join(dir, "latex", "pdf_source.tex")); got != cleanTex {
		t.Errorf("pdf_source.tex is not the source of the kept PDF:\n%s", got)
	}
}

// TestRetryPaysOnce: a section whose refinement call fails after the
// draft arrived is retried without paying for the draft again; the call
// ledger shows the replay as free, and the replies are gone once the
// section is written.
func TestRetryPaysOnce(t *testing.T) {
	draft := "THOUGHT: a draft.\n```latex\nDraft of the method.\n```\n"
	final := "THOUGHT: refined.\n```latex\nThe refined method.\n```\n"
	var asked []string
	f := newFakeModel(t, func(n int, req openai.ChatCompletionRequest) fakeReply {
		last := req.Messages[len(req.Messages)-1].Content
		asked = append(asked, last[:min(len(last), 20)])
		switch n {
		case 1:
			return fakeReply{Content: draft}
		case 2:
			return fakeReply{Status: http.StatusServiceUnavailable} // the provider has a bad moment
		}
		return fakeReply{Content: final}
	})
	e := newEnv(t, withFake(f))
	ref, dir := resultsPaper(t, e, "payonce", fakeModelName)
	in := activities.SectionInput{Paper: ref, Section: "Method"}
	if _, err := execute[activities.SectionResult](t, e, e.acts.WriteSection, in); err == nil {
		t.Fatal("the first attempt should fail on the 503")
	}
	saved, _ := filepath.Glob(filepath.Join(dir, activities.RepliesDir, "*", "*", "*.json"))
	if len(saved) != 1 {
		t.Fatalf("checkpointed replies after the failure: %v, want the draft's", saved)
	}
	res := mustExecute[activities.SectionResult](t, e, e.acts.WriteSection, in) // Temporal's retry
	if f.calls() != 3 {
		t.Errorf("the provider was asked %d times (%q), want 3: draft, failed refinement, refinement", f.calls(), asked)
	}
	if res.Usage.Calls != 1 {
		t.Errorf("the retry paid for %d calls, want 1 (the draft is replayed)", res.Usage.Calls)
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, "latex", "template.tex")), "The refined method.") {
		t.Error("the refined section is not in the paper")
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, "logs", "calls.jsonl")), `"replayed":true`) {
		t.Error("the ledger does not show the replayed draft")
	}
	if exists(filepath.Join(dir, activities.RepliesDir)) {
		t.Error("checkpointed replies stay after the section was written")
	}
}
