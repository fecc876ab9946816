package scim_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// TestInvalidUTF8: a body that is not valid UTF-8, or escapes half a surrogate pair, is 400 invalidSyntax on
// every write (never stored as U+FFFD); a query parameter that does not decode to valid UTF-8 is 400 too.
func TestInvalidUTF8(t *testing.T) {
	s := newTestServer(t)
	id := s.createUser("utf8@example.com")
	gid := s.createGroup(`{"displayName":"g"}`)
	for _, bad := range []string{"\xff", "\xc3", "\xed\xa0\x80", `\ud800`, `\udc00`, `\ud800\u0041`} {
		for _, tt := range []struct{ method, path, body string }{
			{"POST", "/Users", `{"userName":"x` + bad + `"}`},
			{"PUT", "/Users/" + id, `{"userName":"x` + bad + `"}`},
			{"PATCH", "/Users/" + id, patchOp(`{"op":"replace","path":"displayName","value":"x` + bad + `"}`)},
			{"POST", "/Users/.search", `{"filter":"userName eq \"x` + bad + `\""}`},
			{"POST", "/Groups", `{"displayName":"x` + bad + `"}`},
			{"PUT", "/Groups/" + gid, `{"displayName":"x` + bad + `"}`},
			{"PATCH", "/Groups/" + gid, patchOp(`{"op":"replace","path":"displayName","value":"x` + bad + `"}`)},
		} {
			r := s.do(tt.method, tt.path, tt.body)
			requireError(t, r, 400, "invalidSyntax")
			require.True(t, utf8.Valid(r.Raw), "%q", bad)
		}
	}
	require.Equal(t, "utf8@example.com", s.get(id)["userName"], "nothing written")
	// A character outside the BMP, escaped as its pair, or sent as is, is kept.
	require.Equal(t, "x😀😀", s.create(`{"userName":"x\ud83d\ude00😀"}`)["userName"])

	for _, tt := range []struct{ query, scimType string }{
		{"filter=userName%20eq%20%22%FF%22", "invalidFilter"},
		{"filter=userName%20eq%20%22%C3%22", "invalidFilter"},
		{"attributes=%FF", "invalidValue"},
		{"sortBy=userName%E2%82&count=1", "invalidValue"},
		{"%FF=x", "invalidValue"},
	} {
		requireError(t, s.do("GET", "/Users?"+tt.query, ""), 400, tt.scimType)
	}
	require.Equal(t, 200, s.do("GET", "/Users?filter=userName%20eq%20%22%C3%A9%22", "").Status)
	requireError(t, s.do("GET", "/Users/"+id+"?attributes=%FF", ""), 400, "invalidValue")
}

// TestErrorEchoBounded: an error detail quotes at most 200 bytes of a client's value, cut at a rune boundary
// and marked with an ellipsis, wherever the value is quoted.
func TestErrorEchoBounded(t *testing.T) {
	s := newTestServer(t)
	id := s.createUser("echo@example.com")
	long := strings.Repeat("é", 1500) // 3000 bytes of a value
	name := strings.Repeat("a", 3000) // of an attribute name
	for i, tt := range []struct{ method, path, body string }{
		{"GET", "/Users?filter=" + name + "%20eq%20%22x%22", ""},
		{"GET", "/Users?filter=emails%5B" + name + "%20eq%20%22x%22%5D", ""},
		{"GET", "/Users?filter=" + long + "%20eq%20%22x%22", ""},
		{"GET", "/Users?sortBy=" + long, ""},
		{"GET", "/Schemas/" + long, ""},
		{"GET", "/ResourceTypes/" + long, ""},
		{"GET", "/" + long, ""},
		{"PATCH", "/Users/" + id, patchOp(`{"op":"replace","path":"` + long + `","value":"x"}`)},
		{"PATCH", "/Users/" + id, patchOp(`{"op":"replace","path":"emails.` + name + `","value":"x"}`)},
		{"PATCH", "/Users/" + id, patchOp(`{"op":"replace","path":"emails[` + long + ` eq \"x\"].value","value":"x"}`)},
		{"PATCH", "/Users/" + id, patchOp(`{"op":"replace","path":"emails[type eq \"nonexistent` + long + `\"].value","value":"x"}`)},
		{"PATCH", "/Users/" + id, patchOp(`{"op":"replace","path":"emails[value eq \"` + long + `\" and type eq \"x\" and type eq \"y\"].display","value":"x"}`)},
		{"PATCH", "/Users/" + id, patchOp(`{"op":"add","path":"id","value":"x","x":"` + long + `"}`)},
		{"POST", "/Groups", `{"displayName":"g","members":[{"value":"` + long + `"}]}`},
		{"POST", "/Groups", `{"displayName":"g","members":[{"value":"` + long + `","type":"Group"}]}`},
		{"PATCH", "/Groups/" + s.createGroup(`{"displayName":"g2"}`), patchOp(`{"op":"add","path":"members[value sw \"` + long + `\"]"}`)},
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			r := s.do(tt.method, tt.path, tt.body)
			require.GreaterOrEqual(t, r.Status, 400)
			detail, _ := r.Body["detail"].(string)
			require.True(t, utf8.ValidString(detail))
			require.NotContains(t, detail, strings.Repeat("é", 101), "%s", detail)
			require.NotContains(t, detail, strings.Repeat("a", 201), "%s", detail)
			require.Less(t, len(detail), 450, "%s", detail)
		})
	}
}

// TestNULRefused: U+0000, escaped in a body or percent-encoded in a path, is the client's 400 or 404 before
// any Store sees it (PostgreSQL cannot store or bind it: it was a 500).
func TestNULRefused(t *testing.T) {
	s := newTestServer(t)
	id := s.createUser("nul@example.com")
	requireError(t, s.do("POST", "/Users", `{"userName":"a@example.com","title":"x\u0000y"}`), http.StatusBadRequest, "invalidValue")
	requireError(t, s.patch(id, `{"op":"replace","path":"title","value":"\u0000"}`), http.StatusBadRequest, "invalidValue")
	requireError(t, s.do("GET", "/Users/a%00b", ""), http.StatusNotFound, "")
	require.Equal(t, http.StatusOK, s.do("POST", "/Users/.search", `{"filter":"title eq \"\\\\u0000\""}`).Status, "an escaped backslash is no escape of NUL")
}
