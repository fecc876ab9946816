// Package echo bounds what an error detail quotes of a client's value: enough to tell the client which value
// was wrong, never a megabyte of it back.
package echo

import (
	"strconv"
	"unicode/utf8"
)

// Max is how many bytes of a client's value a detail quotes.
const Max = 200

// Clip returns s, or its first Max bytes cut at a rune boundary followed by an ellipsis.
func Clip(s string) string { return ClipTo(s, Max) }

// ClipTo is Clip at n bytes.
func ClipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// Quote is strconv.Quote of Clip(s).
func Quote(s string) string { return strconv.Quote(Clip(s)) }
