package latex

import (
	"regexp"
	"strings"
)

var bibTitleRe = regexp.MustCompile(`(?is)\btitle\s*=\s*[{"](.+?)[}"]\s*,?\s*\n`)

// BibTitles returns the titles of the bibliography's entries, normalised to
// lower-case letters and digits, for de-duplication.
func BibTitles(tex string) map[string]bool {
	out := map[string]bool{}
	for _, b := range bibBlocks(tex) {
		for _, m := range bibTitleRe.FindAllStringSubmatch(tex[b.start:b.end], -1) {
			out[NormTitle(m[1])] = true
		}
	}
	return out
}

// NormTitle keeps a title's lower-case letters and digits.
func NormTitle(t string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(t) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
