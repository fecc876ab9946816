package scim_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/scimtest"
)

// accountType is the kit's type shaped like the benchmark's users (scimtest.AccountType).
var accountType = scimtest.AccountType()

// BenchmarkDeclaredVsUser compares a declared type's GET by id and eq lookup with the User path's, over
// memstore, 2000 of each (sqlstore's BenchmarkDeclaredVsUser does the same over SQLite):
//
//	go test -run '^$' -bench DeclaredVsUser -benchmem .
func BenchmarkDeclaredVsUser(b *testing.B) {
	h := scim.MustNew(memstore.New(), scim.WithTokens("t"),
		scim.WithResource(scim.Resource{Type: accountType, Store: memstore.NewDocuments(accountType)}))
	benchDeclaredVsUser(b, h)
}

// benchDeclaredVsUser fills h with 2000 users and 2000 accounts and runs the four requests.
func benchDeclaredVsUser(b *testing.B, h http.Handler) {
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
		n := itoa(i)
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
			w := &discardWriter{h: http.Header{}}
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
