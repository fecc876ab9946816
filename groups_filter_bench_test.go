package scim_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/scimkit/scim"
)

// BenchmarkMemberPaging measures the member paging of docs/groups.md over a group of 100k members in a tenant
// of 100k users, at the first page and at startIndex 50001 (count 100): on memstore (a GroupFilterer, from
// its membership index) and on the slice store (the handler, from MemberIDs and Get):
//
//	go test -run '^$' -bench MemberPaging -benchtime 20x .
func BenchmarkMemberPaging(b *testing.B) {
	for _, kind := range storeKinds {
		b.Run(kind.name, func(b *testing.B) {
			store := kind.open(nil)
			gs := store.(scim.GroupStore)
			ctx := single()
			ids := make([]string, 100_000)
			for i := range ids {
				u, err := store.Create(ctx, &scim.User{ID: fmt.Sprintf("u-%06d", i), UserName: fmt.Sprintf("u%d@x", i)})
				if err != nil {
					b.Fatal(err)
				}
				ids[i] = u.ID
			}
			g, err := gs.CreateGroup(ctx, &scim.Group{ID: "g", DisplayName: "All"})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := gs.UpdateGroup(ctx, g.ID, scim.GroupUpdate{Add: ids}, ""); err != nil {
				b.Fatal(err)
			}
			h := scim.MustNew(store, scim.WithTokens("t"))
			for _, start := range []int{1, 50_001} {
				b.Run(fmt.Sprintf("startIndex=%d", start), func(b *testing.B) {
					w := &discardWriter{h: http.Header{}}
					req := httptest.NewRequest("GET", "/Users?filter="+url.QueryEscape(`groups.value eq "`+g.ID+`"`)+
						fmt.Sprintf("&startIndex=%d&count=100", start), nil)
					req.Header.Set("Authorization", "Bearer t")
					for b.Loop() {
						clear(w.h)
						h.ServeHTTP(w, req)
					}
					if w.status != http.StatusOK {
						b.Fatalf("status %d", w.status)
					}
				})
			}
		})
	}
}
