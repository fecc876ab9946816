package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The operations, in the order they run against each server (writes last, so reads see the seeded data).
const (
	opGet         = "get"
	opEqHit       = "eq-hit"
	opEqMiss      = "eq-miss"
	opDocGet      = "doc-get" // GET /Accounts/{id}: a declared type's resource, as get reads a user (docs.go)
	opDocEq       = "doc-eq"  // GET /Accounts?filter=name eq "…": its unique attribute, as eq-hit's userName
	opList        = "list100"
	opPatch       = "patch"
	opPost        = "post"
	opSync        = "sync"         // per user: filter by userName (a miss), then POST; rps is users/s
	opInitialSync = "initial-sync" // the same, for syncSize users into an empty store (full run only)
)

var allOps = []string{opGet, opDocGet, opEqHit, opDocEq, opEqMiss, opList, opPatch, opPost, opSync}

// call is one HTTP request of an operation, with what its answer must be.
type call struct {
	method, uri string
	body        []byte
	status      int
	contains    []string // substrings the body must hold (checked once per op and server, before the load)
	// untimed marks a call that restores the state after the timed ones (the removal of the member a
	// group-add added): it runs, but the iteration's latency ends before it.
	untimed bool
}

// draw is the random part of one iteration: r picks a seeded user (0 <= r < n), k is a fresh number for
// names and values nobody used before.
type draw struct {
	r int
	k int64
}

// calls returns the requests of one iteration of op over a store of n users.
func calls(op string, n int, d draw) []call {
	switch op {
	case opGet:
		return []call{{method: "GET", uri: "/Users/" + userID(d.r), status: 200,
			contains: []string{`"userName":"` + userName(d.r) + `"`}}}
	case opEqHit:
		return []call{{method: "GET", uri: filterURI(userName(d.r)), status: 200,
			contains: []string{`"totalResults":1`, `"userName":"` + userName(d.r) + `"`}}}
	case opEqMiss:
		return []call{{method: "GET", uri: filterURI(missUserName(int(d.k))), status: 200,
			contains: []string{`"totalResults":0`, `"Resources":[]`}}}
	case opList:
		start := d.r%max(n-99, 1) + 1
		return []call{{method: "GET", uri: "/Users?startIndex=" + strconv.Itoa(start) + "&count=100", status: 200,
			contains: []string{`"itemsPerPage":100`, `"userName":"` + userName(start-1) + `"`}}}
	case opPatch:
		return []call{{method: "PATCH", uri: "/Users/" + userID(d.r), body: entraPatchBody(d.k), status: 200,
			contains: []string{fmt.Sprintf(`"displayName":"Pvlo %d"`, d.k), fmt.Sprintf(`"employeeNumber":"%d"`, d.k),
				fmt.Sprintf(`"new%d@contoso.com"`, d.k)}}}
	case opPost:
		name := newUserName(d.k)
		return []call{{method: "POST", uri: "/Users", body: entraPostBody(name, d.k), status: 201,
			contains: []string{`"userName":"` + name + `"`}}}
	case opSync, opInitialSync:
		name := newUserName(d.k)
		return []call{
			{method: "GET", uri: filterURI(name), status: 200, contains: []string{`"totalResults":0`}},
			{method: "POST", uri: "/Users", body: entraPostBody(name, d.k), status: 201, contains: []string{`"userName":"` + name + `"`}},
		}
	}
	if isDocOp(op) {
		return docCalls(op, d)
	}
	if cs := groupCalls(op, n, d); cs != nil {
		return cs
	}
	panic("unknown op " + op)
}

// filterURI is Entra's lookup: GET /Users?filter=userName eq "name", spaces as '+', quotes as %22.
func filterURI(name string) string {
	return "/Users?filter=" + url.QueryEscape(`userName eq "`+name+`"`)
}

// target is one running server on loopback: in this process (srv), or a child process (proc).
type target struct {
	server, store string // e.g. "ours", "sqlite"
	base          string // http://127.0.0.1:port
	client        *http.Client
	srv           *http.Server
	proc          *child
	closers       []func()
	// pool, for the ceiling: the only draws it has answers for; ceil, its answers in process.
	pool map[string][]draw
	ceil *ceiling
	// db, for the SQL stores in process: the pool whose statistics are reported.
	db         *sql.DB
	idleClosed int64
}

func startTarget(server, store string, h http.Handler, conc int) (*target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t := newTarget(server, store, "http://"+ln.Addr().String(), conc)
	t.srv = srv
	return t, nil
}

// newTarget is the client side of a target listening at base.
func newTarget(server, store, base string, conc int) *target {
	tr := &http.Transport{
		MaxIdleConns:        4 * conc,
		MaxIdleConnsPerHost: 4 * conc,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &target{server: server, store: store, base: base,
		client: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
}

func (t *target) close() {
	t.client.CloseIdleConnections()
	if t.srv != nil {
		_ = t.srv.Close()
	}
	if t.proc != nil {
		t.proc.stop()
	}
	for i := len(t.closers) - 1; i >= 0; i-- {
		t.closers[i]()
	}
}

// dbStats returns the SQL store's pool statistics, in process or from the child.
func (t *target) dbStats() (open int, maxIdleClosed, waits int64, ok bool) {
	if t.db != nil {
		st := t.db.Stats()
		return st.OpenConnections, st.MaxIdleClosed, st.WaitCount, true
	}
	if t.proc != nil {
		if u, err := t.proc.usage(); err == nil && u.HasDB {
			return u.DB.Open, u.DB.MaxIdleClosed, u.DB.WaitCount, true
		}
	}
	return 0, 0, 0, false
}

// measured runs f and, for a server in a child process, adds to what f returned the child's CPU time and
// allocations over it.
func (t *target) measured(f func() load) load {
	if t.proc == nil {
		return f()
	}
	before, err := t.proc.usage()
	if err != nil {
		l := f()
		l.usageErr = err
		return l
	}
	l := f()
	l.cpu, l.mallocs, _, l.usageErr = t.proc.since(before)
	l.measured = l.usageErr == nil
	return l
}

func (t *target) name() string { return t.server + "/" + t.store }

// do sends c and returns the status and the body (read whole, so the connection is kept alive).
func (t *target) do(c call) (int, []byte, http.Header, error) { return t.doAs(benchToken, c) }

// doAs is do with another bearer token (another tenant).
func (t *target) doAs(token string, c call) (int, []byte, http.Header, error) {
	return t.doCtx(context.Background(), token, c)
}

// doCtx is doAs for a request that ends when ctx does.
func (t *target) doCtx(ctx context.Context, token string, c call) (int, []byte, http.Header, error) {
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, t.base+c.uri, body)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if c.body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header, err
}

// check sends one iteration and verifies every answer: a benchmark of error answers measures nothing.
// The ceiling's answers are ours' by construction; only their status is checked (its POST answers are one
// canned body whatever was posted).
func (t *target) check(op string, n int, d draw) error {
	for _, c := range calls(op, n, d) {
		if t.pool != nil {
			c.contains = nil
		}
		status, body, _, err := t.do(c)
		if err != nil {
			return fmt.Errorf("%s %s %s: %w", t.name(), c.method, c.uri, err)
		}
		if status != c.status {
			return fmt.Errorf("%s %s %s: status %d, want %d: %.300s", t.name(), c.method, c.uri, status, c.status, body)
		}
		for _, s := range c.contains {
			if !bytes.Contains(body, []byte(s)) {
				return fmt.Errorf("%s %s %s: the answer lacks %s: %.600s", t.name(), c.method, c.uri, s, body)
			}
		}
	}
	return nil
}

// newDraw picks the next iteration's draw: a uniformly random user and a fresh number, or, for the
// ceiling, one of the draws it has answers for.
func (t *target) newDraw(op string, n int, rng *rand.Rand) draw {
	if p := t.pool[op]; p != nil {
		return p[rng.IntN(len(p))]
	}
	d := draw{k: nextK()}
	if n > 0 {
		d.r = rng.IntN(n)
	}
	return d
}

// load is the measurement of one op against one target.
type load struct {
	iters    int
	requests int // HTTP requests answered (an iteration can be several)
	elapsed  time.Duration
	lat      []time.Duration // per iteration, sorted by run (add leaves them to sort)
	errors   int
	first    string // the first error
	// For a server in a child process: its CPU time and allocations over the run.
	measured bool
	cpu      time.Duration
	mallocs  int64
	usageErr error
}

// add merges m, a later round of the same op and target, into l.
func (l *load) add(m load) {
	empty := l.elapsed == 0 && l.iters == 0
	l.iters += m.iters
	l.requests += m.requests
	l.elapsed += m.elapsed
	l.lat = append(l.lat, m.lat...)
	l.errors += m.errors
	if l.first == "" {
		l.first = m.first
	}
	l.measured = (empty || l.measured) && m.measured
	l.cpu += m.cpu
	l.mallocs += m.mallocs
	if l.usageErr == nil {
		l.usageErr = m.usageErr
	}
}

// perRequest returns the server's CPU µs and allocations per request, when measured.
func (l load) perRequest() (cpuUS, allocs float64) {
	if !l.measured || l.requests == 0 {
		return 0, 0
	}
	return float64(l.cpu) / float64(time.Microsecond) / float64(l.requests), float64(l.mallocs) / float64(l.requests)
}

func (l load) rate() float64 { return float64(l.iters) / l.elapsed.Seconds() }

func (l load) quantile(q float64) time.Duration {
	if len(l.lat) == 0 {
		return 0
	}
	return l.lat[min(int(q*float64(len(l.lat))), len(l.lat)-1)]
}

// run drives op with conc workers sharing the target's client (keep-alive) until dur has passed or
// maxIters iterations have started, and records each iteration's latency.
func (t *target) run(op string, n, conc int, dur time.Duration, maxIters int) load {
	return t.measured(func() load { return t.drive(op, n, conc, dur, maxIters) })
}

func (t *target) drive(op string, n, conc int, dur time.Duration, maxIters int) load {
	var started, requests atomic.Int64
	var errs atomic.Int64
	var firstMu sync.Mutex
	first := ""
	lats := make([][]time.Duration, conc)
	deadline := time.Now().Add(dur)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w)+1, uint64(time.Now().UnixNano())))
			lat := make([]time.Duration, 0, 1024)
			for time.Now().Before(deadline) && started.Add(1) <= int64(maxIters) {
				cs := calls(op, n, t.newDraw(op, n, rng))
				t0 := time.Now()
				var took time.Duration
				for _, c := range cs {
					if c.untimed && took == 0 {
						took = time.Since(t0)
					}
					status, body, _, err := t.do(c)
					if err == nil {
						requests.Add(1)
					}
					if err == nil && status != c.status {
						err = fmt.Errorf("status %d, want %d: %.200s", status, c.status, body)
					}
					if err != nil {
						if errs.Add(1) == 1 {
							firstMu.Lock()
							first = fmt.Sprintf("%s %s: %v", c.method, c.uri, err)
							firstMu.Unlock()
						}
						break
					}
				}
				if took == 0 {
					took = time.Since(t0)
				}
				lat = append(lat, took)
			}
			lats[w] = lat
		}()
	}
	wg.Wait()
	l := load{elapsed: time.Since(start), lat: slices.Concat(lats...), errors: int(errs.Load()), first: first,
		requests: int(requests.Load())}
	l.iters = len(l.lat)
	slices.Sort(l.lat)
	return l
}

// ceiling is the bare net/http handler: the answers ours gave, pre-rendered per request, found by method and
// request URI. No SCIM work at all: what net/http and the loopback cost.
type ceiling struct {
	answers map[string]map[string]*canned // method → request URI → answer
}

type canned struct {
	status int
	header http.Header
	body   []byte
}

func (c *ceiling) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
	a := c.answers[r.Method][r.RequestURI]
	if a == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	for k, v := range a.header {
		h[k] = v
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// capture records, for poolSize draws of each op, the answers t (ours over memstore) gives, for the
// ceiling to replay.
func capture(t *target, c *ceiling, ops []string, n, poolSize int, rng *rand.Rand) (map[string][]draw, error) {
	pool := map[string][]draw{}
	for _, op := range ops {
		for attempt := 0; len(pool[op]) < poolSize && attempt < 20*poolSize; attempt++ {
			d := draw{r: rng.IntN(n), k: nextK()}
			cs := calls(op, n, d)
			if slices.ContainsFunc(cs, func(cl call) bool { return cl.method != "POST" && c.answers[cl.method][cl.uri] != nil }) {
				continue // one answer per request URI: draw another user
			}
			for _, cl := range cs {
				status, body, header, err := t.do(cl)
				if err != nil {
					return nil, err
				}
				if status != cl.status {
					return nil, fmt.Errorf("capturing %s %s: status %d: %.300s", cl.method, cl.uri, status, body)
				}
				header = header.Clone()
				header.Del("Date")
				if c.answers[cl.method] == nil {
					c.answers[cl.method] = map[string]*canned{}
				}
				c.answers[cl.method][cl.uri] = &canned{status: status, header: header, body: body}
			}
			pool[op] = append(pool[op], d)
		}
	}
	return pool, nil
}

// fmtDur prints a latency in µs or ms, three significant figures.
func fmtDur(d time.Duration) string {
	us := float64(d) / float64(time.Microsecond)
	switch {
	case us < 1000:
		return strconv.FormatFloat(us, 'f', 0, 64) + "µs"
	case us < 10000:
		return strconv.FormatFloat(us/1000, 'f', 2, 64) + "ms"
	default:
		return strconv.FormatFloat(us/1000, 'f', 1, 64) + "ms"
	}
}

func fmtRate(r float64) string {
	switch {
	case r >= 100:
		return strconv.FormatFloat(r, 'f', 0, 64)
	case r >= 10:
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
	return strconv.FormatFloat(r, 'f', 2, 64)
}

func durationUS(v float64) time.Duration { return time.Duration(v * float64(time.Microsecond)) }
