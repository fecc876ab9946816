package filter_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim/filter"
)

func TestFoldIdentifiesLookAlikes(t *testing.T) {
	for _, c := range []struct{ a, b string }{
		{"ΣΊΣΥΦΟΣ", "σίσυφος"},      // final sigma folds to σ
		{"straße", "strasse"},       // full folding: ß is ss
		{"STRASSE", "Straße"},       //
		{"Ａdmin", "admin"},          // fullwidth: compatibility normalisation
		{"ＡＤＭＩＮ", "admin"},          //
		{"cafe\u0301", "caf\u00e9"}, // NFD and NFC
		{"ad\u200bmin", "admin"},    // zero-width space
		{"ad\u200dmin", "admin"},    // zero-width joiner
		{"\u202eadmin", "admin"},    // bidi override
		{"admin ", "admin"},         // trailing space
		{" admin\t", "admin"},       //
		{"admin\u3000", "admin"},    // ideographic space: NFKC makes it a space, then trimmed
		{"ℌello", "hello"},          // a compatibility letter folds after NFKC
		{"Élodie.Ørsted", "élodie.ørsted"},
		{"K", "k"}, // Kelvin sign
		{"Ꭰ", "ꭰ"}, // Cherokee folds to upper case
		{"Ᏸ", "ᏸ"},
	} {
		require.Equal(t, filter.Fold(c.b), filter.Fold(c.a), "%q and %q", c.a, c.b)
	}
	for _, c := range []struct{ a, b string }{
		{"admin", "admln"},
		{"a dmin", "admin"}, // inner space is kept
		{"résumé", "resume"},
	} {
		require.NotEqual(t, filter.Fold(c.b), filter.Fold(c.a), "%q and %q", c.a, c.b)
	}
}

// TestFoldASCIIFastPath checks the fast path against the full algorithm: an ASCII string with one
// non-ASCII rune appended takes the slow path, and the rune (folded alone) must come out unchanged at the end.
func TestFoldASCIIFastPath(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.IntN(128))
		}
		s := string(b)
		want := strings.TrimSpace(strings.ToLower(s))
		require.Equal(t, want, filter.Fold(s), "%q", s)
		// "é" forces the Unicode path; the ASCII part must fold the same way there.
		if strings.TrimRight(s, " \t\n\v\f\r") == s {
			require.Equal(t, strings.TrimLeft(want, " \t\n\v\f\r")+"é", filter.Fold(s+"É"), "%q", s+"É")
		}
	}
}

// TestFoldIdempotent checks that a key is its own key, for every code point alone and after a letter: a
// stored key and a folded literal then compare alike wherever a key is folded again.
func TestFoldIdempotent(t *testing.T) {
	if testing.Short() {
		t.Skip("every code point")
	}
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		for _, s := range []string{string(r), "A" + string(r)} {
			k := filter.Fold(s)
			if k2 := filter.Fold(k); k2 != k {
				t.Fatalf("Fold(%q) = %q, but Fold(%q) = %q", s, k, k, k2)
			}
		}
	}
}
