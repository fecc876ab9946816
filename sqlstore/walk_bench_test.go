package sqlstore

import (
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimkit/scim"
)

// BenchmarkDeepWalk walks every user of a tenant the way Okta's import does, GET /Users?startIndex=…&count=100
// through the handler, page after page, and reports the median latency of the first 100 pages, of the
// deepest 100, of the slowest tenth of the walk, the whole walk's time, and the median of random deep pages
// that no bookmark covers (OFFSET). SCIM_WALK_USERS sets the number of users (default 100000):
//
//	SCIM_WALK_USERS=1000000 go test ./sqlstore -run '^$' -bench DeepWalk -benchtime 1x -timeout 60m
//
// PostgreSQL runs when SCIM_TEST_POSTGRES_DSN is set. The users are bulk-loaded (bulkInsert), not POSTed.
func BenchmarkDeepWalk(b *testing.B) {
	n := 100_000
	if v := os.Getenv("SCIM_WALK_USERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	const count = 100
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(fmt.Sprintf("store=%s/users=%d", kind, n), func(b *testing.B) {
			if kind == "postgres" {
				postgresDSN(b)
			}
			loaded := time.Now()
			store := seeded(b, kind, n)
			b.Logf("loaded %d users in %v", n, time.Since(loaded).Round(time.Millisecond))
			h := scim.MustNew(store, scim.WithTokens("t"))
			get := func(start int) time.Duration {
				req := httptest.NewRequest("GET", "/Users?startIndex="+strconv.Itoa(start)+"&count="+strconv.Itoa(count), nil)
				req.Header.Set("Authorization", "Bearer t")
				rec := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(rec, req)
				d := time.Since(t0)
				if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"totalResults":`+strconv.Itoa(n)+`,`) {
					b.Fatalf("page at %d: %d %.300s", start, rec.Code, rec.Body)
				}
				return d
			}
			var pages []time.Duration
			var walk time.Duration
			for b.Loop() {
				pages = pages[:0]
				t0 := time.Now()
				for start := 1; start <= n; start += count {
					pages = append(pages, get(start))
				}
				walk = time.Since(t0)
			}
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			k := min(100, len(pages))
			first, deep := p50(pages[:k]), p50(pages[len(pages)-k:])
			worst := time.Duration(0)
			tenth := max(len(pages)/10, 1)
			var deciles []string
			for lo := 0; lo < len(pages); lo += tenth {
				d := p50(pages[lo:min(lo+tenth, len(pages))])
				worst = max(worst, d)
				deciles = append(deciles, fmt.Sprintf("%.2f", ms(d)))
			}
			var offsets []time.Duration
			for i := range 5 { // deep pages no walk ended on: OFFSET, as a client jumping there gets
				offsets = append(offsets, get(n*9/10+7+i*3))
			}
			b.Logf("p50 ms per tenth of the walk: %s", strings.Join(deciles, " "))
			b.ReportMetric(ms(first), "first-p50-ms")
			b.ReportMetric(ms(deep), "deep-p50-ms")
			b.ReportMetric(ms(worst)/ms(first), "worst-tenth/first")
			b.ReportMetric(walk.Seconds(), "walk-s")
			b.ReportMetric(ms(p50(offsets)), "offset90%-p50-ms")
		})
	}
}

func p50(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
