package paper

import (
	"errors"
	"regexp"
	"strings"
)

// A fenced block of a reply: its language tag and body.
type fence struct {
	lang, body string
}

// fences lists the fenced blocks of a reply in order. A fence opens with
// ``` (and an optional language) at the start of a line and closes with a
// line of ``` alone, so the closing fence of one block is never taken for
// the opening of the next. A block never closed (a reply cut off) runs to
// the end.
func fences(reply string) []fence {
	var out []fence
	lines := strings.Split(reply, "\n")
	for i := 0; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(t, "```") {
			continue
		}
		lang := strings.ToLower(strings.TrimSpace(strings.TrimLeft(t, "`")))
		var body []string
		j := i + 1
		for ; j < len(lines); j++ {
			if strings.TrimSpace(lines[j]) == "```" {
				break
			}
			body = append(body, lines[j])
		}
		out = append(out, fence{lang: lang, body: strings.Join(body, "\n")})
		i = j
	}
	return out
}

var (
	titleLine   = regexp.MustCompile(`(?mi)^[ \t]*[*#_]*[ \t]*title[ \t]*[*_]*[ \t]*:[ \t]*[*_]*[ \t]*(.+?)[ \t]*$`)
	sectionCmd  = regexp.MustCompile(`(?m)^\s*\\(section|chapter)\*?\{[^}]*\}\s*(\\label\{[^}]*\})?\s*$`)
	docWrappers = regexp.MustCompile(`(?m)^\s*\\(begin|end)\{(document|abstract)\}\s*$`)
	latexCmd    = regexp.MustCompile(`\\[A-Za-z]+`)
)

// ParseSection reads a written section: the last block tagged latex (or
// tex), else the last untagged block that holds LaTeX; blocks in other
// languages (a python sketch, a bibtex entry) are never taken. \section
// lines and document wrappers that models add even when told not to are
// dropped. A "Title:" line (any case, bold or not) outside the blocks
// gives the title. Its errors are sent back to the model.
func ParseSection(reply string) (title, body string, err error) {
	blocks := fences(reply)
	pick := -1
	for i, b := range blocks {
		if b.lang == "latex" || b.lang == "tex" {
			pick = i
		}
	}
	if pick < 0 {
		for i, b := range blocks {
			if b.lang == "" && latexCmd.MatchString(b.body) {
				pick = i
			}
		}
	}
	if pick < 0 {
		if len(blocks) > 0 {
			return "", "", errors.New("the reply has no ```latex block (the fenced blocks it has are in another language or hold no LaTeX)")
		}
		return "", "", errors.New("the reply has no fenced latex block (```latex ... ```)")
	}
	body = blocks[pick].body
	body = sectionCmd.ReplaceAllString(body, "")
	body = docWrappers.ReplaceAllString(body, "")
	body = strings.TrimSpace(body)
	if body == "" {
		return "", "", errors.New("the last ```latex block is empty once \\section lines and document wrappers are removed")
	}
	if m := titleLine.FindStringSubmatch(outsideFences(reply)); m != nil {
		title = strings.Trim(strings.TrimSpace(m[1]), "*_\"`")
	}
	return title, body, nil
}

// outsideFences is the reply without its fenced blocks.
func outsideFences(reply string) string {
	var b strings.Builder
	in := false
	for _, l := range strings.Split(reply, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "```") {
			if !in || t == "```" {
				in = !in
			}
			continue
		}
		if !in {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
