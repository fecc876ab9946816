package sqlstore

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/scimtest"
)

// accountType is the kit's type shaped like the benchmark's users (scimtest.AccountType).
var accountType = scimtest.AccountType()

// nullWriter is a ResponseWriter that keeps nothing but the status.
type nullWriter struct {
	h      http.Header
	status int
}

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nullWriter) WriteHeader(s int)           { w.status = s }

// BenchmarkDeclaredVsUser compares a declared type's GET by id and eq lookup (Store.Resources) with the
// User path's, through the handler over SQLite, 2000 of each:
//
//	go test -run '^$' -bench DeclaredVsUser -benchmem .
func BenchmarkDeclaredVsUser(b *testing.B) {
	s := newSQLite(b)
	h := scim.MustNew(s, scim.WithTokens("t"), scim.WithResource(scim.Resource{Type: accountType, Store: s.Resources(accountType)}))
	post := func(path, body string) string {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer t")
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			b.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
		}
		loc := rec.Header().Get("Location")
		return loc[strings.LastIndex(loc, "/")+1:]
	}
	var userID, docID string
	for i := range 2000 {
		n := strconv.Itoa(i)
		u := post("/Users", `{"userName":"user`+n+`@contoso.com","displayName":"User `+n+`","active":true,"externalId":"ext-`+n+`"}`)
		d := post("/Accounts", `{"name":"user`+n+`@contoso.com","displayName":"User `+n+`","active":true,"externalId":"ext-`+n+`"}`)
		if i == 1000 {
			userID, docID = u, d
		}
	}
	for _, c := range []struct{ name, path string }{
		{"user-get", "/Users/" + userID},
		{"doc-get", "/Accounts/" + docID},
		{"user-eq", `/Users?filter=userName+eq+%22USER1000@contoso.com%22`},
		{"doc-eq", `/Accounts?filter=name+eq+%22USER1000@contoso.com%22`},
	} {
		b.Run(c.name, func(b *testing.B) {
			w := &nullWriter{h: http.Header{}}
			req := httptest.NewRequest("GET", c.path, nil)
			req.Header.Set("Authorization", "Bearer t")
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
			if w.status != http.StatusOK {
				b.Fatalf("status %d", w.status)
			}
		})
	}
}
