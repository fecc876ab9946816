package scim

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

var querySeeds = []string{
	"", "filter=userName%20eq%20%22a%22", "attributes=%C3%A9", "a=%FF", "%FF=a", "a=%C3", "a=%C3&b=%A9", "a=%C3%A9%E2%82",
	"a=é", "a=\xff", "a=%E2%82%AC+x", "a=%zz%C3%A9", "a=%", "a=%C", "x=%F0%9F%98%80", "x=%ED%A0%80", "x=%EF%BF%BD",
}

// TestValidQuery: validQuery agrees with decoding the query and checking each name and value.
func TestValidQuery(t *testing.T) {
	for _, q := range querySeeds {
		require.Equal(t, validByParse(q), validQuery(q), "%q", q)
	}
	require.False(t, validQuery("a=%FF"))
	require.True(t, validQuery("a=%C3%A9"))
}

// validByParse is what validQuery must answer, the slow way: for a query url.ParseQuery reads whole.
func validByParse(q string) bool {
	v, err := url.ParseQuery(q)
	if err != nil {
		return true // a malformed escape: not a UTF-8 question (the parameter readers decide)
	}
	for k, vs := range v {
		if !utf8.ValidString(k) {
			return false
		}
		for _, s := range vs {
			if !utf8.ValidString(s) {
				return false
			}
		}
	}
	return true
}

func FuzzValidQuery(f *testing.F) {
	for _, q := range querySeeds {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := url.ParseQuery(q); err != nil {
			return
		}
		if validByParse(q) != validQuery(q) {
			t.Fatalf("%q: validQuery %v", q, validQuery(q))
		}
	})
}

// TestLoneSurrogate: a \u escape of half a surrogate pair is found; pairs, other escapes and escaped
// backslashes are not.
func TestLoneSurrogate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		lone bool
	}{
		{`{"a":"x"}`, false}, {`{"a":"\ud83d\ude00"}`, false}, {`{"a":"\uD83D\uDE00"}`, false}, {`{"a":"\u00e9"}`, false},
		{`{"a":"\\ud800"}`, false}, {`{"a":"\\\ud83d\ude00"}`, false}, {`{"a":"\ud800"}`, true}, {`{"a":"\udc00"}`, true},
		{`{"a":"\ud800x"}`, true}, {`{"a":"\ud800\u0041"}`, true}, {`{"a":"\\\ud800"}`, true}, {`{"a":"\ud800\ud800"}`, true},
		{`{"a":"\ud83d\ude00\ud800"}`, true}, {`"\ud800`, true}, {`"\u12`, false},
	} {
		require.Equal(t, tt.lone, loneSurrogate([]byte(tt.in)), "%s", tt.in)
	}
}

// FuzzLoneSurrogate: a JSON string without a lone surrogate escape decodes without U+FFFD unless the text has
// one (literally or as \ufffd); one with it always decodes to U+FFFD.
func FuzzLoneSurrogate(f *testing.F) {
	for _, s := range []string{`"x"`, `"\ud83d\ude00"`, `"\ud800"`, `"\\ud800"`, `"\udc00\ud800"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var s string
		if !utf8.ValidString(in) || json.Unmarshal([]byte(in), &s) != nil {
			return
		}
		hasFFFD := false
		for _, r := range s {
			hasFFFD = hasFFFD || r == utf8.RuneError
		}
		if loneSurrogate([]byte(in)) && !hasFFFD {
			t.Fatalf("%s: reported lone, decodes to %q", in, s)
		}
		if !loneSurrogate([]byte(in)) && hasFFFD && !strings.Contains(strings.ToLower(in), `\ufffd`) && !strings.ContainsRune(in, utf8.RuneError) {
			t.Fatalf("%s: not reported, decodes to %q", in, s)
		}
	})
}
