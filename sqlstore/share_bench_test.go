package sqlstore

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// BenchmarkTenantShareGet measures tenant B's GET /Users/{id} through the handler over SQLite while tenant A
// (50,000 users) runs 40 concurrent deep sorted lists (sortBy=displayName, no index: a sort of the whole
// tenant per request), in four modes: "alone" (no attack), "before" (the store's gates removed, every call
// queued in database/sql as before the shares), "shares" (the default) and "share=1" (one connection per
// tenant). B's requests are 10 ms apart, so that they spread over A's run. It reports B's p50 and p99 in
// milliseconds (one iteration is one GET of B) and logs A's answers by status. "before" takes seconds per
// iteration, so give it fewer (docs/limits.md has the figures):
//
//	go test ./sqlstore -timeout 30m -run '^$' -bench 'TenantShareGet/before$' -benchtime 60x
//	go test ./sqlstore -run '^$' -bench 'TenantShareGet/(alone|shares|share=1)$' -benchtime 300x
func BenchmarkTenantShareGet(b *testing.B) {
	const usersA = 50_000
	for _, mode := range []string{"alone", "before", "shares", "share=1"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			var opts []Option
			if mode == "share=1" {
				opts = append(opts, WithPool(PoolConfig{TenantShare: 1}))
			}
			s, err := openSQLite(ctx, filepath.Join(b.TempDir(), "scim.db"), opts...)
			require.NoError(b, err)
			defer s.Close()
			if mode == "before" {
				s.readers, s.writers = nil, nil
			}
			require.NoError(b, s.bulkInsert(scim.ContextWithTenant(ctx, "a"), usersA, benchUser))
			require.NoError(b, s.bulkInsert(scim.ContextWithTenant(ctx, "b"), 100, benchUser))
			h := scim.MustNew(s, scim.WithAuthenticator(func(r *http.Request) (string, error) {
				tok, _ := scim.BearerToken(r)
				return tok, nil
			}))
			get := func(tenant, target string) int {
				req := httptest.NewRequest("GET", target, nil)
				req.Header.Set("Authorization", "Bearer "+tenant)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec.Code
			}

			attack, stop := context.WithCancel(ctx)
			var wg sync.WaitGroup
			var mu sync.Mutex
			codes := map[int]int{} // A's answers
			attackers := 40
			if mode == "alone" {
				attackers = 0
			}
			for i := range attackers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for attack.Err() == nil {
						target := fmt.Sprintf("/Users?sortBy=displayName&startIndex=%d&count=100", 40_000+i*10)
						code := get("a", target)
						mu.Lock()
						codes[code]++
						mu.Unlock()
						if code == http.StatusTooManyRequests {
							time.Sleep(10 * time.Millisecond) // a hostile client retries at once, almost
						}
					}
				}()
			}
			time.Sleep(time.Second) // A's requests fill the pool

			took := make([]time.Duration, 0, b.N)
			i := 0
			for b.Loop() {
				start := time.Now()
				if code := get("b", "/Users/"+benchUser(i%100).ID); code != http.StatusOK {
					b.Fatalf("B's GET: %d", code)
				}
				took = append(took, time.Since(start))
				i++
				time.Sleep(10 * time.Millisecond) // spread B's requests over A's run
			}
			stop()
			wg.Wait()
			b.Logf("A's answers during the run (status: count): %v", codes)
			slices.Sort(took)
			ms := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))]) / 1e6 }
			b.ReportMetric(ms(0.50), "p50_ms")
			b.ReportMetric(ms(0.99), "p99_ms")
		})
	}
}
