package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scimkit/scim"
)

// The fairness benchmark (-fairness): tenant B runs Entra's sync pattern while tenant A floods the same
// handler with its worst requests, with the per-tenant limits off and on (DefaultTenantLimits). B's latency
// with the flood, against B alone, is what one tenant's load costs another.
const (
	tokenA, tokenB = "tenant-a-token", "tenant-b-token"
	fairUsersB     = 1_000 // B's users; A has the -fair-users
	fairConcB      = 8     // B's workers: Entra's concurrency
)

// fairRow is one line of the fairness table.
type fairRow struct {
	store, limits string
	flood         bool
	bP50, bP99    time.Duration
	bRate         float64 // B's requests/s
	bErrors       int
	aServed, a429 float64 // A's answers/s: served, refused with 429
}

// fairAuth maps the two tokens to tenants A ("", where the bulk seeding puts users) and B ("b").
func fairAuth(r *http.Request) (string, error) {
	switch tok, _ := scim.BearerToken(r); tok {
	case tokenA:
		return "", nil
	case tokenB:
		return "b", nil
	}
	return "", scim.ErrUnauthorized
}

// bUser is B's user i, with its own ids.
func bUser(i int) *scim.User {
	u := entraUser(i)
	u.ID = "bbbbbbbb-0000-4000-8000-" + pad(strconv.Itoa(i), 12)
	return u
}

// floodCalls are A's worst requests over its nA users, in turn: an unindexed substring filter (a full scan
// that matches nobody), a sort of every user by displayName (a page of 1000), and a PATCH of 300 operations.
func floodCalls(nA int) []call {
	var ops []string
	paths := []string{"displayName", "title", "nickName", "name.formatted", `emails[type eq \"work\"].value`, "userType"}
	for i := range 300 {
		ops = append(ops, fmt.Sprintf(`{"op":"Replace","path":"%s","value":"v%d"}`, paths[i%len(paths)], i))
	}
	patch := []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(ops, ",") + `]}`)
	return []call{
		{method: "GET", uri: "/Users?count=100&filter=" + url.QueryEscape(`displayName co "x"`), status: 200},
		{method: "GET", uri: "/Users?sortBy=displayName&count=1000", status: 200},
		{method: "PATCH", uri: "/Users/" + userID(nA/2), body: patch, status: 200},
	}
}

// syncCalls is one iteration of B's Entra sync: a user found by userName and PATCHed, or one not found
// and POSTed.
func syncCalls(d draw) []call {
	if d.k%2 == 0 {
		return []call{
			{method: "GET", uri: filterURI(userName(d.r)), status: 200},
			{method: "PATCH", uri: "/Users/" + bUser(d.r).ID, body: entraPatchBody(d.k), status: 200},
		}
	}
	name := newUserName(d.k)
	return []call{
		{method: "GET", uri: filterURI(name), status: 200},
		{method: "POST", uri: "/Users", body: entraPostBody(name, d.k), status: 201},
	}
}

// runFairness measures every store of o.stores among memory and sqlite, A holding nA users.
func runFairness(o options, nA int, conc int) error {
	var rows []fairRow
	for _, kind := range []string{"memory", "sqlite"} {
		if !o.stores[kind] {
			continue
		}
		t0 := time.Now()
		var store scim.Store
		closeStore := func() {}
		if kind == "memory" {
			s, err := seedMemory(nA)
			if err != nil {
				return err
			}
			store = s
		} else {
			s, c, err := openSQLStore(kind)
			if err != nil {
				return err
			}
			closeStore = c
			if err := seedSQL(singleTenant(), s, nA, false); err != nil {
				c()
				return err
			}
			store = s
		}
		ctxB := scim.ContextWithTenant(context.Background(), "b")
		for i := range fairUsersB {
			if _, err := store.Create(ctxB, bUser(i)); err != nil {
				closeStore()
				return err
			}
		}
		logf("[fairness] seeded %s: A %d users, B %d, in %s", kind, nA, fairUsersB, time.Since(t0).Round(time.Millisecond))
		freeMemory()
		for _, lim := range []struct {
			name string
			l    scim.TenantLimits
		}{{"off", scim.TenantLimits{MaxConcurrent: scim.NoLimit}}, {"default", scim.DefaultTenantLimits},
			{"MaxConcurrent 2", scim.TenantLimits{MaxConcurrent: 2, MaxQueue: 32, MaxWait: time.Second}}} {
			h := scim.MustNew(store, scim.WithAuthenticator(fairAuth), scim.WithLimits(scim.Limits{Tenant: lim.l}))
			t, err := startTarget("ours", kind, h, conc+fairConcB)
			if err != nil {
				closeStore()
				return err
			}
			if lim.name == "off" { // what each of A's requests costs alone
				for _, c := range floodCalls(nA) {
					t0 := time.Now()
					status, body, _, err := t.doAs(tokenA, c)
					if err != nil || status != c.status {
						closeStore()
						return fmt.Errorf("flood %s %s: %d %v %.300s", c.method, c.uri, status, err, body)
					}
					logf("[fairness] %s: A's %s %.60s alone: %s", kind, c.method, c.uri, fmtDur(time.Since(t0)))
				}
			}
			for _, flood := range []bool{false, true} {
				r := fairPhase(t, o.duration, nA, conc, flood)
				r.store, r.limits = kind, lim.name
				logf("[fairness] %-6s limits %-7s flood %-5v  B p50 %8s p99 %8s  %6.0f req/s (%d errors)  A %6.0f served/s %7.0f 429/s",
					kind, lim.name, flood, fmtDur(r.bP50), fmtDur(r.bP99), r.bRate, r.bErrors, r.aServed, r.a429)
				rows = append(rows, r)
			}
			t.close()
		}
		closeStore()
		freeMemory()
	}
	printFairness(o, nA, conc, rows)
	return nil
}

// fairPhase runs B's sync for dur (after a short warm-up), with A's flood of conc workers alongside when
// flood is set. A ignores Retry-After and sends again at once: the worst client.
func fairPhase(t *target, dur time.Duration, nA, conc int, flood bool) fairRow {
	var stop atomic.Bool
	var aServed, a429 atomic.Int64
	var wg sync.WaitGroup
	if flood {
		fc := floodCalls(nA)
		for w := range conc {
			wg.Go(func() {
				for i := w; !stop.Load(); i++ {
					status, _, _, err := t.doAs(tokenA, fc[i%len(fc)])
					switch {
					case err != nil:
					case status == http.StatusTooManyRequests:
						a429.Add(1)
					default:
						aServed.Add(1)
					}
				}
			})
		}
	}
	runB := func(d time.Duration) ([]time.Duration, int) {
		var mu sync.Mutex
		var lat []time.Duration
		errs := 0
		var bw sync.WaitGroup
		deadline := time.Now().Add(d)
		for w := range fairConcB {
			bw.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w)+11, uint64(time.Now().UnixNano())))
				var mine []time.Duration
				bad := 0
				for time.Now().Before(deadline) {
					for _, c := range syncCalls(draw{r: rng.IntN(fairUsersB), k: nextK()}) {
						t0 := time.Now()
						status, _, _, err := t.doAs(tokenB, c)
						mine = append(mine, time.Since(t0))
						if err != nil || status != c.status {
							bad++
						}
					}
				}
				mu.Lock()
				lat, errs = append(lat, mine...), errs+bad
				mu.Unlock()
			})
		}
		bw.Wait()
		return lat, errs
	}
	runB(min(dur/4, 500*time.Millisecond)) // warm-up, and the flood's ramp
	served0, refused0 := aServed.Load(), a429.Load()
	t0 := time.Now()
	lat, errs := runB(dur)
	elapsed := time.Since(t0).Seconds()
	served, refused := aServed.Load()-served0, a429.Load()-refused0
	stop.Store(true)
	wg.Wait()
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(int(p*float64(len(lat))), len(lat)-1)] }
	return fairRow{flood: flood, bP50: q(0.5), bP99: q(0.99), bRate: float64(len(lat)) / elapsed, bErrors: errs,
		aServed: float64(served) / elapsed, a429: float64(refused) / elapsed}
}

func printFairness(o options, nA, conc int, rows []fairRow) {
	var w io.Writer = os.Stdout
	fmt.Fprintf(w, "\nFairness: tenant B (Entra sync, %d workers, %d users) alone and beside tenant A's flood (%d workers;\n"+
		"unindexed filter, sort of all %d users, 300-op PATCH), per-tenant limits off, default (8 at once) and 2 at once; %s per line.\n\n",
		fairConcB, fairUsersB, conc, nA, o.duration)
	fmt.Fprintln(w, "| store | tenant limits | A's flood | B p50 | B p99 | B req/s | B p99 / alone | A served/s | A 429/s |")
	fmt.Fprintln(w, "|---|---|---|--:|--:|--:|--:|--:|--:|")
	var alone time.Duration
	for _, r := range rows {
		flood, factor := "no", "1.0x"
		if r.flood {
			flood = "yes"
			factor = fmt.Sprintf("%.1fx", float64(r.bP99)/float64(alone))
		} else {
			alone = r.bP99
		}
		errs := ""
		if r.bErrors > 0 {
			errs = fmt.Sprintf(" (%d errors)", r.bErrors)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.0f%s | %s | %.0f | %.0f |\n", r.store, r.limits, flood,
			fmtDur(r.bP50), fmtDur(r.bP99), r.bRate, errs, factor, r.aServed, r.a429)
	}
}
