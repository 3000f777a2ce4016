package numbers

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testValues are the results of two runs on two datasets and a few code
// settings, as LoadValues would return them.
var testValues = []Value{
	{"run_0", "x_div_y.means.final_val_acc", 0.91},
	{"run_0", "x_div_y.means.final_val_loss", -0.1234},
	{"run_0", "x_div_y.means.step_val_acc_99", 2500},
	{"run_0", "x_plus_y.means.final_val_acc", 0.97},
	{"run_0", "x_div_y.stderrs.final_val_acc", 0.0043},
	{"run_1", "x_div_y.means.final_val_acc", 0.95312},
	{"run_1", "x_div_y.means.step_val_acc_99", 1380},
	{"run_1", "x_plus_y.means.final_val_acc", 0.9961},
	{"run_1", "x_div_y.stderrs.final_val_acc", 0.0121},
	{"code", "experiment.py:WEIGHT_DECAY", 0.3},
	{"code", "experiment.py:NUM_STEPS", 7500},
	{"code", "experiment.py:LEARNING_RATE", 1e-3},
	{"code", "experiment.py:WARMUP_STEPS", 2000},
	{"code", "experiment.py:line 240", 0.995},
}

// results wraps body as the Results section of a paper, after an
// Introduction whose numbers are not checked.
func results(body string) string {
	return "\\documentclass{article}\n\\begin{document}\n\\section{Introduction}\nPrior work reached 0.777.\n" +
		"\\section{Results}\\label{sec:results}\n" + body + "\n\\section{Conclusion}\nWe reached 0.888.\n\\end{document}\n"
}

// got is the part of a Number a test states.
type got struct{ Text, Where, How, Match string }

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		tex  string
		want []got // Match: a substring of Number.Match ("unmatched" exactly)
	}{
		{
			name: "an exact match",
			tex:  results("The final validation accuracy is 0.95312."),
			want: []got{{"0.95312", "Results", HowRounded, "run_1 x_div_y.means.final_val_acc = 0.95312"}},
		},
		{
			name: "rounded to three and two decimals, and truncated",
			tex:  results("It reaches $0.953$, i.e. 0.95, and \\textbf{0.9961} rounds to 0.996 but truncates to 0.99."),
			want: []got{
				{"0.953", "Results", HowRounded, "run_1 x_div_y.means.final_val_acc"},
				{"0.95", "Results", HowRounded, "run_1 x_div_y.means.final_val_acc"},
				{"0.9961", "Results", HowRounded, "run_1 x_plus_y.means.final_val_acc"},
				{"0.996", "Results", HowRounded, "run_1 x_plus_y.means.final_val_acc"},
				{"0.99", "Results", HowRounded, "run_1 x_plus_y.means.final_val_acc = 0.9961"},
			},
		},
		{
			name: "percent forms",
			tex:  results("Accuracy is 95.3\\%, 95.3 \\%, 95.3~\\%, 95.3 percent and \\SI{95.3}{\\percent}; from 91.0 to 95.3\\%."),
			want: []got{
				{"95.3\\%", "Results", HowPercent, "run_1 x_div_y.means.final_val_acc = 0.95312 (95.312%)"},
				{"95.3 \\%", "Results", HowPercent, "run_1"},
				{"95.3~\\%", "Results", HowPercent, "run_1"},
				{"95.3 percent", "Results", HowPercent, "run_1"},
				{"95.3{\\percent}", "Results", HowPercent, "run_1"},
				{"91.0", "Results", HowPercent, "run_0 x_div_y.means.final_val_acc = 0.91 (91%)"},
				{"95.3\\%", "Results", HowPercent, "run_1"},
			},
		},
		{
			name: "a number that matches no run",
			tex:  results("Our method reaches 0.987 accuracy."),
			want: []got{{"0.987", "Results", "", NoMatch}},
		},
		{
			name: "references, citations, lengths, years, counts and identifiers are not numbers",
			tex: results(`As shown in Figure~\ref{fig:run1}, \cref{tab:2} and Eq.~\eqref{eq:12} \citep{power2022grokking,liu2023}, ` +
				`\label{fig:x_2}\includegraphics[width=0.8\linewidth]{run_1_val_acc.png} \vspace{-3pt}\hspace{0.5cm} ` +
				`since 2017 GPT-4 and ResNet-50 with L2 and fp16 on run\_1 and x\_div\_y over 3 seeds in Run 1, Figure 12, ` +
				`Section 4.2 and Table 3; a 3pt rule, 0.5\textwidth, $x^{2}$, $\beta_{2}$, the 10th step, ` +
				`\textcolor{gray!60}{} arXiv:2201.02177. % 0.123 in a comment
\begin{comment}
0.456
\end{comment}`),
			want: nil,
		},
		{
			name: "layout, drawings and software versions are not numbers",
			tex: results(`\def\arraystretch{1.2}\renewcommand{\arraystretch}{1.3}\setlength{\tabcolsep}{4pt}\rowcolor{gray!20}` +
				`\fontsize{9}{11}\selectfont\rule{0pt}{2.5ex}\\[-2pt]\begin{tikzpicture}\draw (0,0.5) -- (1,0.75);\end{tikzpicture}` +
				`\begin{minipage}{.48\linewidth}\end{minipage} Python 3.10, PyTorch 2.1.0, \url{https://x.org/0.95}.`),
			want: nil,
		},
		{
			name: "ranges and signs",
			tex:  results("Between 1.7--1.8x faster and 44--45\\% fewer steps; the loss is $-$0.12."),
			want: []got{
				{"1.7", "Results", "", NoMatch},
				{"1.8x", "Results", HowRatio, "run_0 / run_1 x_div_y.means.step_val_acc_99"},
				{"44", "Results", HowRelative, "-44.8%"}, // truncated
				{"45\\%", "Results", HowRelative, "step_val_acc_99"},
				{"-0.12", "Results", HowRounded, "run_0 x_div_y.means.final_val_loss"},
			},
		},
		{
			name: "table cells, inside and outside Results",
			tex: "\\begin{document}\n\\section{Method}\n\\begin{tabular}{@{}lcc@{}}\n\\toprule\n\\multicolumn{3}{c}{Runs} \\\\\n" +
				"\\cmidrule(lr){2-3}\\cline{2-3}\nrun\\_0 & 0.910 & 2{,}500 \\\\\n\\end{tabular}\n" +
				"\\section{Results}\n\\begin{table}[t]\n\\begin{tabular}{lr}\nOurs & \\textbf{95.3} \\\\[2pt]\n\\end{tabular}\n\\end{table}\n\\end{document}\n",
			want: []got{
				{"0.910", "table", HowRounded, "run_0 x_div_y.means.final_val_acc = 0.91"},
				{"2{,}500", "table", HowRounded, "run_0 x_div_y.means.step_val_acc_99 = 2500"},
				{"95.3", "Results table", HowPercent, "run_1 x_div_y.means.final_val_acc"},
			},
		},
		{
			name: "a difference and a relative change",
			tex:  results("Validation accuracy improves by 0.0431, i.e. 4.3 percentage points (4.7\\% relative); grokking needs 44.8\\% fewer steps."),
			want: []got{
				{"0.0431", "Results", HowDifference, "run_1 - run_0 x_div_y.means.final_val_acc = 0.95312 - 0.91 = 0.04312"},
				{"4.3 percentage points", "Results", HowDifference, "= 4.312 percentage points"},
				{"4.7\\%", "Results", HowRelative, "(run_1 - run_0) / run_0 x_div_y.means.final_val_acc"},
				{"44.8\\%", "Results", HowRelative, "(run_1 - run_0) / run_0 x_div_y.means.step_val_acc_99 = (1380 - 2500) / 2500 = -44.8%"},
			},
		},
		{
			name: "a ratio, and one with one significant digit that is not derived",
			tex:  results("Grokking is $1.81\\times$ faster, a 1.8-fold speedup, and 5.0\\% is not 4.7\\% but 5\\% could be."),
			want: []got{
				{"1.81\\times", "Results", HowRatio, "run_0 / run_1 x_div_y.means.step_val_acc_99 = 2500 / 1380 = 1.81159"},
				{"1.8-fold", "Results", HowRatio, "run_0 / run_1"},
				{"5.0\\%", "Results", "", NoMatch},
				{"4.7\\%", "Results", HowRelative, "run_0"},
				{"5\\%", "Results", "", NoMatch},
			},
		},
		{
			name: "code settings",
			tex:  results("We use a weight decay of 0.3, 7500 steps and a threshold of 99.5\\%; the learning rate is $10^{-3}$."),
			want: []got{
				{"0.3", "Results", HowCode, "code experiment.py:WEIGHT_DECAY = 0.3"},
				{"7500", "Results", HowCode, "code experiment.py:NUM_STEPS = 7500"},
				{"99.5\\%", "Results", HowCode, "code experiment.py:line 240 = 0.995 (99.5%)"},
				{"10^{-3}", "Results", HowCode, "code experiment.py:LEARNING_RATE = 0.001"},
			},
		},
		{
			name: "thousands separators and round numbers",
			tex:  results("Training runs for 7,500 steps (7{,}500, 7\\,500, 7.5k); grokking takes 1,380 steps, about 1,400, not 1,500."),
			want: []got{
				{"7,500", "Results", HowCode, "NUM_STEPS"},
				{"7{,}500", "Results", HowCode, "NUM_STEPS"},
				{"7\\,500", "Results", HowCode, "NUM_STEPS"},
				{"7.5k", "Results", HowCode, "NUM_STEPS"},
				{"1,380", "Results", HowRounded, "run_1 x_div_y.means.step_val_acc_99 = 1380"},
				{"1,400", "Results", HowRounded, "run_1 x_div_y.means.step_val_acc_99 = 1380"},
				{"1,500", "Results", "", NoMatch},
			},
		},
		{
			name: "scientific notation",
			tex:  results("Learning rates 1e-3, $1 \\times 10^{-3}$, 1\\times10^{-3} and $2 \\cdot 10^{-3}$."),
			want: []got{
				{"1e-3", "Results", HowCode, "LEARNING_RATE"},
				{"1 \\times 10^{-3}", "Results", HowCode, "LEARNING_RATE"},
				{"1\\times10^{-3}", "Results", HowCode, "LEARNING_RATE"},
				{"2 \\cdot 10^{-3}", "Results", "", NoMatch},
			},
		},
		{
			name: "negative numbers",
			tex:  results("The loss is $-0.12$ (−0.123), never 0.12."),
			want: []got{
				{"-0.12", "Results", HowRounded, "run_0 x_div_y.means.final_val_loss"},
				{"−0.123", "Results", HowRounded, "run_0 x_div_y.means.final_val_loss"},
				{"0.12", "Results", "", NoMatch},
			},
		},
		{
			name: "uncertainties match standard errors or are not counted",
			tex:  results("Accuracy is $0.953 \\pm 0.012$ and $0.910 \\pm 0.050$, or $95.3 \\pm 1.2$ and 91.0 $\\pm$ 0.4."),
			want: []got{
				{"0.953", "Results", HowRounded, "run_1"},
				{"0.012", "Results", HowUncertainty, "run_1 x_div_y.stderrs.final_val_acc = 0.0121"},
				{"0.910", "Results", HowRounded, "run_0"},
				{"0.050", "Results", HowUncertainty, UncheckedUncertainty},
				{"95.3", "Results", HowPercent, "run_1"},
				{"1.2", "Results", HowUncertainty, "run_1 x_div_y.stderrs.final_val_acc = 0.0121 (1.21%)"},
				{"91.0", "Results", HowPercent, "run_0"},
				{"0.4", "Results", HowUncertainty, "run_0 x_div_y.stderrs.final_val_acc = 0.0043 (0.43%)"}, // a percent after a percent
			},
		},
		{
			name: "mean over datasets",
			tex:  results("On average over datasets the baseline reaches 0.940 and ours 97.46\\%."),
			want: []got{
				{"0.940", "Results", HowMean, "run_0 mean of final_val_acc over 2 datasets = 0.94"},
				{"97.46\\%", "Results", HowMean, "run_1 mean of final_val_acc over 2 datasets"},
			},
		},
		{
			name: "without a Results section, the Experiments section holds the results",
			tex: "\\begin{document}\n\\section{Experimental Setup}\n0.42\n\\section{Experiments}\nOurs: 0.953.\n" +
				"\\section{Conclusion}\n0.44\n\\end{document}\n",
			want: []got{{"0.953", "Results", HowRounded, "run_1"}},
		},
		{
			name: "years are checked but dropped when they match nothing",
			tex:  results("Since 2017 warmup lasts 2000 steps."),
			want: []got{{"2000", "Results", HowCode, "WARMUP_STEPS"}},
		},
		{
			name: "the abstract and Results and Discussion; other sections are not checked",
			tex: "\\begin{document}\n\\begin{abstract}\nWe reach 95.3\\% accuracy and 0.42 loss.\n\\end{abstract}\n\\section{Method}\n0.42\n" +
				"\\section*{Results and Discussion}\nOurs: 0.43.\n\\bibliography{refs}\n0.44\n\\end{document}\n",
			want: []got{
				{"95.3\\%", "abstract", HowPercent, "run_1"},
				{"0.42", "abstract", "", NoMatch},
				{"0.43", "Results", "", NoMatch},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Check(tt.tex, testValues)
			var gots []got
			for _, n := range r.Numbers {
				gots = append(gots, got{n.Text, n.Where, n.How, n.Match})
			}
			if len(gots) != len(tt.want) {
				t.Fatalf("got %d numbers, want %d:\n%s", len(gots), len(tt.want), dump(gots))
			}
			unmatched := 0
			for i, w := range tt.want {
				g := gots[i]
				ok := g.Text == w.Text && g.Where == w.Where && g.How == w.How
				if w.Match == NoMatch {
					ok = ok && g.Match == NoMatch
					unmatched++
				} else {
					ok = ok && strings.Contains(g.Match, w.Match)
				}
				if !ok {
					t.Errorf("number %d = %+v, want %+v", i, g, w)
				}
			}
			if r.Unmatched != unmatched {
				t.Errorf("Unmatched = %d, want %d", r.Unmatched, unmatched)
			}
		})
	}
}

func dump(gs []got) string {
	var b strings.Builder
	for _, g := range gs {
		b.WriteString("  " + g.Text + " | " + g.Where + " | " + g.How + " | " + g.Match + "\n")
	}
	return b.String()
}

func TestCheckLinesAndCounts(t *testing.T) {
	tex := results("% a comment with 0.5\nFirst line.\nThe accuracy is 0.987 here, $0.953 \\pm 0.3$.")
	r := Check(tex, testValues)
	if r.Checked != 2 || r.Unmatched != 1 || len(r.Numbers) != 3 {
		t.Fatalf("Checked=%d Unmatched=%d numbers=%d, want 2, 1, 3: %+v", r.Checked, r.Unmatched, len(r.Numbers), r.Numbers)
	}
	un := Unmatched(r)
	if len(un) != 1 || un[0].Text != "0.987" || un[0].Line != 8 || un[0].Where != "Results" {
		t.Fatalf("Unmatched = %+v, want 0.987 on line 8 in Results", un)
	}
	if un[0].Value != 0.987 {
		t.Errorf("Value = %v", un[0].Value)
	}
	// A report survives JSON, Feedback included.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, r) {
		t.Fatalf("JSON round trip: %v\n%+v\n%+v", err, back, r)
	}
	if back.Feedback() != r.Feedback() {
		t.Error("Feedback differs after a JSON round trip")
	}
}

func TestFeedback(t *testing.T) {
	r := Check(results("Our method reaches 0.987 accuracy, $3.2\\times$ faster, and 5\\% better; baseline 0.91."), testValues)
	fb := r.Feedback()
	for _, want := range []string{
		"3 numbers in the paper match no experiment result",
		"- line 6 (Results): 0.987 matches no run result; closest true values: run_1 x_plus_y.means.final_val_acc = 0.9961; " +
			"run_0 x_plus_y.means.final_val_acc = 0.97; run_1 x_div_y.means.final_val_acc = 0.95312\n",
		"3.2\\times matches no run result; closest true values: run_0 / run_1 x_div_y.means.step_val_acc_99 = 1.81159",
		"5\\% matches no run result",
		"at least 2 significant digits",
	} {
		if !strings.Contains(fb, want) {
			t.Errorf("Feedback lacks %q:\n%s", want, fb)
		}
	}
	if strings.Contains(fb, "0.91 matches") {
		t.Errorf("Feedback lists a matched number:\n%s", fb)
	}
	if fb := Check(results("Baseline 0.91."), testValues).Feedback(); fb != "" {
		t.Errorf("Feedback of a true paper = %q, want empty", fb)
	}
}

func TestNoValues(t *testing.T) {
	r := Check(results("Accuracy 0.95."), nil)
	if r.Unmatched != 1 || r.Numbers[0].Closest != nil {
		t.Fatalf("without values every number is unmatched: %+v", r)
	}
}

// writeFiles creates files (path → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadValues(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"run_0/final_info.json":  `{"x_div_y": {"means": {"final_val_acc": 0.91, "scores": {"mean": 0.5}}, "stderrs": {"final_val_acc": 0.004}}}`,
		"run_1/final_info.json":  `{"x_plus_y": {"means": {"final_val_acc": 0.99, "final_val_loss": NaN}}, "x_div_y": {"means": {"final_val_acc": 0.95}}}`,
		"run_1/all_results.json": `{"x_div_y": {"means": {"final_val_acc": 0.1}}}`,
		"run_2/log.txt":          "still running",
		"run_10/final_info.json": `{"x_div_y": {"means": {"final_val_acc": 0.97}}}`,
		"experiment.py":          "WEIGHT_DECAY = 0.3  # 0.5 in a comment\nNUM_STEPS = 7_500\ns = \"0.25\"\n",
		"run_1.py":               "WEIGHT_DECAY = 0.1\n",
		"notes/final_info.json":  `{"d": {"means": {"a": 1}}}`,
	})
	got, err := LoadValues(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Value{
		{"run_0", "x_div_y.means.final_val_acc", 0.91},
		{"run_0", "x_div_y.means.scores.mean", 0.5},
		{"run_0", "x_div_y.stderrs.final_val_acc", 0.004},
		{"run_1", "x_div_y.means.final_val_acc", 0.95},
		{"run_1", "x_plus_y.means.final_val_acc", 0.99},
		{"run_10", "x_div_y.means.final_val_acc", 0.97},
		{"code", "experiment.py:WEIGHT_DECAY", 0.3},
		{"code", "experiment.py:NUM_STEPS", 7500},
		{"code", "run_1.py:WEIGHT_DECAY", 0.1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LoadValues =\n%v\nwant\n%v", got, want)
	}
}

func TestNoRuns(t *testing.T) {
	t.Run("no run has final_info.json", func(t *testing.T) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"run_0/log.txt": "", "latex/template.tex": results("0.95"), "experiment.py": "A = 1\n"})
		_, err := CheckDir(dir)
		if !errors.Is(err, ErrNoRuns) {
			t.Fatalf("err = %v, want ErrNoRuns", err)
		}
		want := "no run_*/final_info.json in " + dir + ": nothing to check the paper's numbers against"
		if err.Error() != want {
			t.Errorf("err = %q, want %q", err, want)
		}
	})
	t.Run("final_info.json unreadable", func(t *testing.T) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"run_0/final_info.json": `{"d": {"acc": 1}}`})
		_, err := LoadValues(dir)
		if !errors.Is(err, ErrNoRuns) || !strings.Contains(err.Error(), `run_0/final_info.json: "d" has no "means"`) {
			t.Fatalf("err = %v, want ErrNoRuns naming the problem", err)
		}
	})
	t.Run("no paper either", func(t *testing.T) {
		dir := t.TempDir()
		_, err := CheckDir(dir)
		if !errors.Is(err, ErrNoRuns) || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "no latex/template.tex in") {
			t.Fatalf("err = %v, want both missing", err)
		}
	})
}

func TestCheckDir(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"run_0/final_info.json": `{"x_div_y": {"means": {"final_val_acc": 0.91, "step_val_acc_99": 2500}}}`,
		"run_1/final_info.json": `{"x_div_y": {"means": {"final_val_acc": 0.95312, "step_val_acc_99": 1380}}}`,
		"experiment.py": "WEIGHT_DECAY = 0.3\n\ndef train(va):\n    if va >= 0.99:\n        return 1\n" +
			"parser.add_argument(\"--lr\", type=float, default=1e-3)\n",
		"latex/template.tex": results("With a weight decay of 0.3 and a learning rate of $10^{-3}$, accuracy rises from 91.0\\% to 95.3\\% " +
			"and the steps to reach 99\\% fall by 44.8\\%, though we claimed 0.97."),
	})
	r, err := CheckDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var hows []string
	for _, n := range r.Numbers {
		hows = append(hows, n.Text+"="+n.How)
	}
	want := []string{"0.3=code setting", "10^{-3}=code setting", "91.0\\%=percent", "95.3\\%=percent",
		"99\\%=code setting", "44.8\\%=relative change", "0.97="}
	if !reflect.DeepEqual(hows, want) {
		t.Errorf("numbers = %q, want %q", hows, want)
	}
	if r.Checked != 7 || r.Unmatched != 1 {
		t.Errorf("Checked=%d Unmatched=%d, want 7, 1", r.Checked, r.Unmatched)
	}
	if r.Numbers[1].Match != "code experiment.py:lr = 0.001" {
		t.Errorf("argparse default named %q", r.Numbers[1].Match)
	}
}

func TestCodeValues(t *testing.T) {
	src := `"""Docstring with 0.75 in it."""
import argparse
LEARNING_RATE = 1e-3
WEIGHT_DECAY: float = 0.3
SEEDS = [0, 1, 42]
BETAS = (0.9, -0.98)
X = 0x10  # 0.125
MSG = f"{acc:.3f} reached 0.5"

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weight-decay", type=float, default=0.01)
    if va >= 0.99 and n > 3:
        opt = AdamW(lr=3e-4, eps=1e-8)
    return x * 0.99
`
	var got []string
	for _, v := range codeValues("experiment.py", src) {
		got = append(got, v.Path+"="+fmtNum(v.Value))
	}
	want := []string{
		"experiment.py:LEARNING_RATE=0.001", "experiment.py:WEIGHT_DECAY=0.3", "experiment.py:SEEDS[0]=0",
		"experiment.py:SEEDS[1]=1", "experiment.py:SEEDS[2]=42", "experiment.py:BETAS[0]=0.9", "experiment.py:BETAS[1]=-0.98",
		"experiment.py:X=16", "experiment.py:weight_decay=0.01", "experiment.py:lr=0.0003", "experiment.py:eps=1e-08",
		"experiment.py:line 13=0.99", "experiment.py:line 13=3",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("codeValues =\n%q\nwant\n%q", got, want)
	}
}

func TestScanForms(t *testing.T) {
	tests := []struct {
		text           string
		value, ulp     float64
		percent, ratio bool
		skip           bool
	}{
		{text: "0.953", value: 0.953, ulp: 0.001},
		{text: "7,500", value: 7500, ulp: 100},
		{text: "7,512", value: 7512, ulp: 1},
		{text: "500", value: 500, ulp: 1},
		{text: "1e-3", value: 0.001, ulp: 0.0001},
		{text: "$1.5 \\times 10^{-4}$", value: 1.5e-4, ulp: 1e-5},
		{text: "1.23e-3", value: 1.23e-3, ulp: 1e-5},
		{text: "10^{-3}", value: 0.001, ulp: 0.0001},
		{text: "3.2x", value: 3.2, ulp: 0.1, ratio: true},
		{text: "3.2 times", value: 3.2, ulp: 0.1, ratio: true},
		{text: "4 \\times 128", value: 4, ulp: 1},
		{text: "12.5\\,pp", value: 12.5, ulp: 0.1, percent: true},
		{text: "50--60\\%", value: 50, ulp: 1, percent: true},
		{text: "\\textbf{95.3}\\%", value: 95.3, ulp: 0.1, percent: true},
		{text: "95.3~\\si{\\percent}", value: 95.3, ulp: 0.1, percent: true},
		{text: ".953", value: 0.953, ulp: 0.001},
		{text: "2^{10}", value: 2, ulp: 1, skip: true},
		{text: "12pt", value: 12, ulp: 1, skip: true},
		{text: "0.5 \\linewidth", value: 0.5, ulp: 0.1, skip: true},
		{text: "H100", skip: true},
		{text: "top-1", value: 1, ulp: 1, skip: true},
		{text: "95th", value: 95, ulp: 1, skip: true},
	}
	for _, tt := range tests {
		ss := scan([]byte(tt.text))
		if tt.text == "H100" {
			if len(ss) != 0 {
				t.Errorf("%s: read %+v", tt.text, ss)
			}
			continue
		}
		if len(ss) == 0 {
			t.Errorf("%s: no number", tt.text)
			continue
		}
		s := ss[0]
		if !within(s.value, 1e-12, tt.value) || !within(s.ulp, 1e-15, tt.ulp) || s.percent != tt.percent || s.ratio != tt.ratio || s.skip != tt.skip {
			t.Errorf("%s: value=%v ulp=%v percent=%v ratio=%v skip=%v, want %v %v %v %v %v",
				tt.text, s.value, s.ulp, s.percent, s.ratio, s.skip, tt.value, tt.ulp, tt.percent, tt.ratio, tt.skip)
		}
	}
}

// TestCheckAnyPrefix reads every prefix of a dense document: LaTeX cut
// anywhere (an unclosed brace, a dangling \times or ^) must not panic.
func TestCheckAnyPrefix(t *testing.T) {
	doc := results(`\begin{tabular*}{\linewidth}{@{\extracolsep{\fill}}lr} a & $1.5 \times 10^{-4}$ \\ \multirow[c]{2}{*}{b} & 7{,}500 \\
\cmidrule(lr){1-2} c & \textbf{95.3}\% $\pm$ 0.4 \\[2pt] d & −0.12 & 1.8-fold & 3.2x & 10^{3} & 2^{10} & .5\linewidth & \SI{95.3}{\percent}
\end{tabular*} $-$0.5 x\_1 GPT-4 \cite[p.~3]{a} 50--60\% 12.5\,pp 1e-3 7\,500 \begin{tikzpicture}(0,1)\end{tikzpicture} ±0.01 0.9×`)
	for i := range len(doc) + 1 {
		Check(doc[:i], testValues)
	}
}
