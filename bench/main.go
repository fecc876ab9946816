// Command bench is the side-by-side load benchmark of issue 5: our handler over memstore, SQLite and
// (when SCIM_TEST_POSTGRES_DSN is set) PostgreSQL, github.com/elimity-com/scim's server over the best
// in-memory handler one can fairly write for it, and a bare net/http handler answering the same bytes (the
// ceiling), driven by the same load generator over the same users on loopback. Each server runs in a child
// process of its own (the bench re-executes itself with -serve=<kind>; child.go), pinned to one core when
// taskset is there, and reports its CPU time and allocations around every measured run: server CPU per
// request, without the load generator's share. -inprocess serves from the load generator's process instead.
//
//	go run ./bench -quick                      # 1k and 100k users, then the group ops scaled down: about a minute
//	go run ./bench -json r.json -svg r.svg     # 1k, 100k and 1M users, plus a 100k-user initial sync
//	go run ./bench -fairness                   # tenant B's latency beside tenant A's flood, limits off and on
//	go run ./bench -fairness -store sqlite -users 200000  # the same at the database, A's hostile mix (fairdb.go)
//	go run ./bench -groups-only                # only the group ops (groups.go), at the sizes
//
// Operations: GET by id; userName eq (hit and miss); a list page of 100; the deep walk (every user by
// startIndex and count=100, one client; walk.go); Entra's multi-op PATCH; Entra's POST; and an Entra sync
// (per user a userName filter that misses, then a POST; 8 at a time), reported in users/s. It also prints
// memstore's heap per user and the allocations of each hot path per request in process
// (`go test -bench . -benchmem ./bench` measures the same with the testing package). The group ops follow
// (groups.go): one member added to a group of 100 and of 100k, a page of groups, and Entra's group sync.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to make and drop the benchmark's schema

	"github.com/scimkit/scim"
)

const benchToken = "bench-token"

type options struct {
	quick          bool
	jsonFile       string
	svgFile        string
	duration       time.Duration
	conc           int
	sizes          []int
	maxRequests    int
	syncUsers      int
	syncTimeout    time.Duration
	heapUsers      int
	stores         map[string]bool
	poolSize       int
	rounds         int
	sqlIdle        int
	fairness       bool
	fairUsers      int
	fairConc       int
	fairStore      string // -store: the fairness benchmark at the database (fairdb.go) on this store
	fairDBUsers    int
	fairBConc      int
	fairProbe      bool
	fairConcurrent int    // -tenant-concurrent: the handler's Limits.Tenant.MaxConcurrent in -fairness -store
	fairAttack     string // -fair-attack: this process is A's clients of the fairness benchmark at the database
	groups         bool   // run the group ops (groupScale), after the users'
	groupsOnly     bool
	inProcess      bool // serve from this process, as the benchmark first did, instead of child processes
	pin            bool // pin the children to the last core and the load generator to the others (taskset)
	walk           bool // the deep walk (walk100) of every store
	walkTimeout    time.Duration
	pinned         string
	docs           int // declared Accounts per size (-1: as many as users)
}

func main() {
	if kind, ok := serveKind(os.Args[1:]); ok { // a child: one server under test (child.go)
		os.Exit(serveChild(kind))
	}
	var o options
	var sizes, stores string
	flag.BoolVar(&o.quick, "quick", false, "1k and 100k users with short runs, the group ops scaled down (about a minute); no initial sync")
	flag.StringVar(&o.jsonFile, "json", "", "write the rows to `FILE`, one JSON object per line")
	flag.StringVar(&o.svgFile, "svg", "", "write a bar chart of requests/s at the largest size to `FILE`")
	flag.DurationVar(&o.duration, "duration", 0, "measured time per op and server (default 2s, 250ms with -quick; with -fairness 4s per line, or with -store 10s per window)")
	flag.IntVar(&o.conc, "c", 8, "concurrent clients (the sync always uses 8, as Entra does)")
	flag.StringVar(&sizes, "sizes", "", "comma-separated user counts (default 1000,100000,1000000; -quick 1000,100000)")
	flag.IntVar(&o.maxRequests, "max-requests", 500_000, "at most this many iterations per op and server")
	flag.IntVar(&o.syncUsers, "sync-users", 100_000, "users in the initial sync of the full run (0: skip it)")
	flag.DurationVar(&o.syncTimeout, "sync-timeout", 3*time.Minute, "time limit of each initial sync")
	flag.IntVar(&o.heapUsers, "heap-users", -1, "users for the memstore heap measurement (default 1000000, 100000 with -quick; 0: skip)")
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved rounds the measured time of each op is split into")
	flag.IntVar(&o.sqlIdle, "sql-max-idle", 0, "set the SQL stores' database/sql MaxIdleConns (0: as the library leaves it)")
	flag.BoolVar(&o.fairness, "fairness", false, "run only the two-tenant fairness benchmark (stores memory,sqlite; 4s per line by default)")
	flag.IntVar(&o.fairUsers, "fair-users", 5_000, "tenant A's users in the fairness benchmark")
	flag.IntVar(&o.fairConc, "fair-flood", 32, "tenant A's concurrent clients in the fairness benchmark")
	flag.StringVar(&o.fairStore, "store", "", "with -fairness: the benchmark at the database (issue 16) on `KIND` (sqlite or postgres) instead of the table")
	flag.IntVar(&o.fairDBUsers, "users", 200_000, "with -fairness -store: tenant A's users")
	flag.IntVar(&o.fairBConc, "b-clients", 4, "with -fairness -store: tenant B's concurrent clients")
	flag.BoolVar(&o.fairProbe, "probe", true, "with -fairness -store: first send each of A's request kinds alone, to measure its CPU time")
	flag.BoolVar(&o.groups, "groups", true, "run the group ops too (scaled down with -quick)")
	flag.BoolVar(&o.groupsOnly, "groups-only", false, "run only the group ops")
	flag.BoolVar(&o.inProcess, "inprocess", false, "serve from the load generator's process (no server CPU figures) instead of a child process per server")
	flag.BoolVar(&o.pin, "pin", true, "with child processes: pin each to the last core and the load generator to the others (needs taskset and 2 cores)")
	flag.BoolVar(&o.walk, "walk", true, "walk all users with startIndex and count=100, one client (walk100)")
	flag.DurationVar(&o.walkTimeout, "walk-timeout", 0, "stop a walk after this long and ask its last pages instead (default 2m, 3s with -quick)")
	flag.IntVar(&o.docs, "docs", -1, "declared resources (Accounts) per size for doc-get and doc-eq (default: as many as users; 0: no declared type, no doc ops)")
	flag.StringVar(&stores, "stores", "memory,sqlite,postgres,elimity,ceiling", "servers to run")
	flag.IntVar(&o.fairConcurrent, "tenant-concurrent", 0, "with -fairness -store: the handler's Limits.Tenant.MaxConcurrent (0: the default, 2 per core)")
	flag.StringVar(&o.fairAttack, "fair-attack", "", "internal: run tenant A's clients of -fairness -store against this base URL (a child process)")
	flag.Parse()
	if o.fairAttack != "" {
		if err := runAttacker(o.fairAttack, o.fairStore, o.fairDBUsers); err != nil {
			fatalf("%v", err)
		}
		return
	}
	if o.fairStore != "" && !o.fairness {
		fatalf("-store %s: only with -fairness (the other runs take -stores)", o.fairStore)
	}
	if o.fairness && o.fairStore != "" {
		if o.duration == 0 {
			o.duration = 10 * time.Second
		}
		logf("machine: %s", machine())
		if err := runFairDB(o.fairStore, o.fairDBUsers, o.duration, o.fairBConc, o.fairProbe, o.inProcess, o.fairConcurrent); err != nil {
			fatalf("%v", err)
		}
		return
	}
	if o.fairness {
		if o.duration == 0 {
			o.duration = 4 * time.Second
		}
		if stores == "memory,sqlite,postgres,elimity,ceiling" {
			stores = "memory,sqlite"
		}
		o.stores = map[string]bool{}
		for _, s := range strings.Split(stores, ",") {
			o.stores[strings.TrimSpace(s)] = true
		}
		logf("machine: %s", machine())
		if err := runFairness(o, o.fairUsers, o.fairConc); err != nil {
			fatalf("%v", err)
		}
		return
	}

	o.sizes = []int{1_000, 100_000, 1_000_000}
	if o.quick {
		o.sizes = o.sizes[:2]
		o.syncUsers = 0
		if o.duration == 0 {
			o.duration = 250 * time.Millisecond
		}
	}
	if o.duration == 0 {
		o.duration = 2 * time.Second
	}
	if o.heapUsers < 0 { // -quick measures the heap at 100k users: loading 1M took most of its time
		o.heapUsers = map[bool]int{true: 100_000, false: 1_000_000}[o.quick]
	}
	if o.walkTimeout == 0 {
		o.walkTimeout = map[bool]time.Duration{true: 3 * time.Second, false: 2 * time.Minute}[o.quick]
	}
	if sizes != "" {
		o.sizes = nil
		for _, s := range strings.Split(sizes, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 100 {
				fatalf("-sizes: %q is not a count of at least 100 users", s)
			}
			o.sizes = append(o.sizes, n)
		}
	}
	o.stores = map[string]bool{}
	for _, s := range strings.Split(stores, ",") {
		o.stores[strings.TrimSpace(s)] = true
	}
	o.poolSize = 64
	if err := runAll(o); err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

// row is one line of the table and of the JSON output.
type row struct {
	Server string  `json:"server"` // ours, elimity, ceiling
	Store  string  `json:"store"`  // memory, sqlite, postgres; map (elimity's handler); - (ceiling)
	Op     string  `json:"op"`
	Users  int     `json:"users"`
	RPS    float64 `json:"rps"` // requests/s; users/s for sync and initial-sync
	P50us  float64 `json:"p50_us"`
	P99us  float64 `json:"p99_us"`
	// Groups and Members describe the group ops' data: the groups listed or synced, the members of the
	// group PATCHed (or of each listed group), the memberships the sync adds.
	Groups  int `json:"groups,omitempty"`
	Members int `json:"members,omitempty"`
	// The server's own CPU time (user + system) and heap allocations per HTTP request, read from its child
	// process around the measured runs (absent with -inprocess). For sync and the group adds, a request is
	// one of the iteration's two.
	CPUus  float64 `json:"cpu_us_per_req,omitempty"`
	Allocs float64 `json:"allocs_per_req,omitempty"`
	// The deep walk (walk100): its pages, the first page's p50 (asked alone, repeatedly), the p50 of the
	// walk's deepest pages, and the whole walk. P50us and P99us are over all its pages.
	Pages       int     `json:"pages,omitempty"`       // walked
	PagesTotal  int     `json:"pages_total,omitempty"` // in the store: more than Pages when the walk ran out of time
	FirstP50us  float64 `json:"first_p50_us,omitempty"`
	DeepP50us   float64 `json:"deep_p50_us,omitempty"`
	WalkSeconds float64 `json:"walk_s,omitempty"`

	iters, errors int
	partial       bool // the initial sync did not finish in time
}

type extras struct {
	heapPerUser, elimHeapPerUser float64
	heapUsers                    int
	allocs                       []allocRow
}

func runAll(o options) error {
	start := time.Now()
	m := machine()
	logf("machine: %s", m)
	var ex extras
	if o.heapUsers > 0 && !o.groupsOnly {
		ex.heapUsers = o.heapUsers
		var err error
		if ex.heapPerUser, ex.elimHeapPerUser, err = measureHeap(o.heapUsers, !o.quick); err != nil {
			return err
		}
		logf("heap per user at %d users: memstore %.0f B (elimity map handler: %.0f B; measured in full runs only)",
			o.heapUsers, ex.heapPerUser, ex.elimHeapPerUser)
	}
	if !o.groupsOnly {
		allocs, err := measureAllocs()
		if err != nil {
			return err
		}
		ex.allocs = allocs
	}

	// The in-process measurements above use every core; the load generator is pinned from here on.
	if !o.inProcess && o.pin {
		if cpus, err := pinSelf(); err != nil {
			logf("not pinned: %v", err)
		} else {
			srv, _, _ := pinCPUs()
			o.pinned = fmt.Sprintf("servers pinned to cpu %s (GOMAXPROCS 1), the load generator to cpu %s", srv, cpus)
			logf("%s", o.pinned)
		}
	}
	var rows []row
	if o.groupsOnly {
		o.sizes, o.syncUsers = nil, 0
	}
	for _, n := range o.sizes {
		rs, err := runSize(o, n)
		rows = append(rows, rs...)
		if err != nil {
			return err
		}
	}
	if o.syncUsers > 0 {
		rs, err := runInitialSync(o)
		rows = append(rows, rs...)
		if err != nil {
			return err
		}
	}
	gs := fullGroupScale
	if o.quick {
		gs = quickGroupScale
	}
	if o.groups || o.groupsOnly {
		rs, err := runGroups(o, gs)
		rows = append(rows, rs...)
		if err != nil {
			return err
		}
	}
	if !o.groupsOnly {
		printTable(os.Stdout, m, o, rows, ex)
	}
	if o.groups || o.groupsOnly {
		printGroupTable(os.Stdout, m, gs, rows)
	}
	if o.jsonFile != "" {
		if err := writeJSON(o.jsonFile, rows); err != nil {
			return err
		}
	}
	if o.svgFile != "" && len(o.sizes) > 0 {
		if err := os.WriteFile(o.svgFile, chartSVG(rows, o.sizes[len(o.sizes)-1], m+"; "+where(o)), 0o644); err != nil {
			return err
		}
	}
	logf("done in %s", time.Since(start).Round(time.Second))
	return nil
}

// ourHandler is what a host mounts: our handler with a static token.
func ourHandler(s scim.Store, opts ...scim.Option) http.Handler {
	return scim.MustNew(s, append([]scim.Option{scim.WithTokens(benchToken)}, opts...)...)
}

// runSize seeds every server with n users (and ours with as many Accounts, or -docs), then measures each op
// on all of them in interleaved rounds, and walks each store's users (walk100) after the list op. The doc
// ops run on ours only: elimity's server and the ceiling serve no declared type.
func runSize(o options, n int) ([]row, error) {
	var targets []*target
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		freeMemory()
	}()
	logf("[%d] seeding", n)
	docs := o.docs
	if docs < 0 {
		docs = n
	}
	spec := seedSpec{Users: n, Docs: docs, SQLMaxIdle: o.sqlIdle}
	// Ours over memstore (always: the ceiling's answers are recorded from it), then the others.
	kinds := []string{"memory"}
	for _, kind := range []string{"ceiling", "elimity", "sqlite", "postgres"} {
		if o.stores[kind] && (kind != "postgres" || slices.Contains(sqlKinds(o), kind)) {
			kinds = append(kinds, kind)
		}
	}
	ts, err := startServers(o, kinds, spec, o.conc)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		cleanups = append(cleanups, t.close)
	}
	ceil := &ceiling{answers: map[string]map[string]*canned{}}
	userOps := slices.DeleteFunc(slices.Clone(allOps), isDocOp)
	pool, err := capture(ts[0], ceil, userOps, n, o.poolSize, rand.New(rand.NewPCG(uint64(n), 7)))
	if err != nil {
		return nil, err
	}
	for i, t := range ts {
		switch {
		case kinds[i] == "memory" && !o.stores["memory"]:
			continue
		case kinds[i] == "ceiling":
			if err := t.loadCanned(ceil); err != nil {
				return nil, err
			}
			t.pool = pool
		}
		targets = append(targets, t)
	}
	freeMemory() // no collection of the seeding's garbage during the measurements (each child did its own)
	var rows []row
	for _, op := range allOps {
		on, m := targets, n
		if isDocOp(op) {
			on = slices.DeleteFunc(slices.Clone(targets), func(t *target) bool { return t.server != "ours" })
			m = docs
			if m == 0 || len(on) == 0 {
				continue
			}
		}
		rs, err := measureOp(o, on, op, m, n)
		rows = append(rows, rs...)
		if err != nil {
			return rows, err
		}
		if op == opList && o.walk {
			for _, t := range targets {
				if t.pool != nil {
					continue // the ceiling has answers for the captured pages only
				}
				r, err := walk(t, n, o.walkTimeout)
				if err != nil {
					return rows, err
				}
				rows = append(rows, r)
			}
		}
	}
	return rows, nil
}

func sqlKinds(o options) []string {
	var kinds []string
	for _, kind := range []string{"sqlite", "postgres"} {
		if o.stores[kind] && (kind == "sqlite" || os.Getenv("SCIM_TEST_POSTGRES_DSN") != "") {
			kinds = append(kinds, kind)
		}
	}
	return kinds
}

// runInitialSync measures Entra's first cycle: syncUsers users, each looked up then created, 8 at a time,
// into an empty store; one server after the other, each into its own store.
func runInitialSync(o options) ([]row, error) {
	var rows []row
	empty := seedSpec{Capacity: o.syncUsers, SQLMaxIdle: o.sqlIdle}
	for _, kind := range []string{"memory", "ceiling", "elimity", "sqlite", "postgres"} {
		if !o.stores[kind] || (kind == "postgres" && !slices.Contains(sqlKinds(o), kind)) {
			continue
		}
		var pool map[string][]draw
		ceil := &ceiling{answers: map[string]map[string]*canned{}}
		if kind == "ceiling" {
			src, err := startServer(o, "memory", empty, o.conc)
			if err != nil {
				return rows, err
			}
			pool, err = capture(src, ceil, []string{opInitialSync}, 1, o.poolSize, rand.New(rand.NewPCG(1, 7)))
			src.close()
			if err != nil {
				return rows, err
			}
		}
		t, err := startServer(o, kind, empty, o.conc)
		if err != nil {
			return rows, err
		}
		if kind == "ceiling" {
			if err := t.loadCanned(ceil); err != nil {
				t.close()
				return rows, err
			}
			t.pool = pool
		}
		rs, err := measureOp(o, []*target{t}, opInitialSync, 0, o.syncUsers)
		t.close()
		rows = append(rows, rs...)
		if err != nil {
			return rows, err
		}
	}
	freeMemory()
	return rows, nil
}

// measureOp measures op on every target. Each target's answer is checked first and the op warmed up; then
// the measured time is split into rounds, and each round visits every target in turn (starting with a
// different one each round), so that whatever else the machine does at the time weighs on all of them
// alike. users is what the rows report: the stores' size, or for the initial sync the users synced.
func measureOp(o options, targets []*target, op string, n, users int) ([]row, error) {
	conc, dur, maxIters, rounds := o.conc, o.duration, o.maxRequests, o.rounds
	warm := min(dur/4, 300*time.Millisecond)
	if op == opSync || op == opInitialSync {
		conc = 8
	}
	if op == opInitialSync {
		dur, maxIters, rounds = o.syncTimeout, users, 1
	}
	slow := make([]bool, len(targets))
	for i, t := range targets {
		if op == opInitialSync {
			continue
		}
		t0 := time.Now()
		if err := t.check(op, n, t.newDraw(op, n, rand.New(rand.NewPCG(3, 4)))); err != nil {
			return nil, err
		}
		// An op slower than a round has nothing to warm up, and runs once, for the whole duration.
		if slow[i] = time.Since(t0) > dur/time.Duration(rounds); !slow[i] {
			t.run(op, n, conc, warm, maxIters)
		}
	}
	acc := make([]load, len(targets))
	for r := range rounds {
		for j := range targets {
			i := (j + r) % len(targets)
			d, m := dur/time.Duration(rounds), maxIters/rounds
			if slow[i] {
				if r > 0 {
					continue
				}
				d, m = dur, maxIters
			}
			acc[i].add(targets[i].run(op, n, conc, d, m))
		}
	}
	var rows []row
	for i, t := range targets {
		l := acc[i]
		if open, idleClosed, waits, ok := t.dbStats(); ok {
			logf("  %s database/sql: %d open, %d closed as idle beyond MaxIdleConns, %d waits", t.name(),
				open, idleClosed-t.idleClosed, waits)
			t.idleClosed = idleClosed
		}
		slices.Sort(l.lat)
		r := row{Server: t.server, Store: t.store, Op: op, Users: users, RPS: l.rate(),
			P50us: float64(l.quantile(0.50)) / float64(time.Microsecond),
			P99us: float64(l.quantile(0.99)) / float64(time.Microsecond),
			iters: l.iters, errors: l.errors, partial: op == opInitialSync && l.iters < users}
		r.CPUus, r.Allocs = l.perRequest()
		rows = append(rows, r)
		logf("[%d] %-16s %-12s %9s/s  p50 %8s  p99 %8s%s  (%d iterations%s)", users, t.name(), op, fmtRate(r.RPS),
			fmtDur(l.quantile(0.5)), fmtDur(l.quantile(0.99)), cpuNote(r, l), l.iters, errNote(l))
		if l.errors > 0 { // answers were checked before the load: these are time-outs or the like; reported
			logf("  first error: %s", l.first)
		}
	}
	return rows, nil
}

// cpuNote is the log's server CPU and allocations per request, or why they are missing.
func cpuNote(r row, l load) string {
	switch {
	case l.usageErr != nil:
		return fmt.Sprintf("  (no CPU figure: %v)", l.usageErr)
	case !l.measured:
		return ""
	}
	return fmt.Sprintf("  cpu %6.1fµs  %5.0f allocs /req", r.CPUus, r.Allocs)
}

func errNote(l load) string {
	if l.errors == 0 {
		return ""
	}
	return fmt.Sprintf(", %d ERRORS", l.errors)
}

func writeJSON(path string, rows []row) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	round := func(v float64) float64 { return math.Round(v*10) / 10 }
	for _, r := range rows {
		r.RPS, r.P50us, r.P99us = round(r.RPS), round(r.P50us), round(r.P99us)
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// machine describes where the numbers come from: cores, CPU model, Go version.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d cores (%s), %s %s/%s, GOMAXPROCS %d", runtime.NumCPU(), model, runtime.Version(),
		runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
}
