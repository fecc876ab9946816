package scim_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// hostilePatch returns issue 16's PATCH: n filtered removes, each with a value filter of terms "type eq"
// comparisons joined by "or" that match none of the user's emails (so every op examines every email).
func hostilePatch(n, terms int) string {
	ops := make([]string, n)
	for i := range ops {
		t := make([]string, terms)
		for j := range t {
			t[j] = fmt.Sprintf(`type eq \"nm%02d-%010d\"`, j, i)
		}
		ops[i] = `{"op":"remove","path":"emails[` + strings.Join(t, " or ") + `]"}`
	}
	return patchOp(ops...)
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHostilePatchFilters replays issue 16's PATCH (1000 filtered removes of 31-term value filters,
// about 990 KB) over a user with 1000 emails, reporting the process CPU per request and the status: with the
// default work budget, and without one (the parse and the 31 million evaluations):
//
//	go test -run '^$' -bench HostilePatchFilters -benchtime 1x .
func BenchmarkHostilePatchFilters(b *testing.B) {
	for _, c := range []struct {
		name string
		work int
	}{{"default", 0}, {"no-budget", scim.NoLimit}} {
		b.Run(c.name, func(b *testing.B) {
			h := scim.MustNew(memstore.New(), scim.WithTokens(testToken),
				scim.WithLimits(scim.Limits{RequestTimeout: time.Minute, MaxWork: c.work}))
			rec := fuzzServe(h, "POST", "/Users", `{"userName":"victim","emails":`+emailsValue(1000, 0)+`}`)
			if rec.Code != 201 {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
			id := strings.TrimPrefix(rec.Header().Get("Location"), "http://example.com/Users/")
			body := hostilePatch(1000, 31)
			status := 0
			start := cpuTime()
			for b.Loop() {
				status = fuzzServe(h, "PATCH", "/Users/"+id, body).Code
			}
			b.ReportMetric((cpuTime()-start).Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(status), "status")
		})
	}
}
