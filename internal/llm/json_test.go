package llm

import "testing"

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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExtractJSON(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExtractJSONAfter(t *testing.T) {
	reply := "THOUGHT: consider {\"draft\": 1}\nNEW IDEA JSON:\n```json\n{\"final\": 2}\n```"
	got, err := ExtractJSONAfter(reply, "NEW IDEA JSON:")
	if err != nil || got != `{"final": 2}` {
		t.Fatalf("got %q, %v", got, err)
	}
}
