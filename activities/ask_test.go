package activities_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
)

// reviewReply is a review reply whose form is valid for overall in 1..10.
func reviewReply(overall int) string {
	return "THOUGHT: ok\n\nREVIEW JSON:\n```json\n" + fmt.Sprintf(`{"Summary": "s", "Strengths": ["s"], "Weaknesses": ["w"], "Originality": 3, "Quality": 3, "Clarity": 3, "Significance": 2, "Questions": [], "Limitations": [], "Ethical Concerns": false, "Soundness": 3, "Presentation": 3, "Contribution": 2, "Overall": %d, "Confidence": 4, "Decision": "Reject"}`, overall) + "\n```\n"
}

// badFirst replies bad n times, then good for ever.
func badFirst(t *testing.T, n int, bad, good string) *fakeModel {
	return newFakeModel(t, func(i int, _ openai.ChatCompletionRequest) fakeReply {
		if i <= n {
			return fakeReply{Content: bad}
		}
		return fakeReply{Content: good}
	})
}

// reviewEnv builds a mini paper's PDF for the fake model to review.
func reviewEnv(t *testing.T, f *fakeModel) (*env, activities.PaperRef, string) {
	t.Helper()
	needTeX(t)
	e := newEnv(t, withFake(f), withTemplates(miniTemplate(t, "")))
	ref, dir := miniPaper(t, e, "rev")
	ref.Model = fakeModelName
	if res := mustExecute[activities.BuildResult](t, e, e.acts.BuildPDF, activities.BuildInput{Paper: ref}); !res.OK {
		t.Fatalf("could not build the paper to review: %+v", res)
	}
	return e, ref, dir
}

// TestAskReasks runs every activity that parses a reply through replies that
// parse at once, after one or two re-asks, or never.
func TestAskReasks(t *testing.T) {
	kinds := []struct {
		name      string
		good, bad string
		what      string // names the request in the final error
		fixHeader string // step header of the correction
		wantInFix string // part of the parse error the correction quotes
		after     int    // calls after the accepted reply
		run       func(t *testing.T, f *fakeModel) (llm.Usage, error)
	}{
		{
			name: "idea", good: ideaReply("good_idea", ""), bad: strings.Replace(ideaReply("bad_idea", ""), `"Feasibility": 8`, `"Feasibility": 11`, 1),
			what: "idea 0 round 1", fixHeader: "## Idea reflection", wantInFix: "Feasibility must be an integer from 1 to 10, got 11",
			run: func(t *testing.T, f *fakeModel) (llm.Usage, error) {
				e := newEnv(t, withFake(f))
				res, err := execute[activities.IdeaResult](t, e, e.acts.GenerateIdea, activities.IdeaInput{CampaignKey: "grokking/ask", Template: "grokking", Model: fakeModelName, Reflections: 1})
				if err == nil && res.Idea.Name != "good_idea" {
					t.Errorf("idea = %q, want good_idea", res.Idea.Name)
				}
				return res.Usage, err
			},
		},
		{
			name: "review", good: reviewReply(4), bad: reviewReply(11),
			what: "review 1 of 1", fixHeader: "## Review", wantInFix: "Overall must be an integer from 1 to 10, got 11",
			run: func(t *testing.T, f *fakeModel) (llm.Usage, error) {
				e, ref, _ := reviewEnv(t, f)
				res, err := execute[activities.MemberResult](t, e, e.acts.ReviewMember, activities.ReviewInput{Paper: ref, Spec: single})
				if err == nil && res.Overall != 4 {
					t.Errorf("overall = %d, want 4", res.Overall)
				}
				return res.Usage, err
			},
		},
		{
			name: "section", good: "THOUGHT: x\n```latex\nMethod text.\n```\n", bad: "THOUGHT: The section is fine as it is.",
			what: "section Method", fixHeader: "## Write section: Method", wantInFix: "no fenced latex block",
			after: 1, // the refinement
			run: func(t *testing.T, f *fakeModel) (llm.Usage, error) {
				e := newEnv(t, withFake(f))
				ref, dir := resultsPaper(t, e, "ask", fakeModelName)
				u, err := execute[activities.SectionResult](t, e, e.acts.WriteSection, activities.SectionInput{Paper: ref, Section: "Method"})
				if err == nil && !strings.Contains(readFile(t, filepath.Join(dir, "latex", "template.tex")), "Method text.") {
					t.Error("template.tex lacks the section")
				}
				if err != nil && exists(filepath.Join(dir, "writeup", "state.json")) {
					t.Error("a failed section was recorded")
				}
				return u.Usage, err
			},
		},
	}
	for _, k := range kinds {
		for bad := 0; bad <= activities.MaxReasks+1; bad++ {
			t.Run(fmt.Sprintf("%s/%d bad", k.name, bad), func(t *testing.T) {
				f := badFirst(t, bad, k.bad, k.good)
				u, err := k.run(t, f)
				if bad > activities.MaxReasks {
					ae := wantFinal(t, err, activities.ErrTypeUnparsable)
					want := fmt.Sprintf("%s: no usable reply in %d tries: ", k.what, activities.MaxReasks+1)
					if !strings.Contains(ae.Error(), want) || !strings.Contains(ae.Error(), k.wantInFix) {
						t.Errorf("error %q, want %q and the parse error %q", ae.Error(), want, k.wantInFix)
					}
					if got := activities.UsageOf(err).Calls; f.calls() != activities.MaxReasks+1 || got != f.calls() {
						t.Errorf("calls = %d (usage %d), want exactly %d", f.calls(), got, activities.MaxReasks+1)
					}
				} else {
					if err != nil {
						t.Fatalf("activity failed: %v", err)
					}
					if want := bad + 1 + k.after; f.calls() != want || u.Calls != want {
						t.Errorf("calls = %d (usage %d), want %d", f.calls(), u.Calls, want)
					}
				}
				// Every re-ask carries the bad reply and a correction quoting its error.
				for i := 1; i < min(bad+1, f.calls()); i++ {
					msgs := f.request(i).Messages
					reply, fix := msgs[len(msgs)-2], msgs[len(msgs)-1]
					if reply.Role != "assistant" || reply.Content != k.bad {
						t.Errorf("re-ask %d: turn before the correction = %s %q, want the bad reply", i, reply.Role, firstLine(reply.Content))
					}
					if fix.Role != "user" || !strings.HasPrefix(fix.Content, k.fixHeader) || !strings.Contains(fix.Content, k.wantInFix) {
						t.Errorf("re-ask %d: correction = %q, want header %q and the error %q", i, fix.Content, k.fixHeader, k.wantInFix)
					}
				}
			})
		}
	}
}

// TestAskIdeaKeepsEarlierRound: a reflection that never parses keeps the
// idea of the round before and ends the reflection.
func TestAskIdeaKeepsEarlierRound(t *testing.T) {
	tests := []struct {
		name        string
		reflections int
		replies     []string // the last one repeats
		wantName    string
	}{
		{"round 2 of 2", 2, []string{ideaReply("first_idea", ""), "junk"}, "first_idea"},
		{"round 2 of 3 stops the reflection", 3, []string{ideaReply("first_idea", ""), "junk"}, "first_idea"},
		{"round 3 of 3 keeps round 2", 3, []string{ideaReply("first_idea", ""), ideaReply("second_idea", ""), "junk"}, "second_idea"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeModel(t, func(n int, _ openai.ChatCompletionRequest) fakeReply {
				return fakeReply{Content: tt.replies[min(n, len(tt.replies))-1]}
			})
			e := newEnv(t, withFake(f))
			res := mustExecute[activities.IdeaResult](t, e, e.acts.GenerateIdea, activities.IdeaInput{CampaignKey: "grokking/keep", Template: "grokking", Model: fakeModelName, Reflections: tt.reflections})
			if res.Idea.Name != tt.wantName {
				t.Errorf("idea = %q, want %q", res.Idea.Name, tt.wantName)
			}
			want := len(tt.replies) - 1 + activities.MaxReasks + 1
			if f.calls() != want || res.Usage.Calls != want {
				t.Errorf("calls = %d (usage %d), want %d", f.calls(), res.Usage.Calls, want)
			}
			var stored activities.IdeaResult
			if err := json.Unmarshal([]byte(readFile(t, filepath.Join(e.root, "campaigns", "grokking", "keep", "ideas", "000.json"))), &stored); err != nil || stored.Idea.Name != tt.wantName {
				t.Errorf("ideas/000.json = %+v, %v", stored.Idea, err)
			}
		})
	}
}

// TestAskSectionKeepsDraft: a refinement that never parses keeps the draft,
// and the transcript shows the failed tries.
func TestAskSectionKeepsDraft(t *testing.T) {
	tests := []struct {
		section   string
		draft     string
		wantBody  string
		wantTitle string
	}{
		{"Method", "THOUGHT: x\n```latex\nDraft method.\n```\n", "Draft method.", ""},
		{activities.TitleAbstract, "THOUGHT: x\nTITLE: Draft Title\n```latex\nDraft abstract.\n```\n", "Draft abstract.", "Draft Title"},
	}
	for _, tt := range tests {
		t.Run(tt.section, func(t *testing.T) {
			f := badFirst(t, 1, tt.draft, "THOUGHT: It is perfect; nothing to change.")
			e := newEnv(t, withFake(f))
			ref, dir := resultsPaper(t, e, "draft", fakeModelName)
			u := mustExecute[activities.SectionResult](t, e, e.acts.WriteSection, activities.SectionInput{Paper: ref, Section: tt.section})
			if want := 2 + activities.MaxReasks; f.calls() != want || u.Usage.Calls != want {
				t.Errorf("calls = %d (usage %d), want draft + %d refinement replies = %d", f.calls(), u.Usage.Calls, 1+activities.MaxReasks, want)
			}
			var st struct {
				Title    string            `json:"title"`
				Sections map[string]string `json:"sections"`
			}
			if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "writeup", "state.json"))), &st); err != nil {
				t.Fatal(err)
			}
			if st.Sections[tt.section] != tt.wantBody || st.Title != tt.wantTitle {
				t.Errorf("state.json: section %q, title %q; want %q, %q", st.Sections[tt.section], st.Title, tt.wantBody, tt.wantTitle)
			}
			tr := readFile(t, filepath.Join(dir, "writeup", "transcript_"+strings.ToLower(strings.ReplaceAll(tt.section, " ", "_"))+".md"))
			if n := strings.Count(tr, "## Refine section: "+tt.section+"\nYour reply could not be used"); n != activities.MaxReasks {
				t.Errorf("transcript holds %d refinement corrections, want %d", n, activities.MaxReasks)
			}
		})
	}
}

// TestAskReviewTranscriptOnFailure: an unusable review fails the stage and
// leaves the whole conversation for a person to read.
func TestAskReviewTranscriptOnFailure(t *testing.T) {
	f := constant(t, "A lovely paper; no form needed.")
	e, ref, dir := reviewEnv(t, f)
	_, err := execute[activities.MemberResult](t, e, e.acts.ReviewMember, activities.ReviewInput{Paper: ref, Spec: single})
	ae := wantFinal(t, err, activities.ErrTypeUnparsable)
	if !strings.HasPrefix(ae.Message(), fmt.Sprintf("review 1 of 1: no usable reply in %d tries: ", activities.MaxReasks+1)) {
		t.Errorf("error message = %q", ae.Message())
	}
	if exists(filepath.Join(dir, "review.json")) || exists(filepath.Join(dir, "review.txt")) {
		t.Error("a review was written for unusable replies")
	}
	tr := readFile(t, filepath.Join(dir, "reviews", "review", "member_0_transcript.md"))
	for _, c := range []struct {
		what string
		want int
	}{
		{"### assistant\n\nA lovely paper", activities.MaxReasks + 1},
		{"### user\n\n## Review\nYour review could not be used", activities.MaxReasks},
		{"### user\n\n## Review\nReview the paper below", 1},
	} {
		if n := strings.Count(tr, c.what); n != c.want {
			t.Errorf("transcript holds %q %d times, want %d", firstLine(strings.TrimPrefix(c.what, "### ")), n, c.want)
		}
	}
}
