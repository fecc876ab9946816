package echo

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestClip(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"short", "short"},
		{strings.Repeat("a", Max), strings.Repeat("a", Max)},
		{strings.Repeat("a", Max+1), strings.Repeat("a", Max) + "…"},
		// A 3-byte rune across the boundary is left out whole.
		{strings.Repeat("a", Max-1) + "€x", strings.Repeat("a", Max-1) + "…"},
		{strings.Repeat("é", Max), strings.Repeat("é", Max/2) + "…"},
	} {
		got := Clip(tt.in)
		require.Equal(t, tt.want, got)
		require.True(t, utf8.ValidString(got))
		require.LessOrEqual(t, len(got), Max+len("…"))
	}
	require.Equal(t, `"a\"b"`, Quote(`a"b`))
}
