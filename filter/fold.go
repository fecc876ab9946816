package filter

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Fold returns the comparison key of a string of a caseExact false attribute: two strings a person reads as
// the same identifier have the same key. Everything that compares such strings uses it: the filter evaluator
// (eq, co, sw, ew and ordering), sqlstore's search copy, sort keys, memstore's userName index and sqlstore's folded
// columns, so that uniqueness and filters agree on every store. SQL cannot compute it: a store keeps Fold's
// output in a column or document beside the value and compares with Fold of the literal.
//
// The key is, in order:
//   - format characters (Unicode category Cf: zero-width space and joiner, bidi controls, soft hyphen)
//     removed: they are invisible, so "ad\u200bmin" reads as "admin";
//   - NFKC, then full case folding, then NFKC again (Unicode's compatibility caseless match, D146):
//     fullwidth "Ａdmin" is "admin", "straße" is "strasse", "ΣΊΣΥΦΟΣ" is "σίσυφοσ" like "σίσυφος", and
//     NFD "café" is NFC "café". The first NFKC exposes letters hidden in compatibility characters to
//     folding; the second recomposes what folding decomposed;
//   - leading and trailing white space trimmed.
//
// Not the PRECIS UsernameCaseMapped profile (golang.org/x/text/secure/precis): it lower-cases rather than
// folds (ß and final ς stay apart) and refuses spaces and other characters SCIM userNames may hold, and a
// comparison key must accept every string.
//
// Pure ASCII, the common case, takes a fast path with the same result: trimmed and lower-cased, without an
// allocation when there is nothing to change.
func Fold(s string) string {
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return foldUnicode(s)
		}
		upper = upper || c-'A' < 26
	}
	s = strings.TrimSpace(s)
	if !upper {
		return s
	}
	return strings.ToLower(s)
}

// caseFolder is stateless and safe for concurrent use (cases.Fold's documentation).
var caseFolder = cases.Fold()

func foldUnicode(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
	s = norm.NFKC.String(s)
	s = norm.NFKC.String(caseFolder.String(s))
	return strings.TrimSpace(strings.Map(cherokee, s))
}

// cherokee corrects x/text's folding of Cherokee (v0.42.0), which swaps the cases: Unicode folds Cherokee
// to its upper case (CaseFolding.txt: U+AB70 → U+13A0), so that "Ꭰ" and "ꭰ" get one key.
func cherokee(r rune) rune {
	switch {
	case 0xAB70 <= r && r <= 0xABBF:
		return r - 0xAB70 + 0x13A0
	case 0x13F8 <= r && r <= 0x13FD:
		return r - 0x13F8 + 0x13F0
	}
	return r
}
