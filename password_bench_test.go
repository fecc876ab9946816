package scim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// BenchmarkPasswordFairness measures tenant B's POST of a user with a password (bcrypt, cost 10) alone, and
// while tenant A keeps 8 password writes in flight (its concurrency limit): B's time per request is its hash
// and its wait for a hash slot.
//
//	go test -run '^$' -bench PasswordFairness -benchtime 20x .
func BenchmarkPasswordFairness(b *testing.B) {
	for _, flood := range []bool{false, true} {
		name := "alone"
		if flood {
			name = "A-flooding"
		}
		b.Run(name, func(b *testing.B) {
			h := scim.MustNew(memstore.New(), scim.WithPasswords(scim.PasswordsHashed),
				scim.WithAuthenticator(func(r *http.Request) (string, error) {
					tok, _ := scim.BearerToken(r)
					return tok, nil // the token names the tenant
				}))
			var n atomic.Int64
			post := func(tenant string) int {
				i := n.Add(1)
				req := httptest.NewRequest("POST", "/Users", strings.NewReader(
					`{"userName":"u`+strconv.FormatInt(i, 10)+`","password":"Sup3r-secret!"}`))
				req.Header.Set("Authorization", "Bearer "+tenant)
				req.Header.Set("Content-Type", "application/scim+json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec.Code
			}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			if flood {
				for range 8 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for ctx.Err() == nil {
							post("a")
						}
					}()
				}
				for scim.HashWaiting(h, "a") == 0 { // the flood is running: A's requests queue for the slots
					runtime.Gosched()
				}
			}
			for b.Loop() {
				if code := post("b"); code != http.StatusCreated {
					b.Fatalf("B: %d", code)
				}
			}
			cancel()
			wg.Wait()
		})
	}
}
