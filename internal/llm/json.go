package llm

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
)

var fencedJSON = regexp.MustCompile("(?s)```(?:json|JSON)?\\s*\\n(.*?)\\n?```")

// ErrNoJSON means a reply held nothing that parses as JSON.
var ErrNoJSON = errors.New("no parsable JSON in the reply")

// ExtractJSON returns the JSON text of a reply: the first fenced block that
// parses, else the first balanced object or array that parses. Models wrap
// JSON in prose and fences unpredictably, so every candidate is tried.
func ExtractJSON(reply string) (string, error) {
	for _, m := range fencedJSON.FindAllStringSubmatch(reply, -1) {
		c := strings.TrimSpace(m[1])
		if json.Valid([]byte(c)) {
			return c, nil
		}
	}
	for i := 0; i < len(reply); i++ {
		if reply[i] != '{' && reply[i] != '[' {
			continue
		}
		if end := balancedEnd(reply, i); end > 0 {
			c := reply[i:end]
			if json.Valid([]byte(c)) {
				return c, nil
			}
		}
	}
	return "", ErrNoJSON
}

// ExtractJSONAfter is ExtractJSON on the text after the last occurrence of
// marker (e.g. "NEW IDEA JSON:"), falling back to the whole reply.
func ExtractJSONAfter(reply, marker string) (string, error) {
	if i := strings.LastIndex(reply, marker); i >= 0 {
		if s, err := ExtractJSON(reply[i+len(marker):]); err == nil {
			return s, nil
		}
	}
	return ExtractJSON(reply)
}

// balancedEnd returns the index after the bracket closing the one at start,
// respecting JSON strings, or -1.
func balancedEnd(s string, start int) int {
	depth := 0
	inStr, esc := false, false
	for i := start; i < len(s); i++ {
		c := s[i]
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}
