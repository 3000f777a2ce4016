package llm

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestExtractJSON(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"fenced", "THOUGHT: x\n```json\n{\"a\": 1}\n```\n", `{"a": 1}`, false},
		{"bare fence", "```\n[1, 2]\n```", `[1, 2]`, false},
		{"inline object", `Here it is: {"Name": "x", "b": "}"} done`, `{"Name": "x", "b": "}"}`, false},
		{"invalid fence then valid object", "```json\n{oops}\n```\nthen {\"ok\": true}", `{"ok": true}`, false},
		{"nested", `x {"a": {"b": [1, {"c": 2}]}} y`, `{"a": {"b": [1, {"c": 2}]}}`, false},
		{"none", "I am done", "", true},
		{"unbalanced", `{"a": 1`, "", true},

		// Raw control characters: escaped inside strings, dropped outside.
		{"raw newline in a string", "{\"Experiment\": \"line one\nline two\"}", `{"Experiment": "line one\nline two"}`, false},
		{"raw CRLF in a string", "{\"a\": \"x\r\ny\"}", `{"a": "x\u000d\ny"}`, false},
		{"raw tab in a string", "{\"a\": \"col1\tcol2\"}", `{"a": "col1\tcol2"}`, false},
		{"NUL in a string", "{\"a\": \"x\x00y\"}", `{"a": "x\u0000y"}`, false},
		{"stray control characters between tokens", "{\"a\":\x01 1,\x1f\"b\": 2}", `{"a": 1,"b": 2}`, false},
		{"whitespace between tokens is kept", "{\n\t\"a\": 1\r\n}", "{\n\t\"a\": 1\r\n}", false},
		{"backslash before a raw newline", "{\"a\": \"x\\\ny\"}", `{"a": "x\ny"}`, false},
		{"escaped quote before a raw newline", "{\"a\": \"say \\\"hi\\\"\nthen go\"}", `{"a": "say \"hi\"\nthen go"}`, false},
		{"fenced with control characters", "Here:\n```json\n{\"Title\": \"A\tB\",\n \"Abstract\": \"one\ntwo\"}\n```\nDone.", "{\"Title\": \"A\\tB\",\n \"Abstract\": \"one\\ntwo\"}", false},
		{"fenced with control characters beats a later valid object", "```json\n{\"final\": \"a\nb\"}\n```\n{\"draft\": 1}", `{"final": "a\nb"}`, false},
		{"nested with control characters", "x {\"a\": {\"b\": [\"p\nq\", {\"c\": \"\x07\"}]}} y", `{"a": {"b": ["p\nq", {"c": "\u0007"}]}}`, false},
		{"prose around with control characters", "THOUGHT: fine.\x0b\nNEW IDEA: {\"Name\": \"n\", \"Experiment\": \"1. run\n2. plot\"} Thanks!", `{"Name": "n", "Experiment": "1. run\n2. plot"}`, false},
		{"byte-order mark before a fenced object", "```json\n\uFEFF{\"a\": 1}\n```", `{"a": 1}`, false},
		{"byte-order mark before the reply", "\uFEFF{\"a\": 1}", `{"a": 1}`, false},
		{"byte-order mark inside a string is kept", "{\"a\": \"\uFEFF\"}", "{\"a\": \"\uFEFF\"}", false},
		{"control characters and a trailing comma", "{\"a\": \"x\ny\",}", `{"a": "x\ny"}`, false},
		{"nothing valid", "{oops\x00} and [1, 2", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExtractJSON(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr && !errors.Is(err, ErrNoJSON) {
				t.Errorf("err = %v, want ErrNoJSON", err)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if got != "" && !json.Valid([]byte(got)) {
				t.Errorf("returned invalid JSON %q", got)
			}
		})
	}
}

func TestExtractJSONAfter(t *testing.T) {
	tests := []struct{ name, reply, want string }{
		{"after the marker", "THOUGHT: consider {\"draft\": 1}\nNEW IDEA JSON:\n```json\n{\"final\": 2}\n```", `{"final": 2}`},
		{"after the marker with a raw newline", "THOUGHT: {\"draft\": 1}\nNEW IDEA JSON:\n{\"final\": \"a\nb\"}", `{"final": "a\nb"}`},
		{"nothing after the marker falls back", "{\"draft\": 1}\nNEW IDEA JSON: none", `{"draft": 1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExtractJSONAfter(tt.reply, "NEW IDEA JSON:")
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// FuzzExtractJSON checks that extraction never panics, returns only valid
// JSON, fails only with ErrNoJSON, and finds a reply that is itself JSON.
func FuzzExtractJSON(f *testing.F) {
	for _, s := range []string{
		"", "{}", "[1, 2]", `{"a": "}"}`, "```json\n{\"a\": 1}\n```",
		"{\"a\": \"x\ny\"}", "{\"a\": \"x\\\ny\"}", "{\"a\":\x00 1}", "\uFEFF{\"a\": 1}",
		"prose {\"a\": [1, {\"b\": \"\t\"}]} more", "{\"a\": \"\\", "[\"\x1f\\\x1f\"]", "```\n[\"\n```",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		got, err := ExtractJSON(reply)
		switch {
		case err != nil && !errors.Is(err, ErrNoJSON):
			t.Fatalf("ExtractJSON(%q): unexpected error %v", reply, err)
		case err == nil && !json.Valid([]byte(got)):
			t.Fatalf("ExtractJSON(%q) = %q, which is not valid JSON", reply, got)
		case err != nil && len(reply) > 0 && (reply[0] == '{' || reply[0] == '[') && json.Valid([]byte(reply)):
			t.Fatalf("ExtractJSON(%q) found nothing in a reply that is JSON", reply)
		}
		if got, err := ExtractJSONAfter(reply, "JSON:"); err == nil && !json.Valid([]byte(got)) {
			t.Fatalf("ExtractJSONAfter(%q) = %q, which is not valid JSON", reply, got)
		}
	})
}

// TestRepairedJSON: the shapes real models write, each read as meant.
func TestRepairedJSON(t *testing.T) {
	tests := []struct {
		name, in string
		want     any // the decoded value
	}{
		{"trailing comma in an object", `{"a": 1, "b": [1, 2,],}`, map[string]any{"a": 1.0, "b": []any{1.0, 2.0}}},
		{"line comment", "{\"a\": 1, // the learning rate\n \"b\": 2}", map[string]any{"a": 1.0, "b": 2.0}},
		{"block comment", `{"a": /* tuned */ 1}`, map[string]any{"a": 1.0}},
		{"a comment after a trailing comma", "{\"a\": 1, // done\n}", map[string]any{"a": 1.0}},
		{"Python quoting and literals", `{'Name': 'wd', 'ok': True, 'x': None, 'y': False}`, map[string]any{"Name": "wd", "ok": true, "x": nil, "y": false}},
		{"an apostrophe escaped in a single-quoted string", `{'t': 'it\'s'}`, map[string]any{"t": "it's"}},
		{"a double quote inside a single-quoted string", `{'t': 'the "best"'}`, map[string]any{"t": `the "best"`}},
		{"LaTeX escapes JSON refuses", `{"Summary": "the role of $\lambda$ and 5\% of $\alpha_t$"}`, map[string]any{"Summary": `the role of $\lambda$ and 5\% of $\alpha_t$`}},
		{"LaTeX that reads as JSON escapes", `{"m": "$\beta$, $\frac{1}{2}$, $\theta$, $\nabla f$, $\rho$, \textbf{x}"}`, map[string]any{"m": `$\beta$, $\frac{1}{2}$, $\theta$, $\nabla f$, $\rho$, \textbf{x}`}},
		{"LaTeX escapes next to a real newline escape", `{"m": "one\ntwo $\beta$"}`, map[string]any{"m": "one\ntwo $\\beta$"}},
		{"a tab escape before a word is a tab", `{"m": "a\tb"}`, map[string]any{"m": "a\tb"}},
		{"\\u not followed by hex is LaTeX", `{"m": "\underline{x}"}`, map[string]any{"m": `\underline{x}`}},
		{"a quote inside a string", `{"Title": "The "best" weight decay", "n": 1}`, map[string]any{"Title": `The "best" weight decay`, "n": 1.0}},
		{"NaN and Infinity as Python writes them", `{"loss": NaN, "acc": [Infinity, -Infinity]}`, map[string]any{"loss": "NaN", "acc": []any{"Infinity", "-Infinity"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExtractJSON("THOUGHT: here it is.\n" + tt.in + "\nThanks.")
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal([]byte(got), &v); err != nil {
				t.Fatalf("returned invalid JSON %q: %v", got, err)
			}
			if !reflect.DeepEqual(v, tt.want) {
				t.Errorf("decoded %#v, want %#v (from %s)", v, tt.want, got)
			}
		})
	}
}

// TestExtractJSONObject: a broken outer object is repaired rather than
// replaced by a list inside it; a list of one object is unwrapped.
func TestExtractJSONObject(t *testing.T) {
	tests := []struct {
		name, reply, want, wantErr string
	}{
		{name: "trailing comma with an inner list", reply: "REVIEW JSON:\n```json\n{\"Strengths\": [\"a\", \"b\"], \"Overall\": 5,}\n```",
			want: "{\"Strengths\": [\"a\", \"b\"], \"Overall\": 5}"},
		{name: "a list of one object", reply: "NEW IDEA JSON:\n[{\"Name\": \"x\"}]", want: `{"Name": "x"}`},
		{name: "an unparsable object: its own error, located", reply: "THOUGHT: fine\nREVIEW JSON:\n{\"Overall\": 5 \"Decision\": \"Reject\"}",
			wantErr: "the JSON at line 3, column 15 does not parse: invalid character '\"' after object key:value pair, near \"{\\\"Overall\\\": 5 \\\"\" (after REVIEW JSON:)"},
		{name: "cut off", reply: "REVIEW JSON:\n{\"Summary\": \"long", wantErr: "the JSON starting at line 2, column 1 is never closed (a } or ] is missing; was the reply cut off?) (after REVIEW JSON:)"},
		{name: "no JSON", reply: "I think the paper is fine.", wantErr: "the reply holds no JSON object ({...})"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExtractJSONObjectAfter(tt.reply, marker(tt.reply))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, ErrNoJSON) {
					t.Fatalf("err = %v\nwant  %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func marker(reply string) string {
	if strings.Contains(reply, "NEW IDEA JSON:") {
		return "NEW IDEA JSON:"
	}
	return "REVIEW JSON:"
}
