package scim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/schema"
)

// BenchmarkMemoryFilteredScan measures a page whose filter no index answers (displayName co "…") over a
// memstore of 100k Entra-shaped users, at the Store (List and ListCursor, MaxScan 0) and through the
// handler (Limits.MaxScan raised to 100k):
//
//	go test -run '^$' -bench MemoryFilteredScan -benchmem -benchtime 10x .
//
// "none" matches no user (every user examined, nothing kept); "1pct" matches one user in a hundred.
func BenchmarkMemoryFilteredScan(b *testing.B) {
	const n = 100_000
	store := memstore.New()
	ctx := scim.ContextWithTenant(context.Background(), "") // the Store serves a tenant: "" for one
	active := true
	for i := range n {
		display := "User " + itoa(i)
		if i%100 == 0 {
			display = "Needle " + itoa(i)
		}
		u := &scim.User{
			ID: "id-" + itoa(i), UserName: "user" + itoa(i) + "@contoso.com", ExternalID: "ext-" + itoa(i),
			DisplayName: display, Active: &active, Name: &scim.Name{Formatted: display, GivenName: "User", FamilyName: itoa(i)},
			Emails:     []scim.MultiValue{{Value: "user" + itoa(i) + "@contoso.com", Type: "work", Primary: true}},
			Enterprise: &scim.EnterpriseUser{Department: "Sales", EmployeeNumber: itoa(i)},
			Meta:       scim.Meta{ResourceType: "User"},
		}
		if _, err := store.Create(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
	h := scim.MustNew(store, scim.WithTokens("t"), scim.WithLimits(scim.Limits{MaxScan: n}))
	for _, f := range []struct{ name, filter string }{
		{"none", `displayName co "nobody"`},
		{"1pct", `displayName co "needle"`},
	} {
		expr, err := filter.Parse(schema.User(), f.filter)
		if err != nil {
			b.Fatal(err)
		}
		q := scim.Query{Filter: expr, StartIndex: 1, Count: 100}
		b.Run(f.name+"/List", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := store.List(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(f.name+"/ListCursor", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := store.ListCursor(ctx, q, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(f.name+"/handler", func(b *testing.B) {
			w := &discardWriter{h: http.Header{}}
			req := httptest.NewRequest("GET", "/Users?count=100&filter="+strings.NewReplacer(" ", "+", `"`, "%22").Replace(f.filter), nil)
			req.Header.Set("Authorization", "Bearer t")
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		})
	}
}
