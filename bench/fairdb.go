package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/sqlstore"
)

// The fairness benchmark at the database (issue 16): `-fairness -store sqlite|postgres -users N`. One
// handler (default tenant limits, request timeout and body limit; passwords hashed) over one SQL store
// serves two tenants. Tenant B (fairUsersB users) only reads its users by id; tenant A holds the N users, a
// group of N/2 members, fairDBSmallGroups groups of 100 and a user with 1000 emails, and runs the hostile
// mix of fairDBMix. B's latency with A's mix, against B alone, is what A's database work costs B.
//
// What is measured, and what it is named:
//   - b_p99_alone_ms, b_p99_under_attack_ms: B's GET-by-id latency (wall time at the client), alone and
//     while A's mix runs; factor is their ratio. b_503 and b_errors count B's 503s and its other failures
//     (any status but 200, or no answer).
//   - a_max_cpu_s: the most CPU-seconds one of A's requests costs. Go cannot cheaply attribute CPU to one
//     request under concurrency, so each request kind of the mix is first sent once with nothing else
//     running, and its cost is this process's CPU time (getrusage: user + system, every thread, the garbage
//     collector included) over that request: the handler's and the Store's CPU plus the client's
//     (negligible) share. On PostgreSQL, when the server runs on this machine, the CPU of the backends
//     serving the store (pgBackendCPU, sampled from /proc) is added, and reported apart as a_max_cpu_db_s.
//     A request the handler's timeout cut short (503) cost at least that much: its figure is a lower bound.
//   - a_max_wall_s (with its kind and status): the longest wall time of any of A's requests under attack,
//     queueing included; a request still running when the attack stops counts with status 0.
//   - cpu_s_attack: this process's CPU-seconds over B's measured window under attack (A's mix, B and the
//     load generator together), beside the window's length attack_s: at most attack_s × cores.
const (
	fairDBSmallGroups = 20
	fairDBEmailsUser  = "eeeeeeee-0000-4000-8000-000000000001"
	fairDBBigGroup    = "aaaaaaaa-0000-4000-8000-000000000001"
	fairDBEmails      = 1000 // the emails of fairDBEmailsUser, and the remove operations of the big PATCH
	fairDBTerms       = 31   // the terms of each operation's value filter
	fairDB429Pause    = 50 * time.Millisecond
	fairDBPasswordsB  = 5 // B's password PATCHes after each of its GET windows
)

// fairDBSmallGroup is the id of A's small group i.
func fairDBSmallGroup(i int) string { return "aaaaaaaa-0000-4000-8000-1" + pad(strconv.Itoa(i), 11) }

// hostileKind is one request kind of A's mix, sent by conc clients at once.
type hostileKind struct {
	name string
	conc int
	call func(i int) call // the request of a client's i-th turn
}

// fairDBMix is A's hostile mix over its nA users: 40 deep sorted lists, 8 `not (groups pr)`, member paging
// at depth, a password flood, and the big PATCH (fairDBEmails filtered removes of fairDBTerms terms each).
func fairDBMix(nA int) []hostileKind {
	deep := func(i int) int { return nA/2 + (i*7919)%(nA/2-100) + 1 } // a startIndex in A's second half
	bigPatch := bigRemovePatch()
	pw := func(i int) []byte {
		return []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` +
			`{"op":"replace","path":"password","value":"Flood-` + strconv.Itoa(i) + `-Passw0rd!"}]}`)
	}
	return []hostileKind{
		{"deep sorted list", 40, func(i int) call {
			return call{method: "GET", uri: "/Users?sortBy=displayName&count=100&startIndex=" + strconv.Itoa(deep(i)), status: 200}
		}},
		{"not (groups pr)", 8, func(int) call {
			return call{method: "GET", uri: "/Users?count=10&filter=" + url.QueryEscape("not (groups pr)"), status: 200}
		}},
		{"member paging", 4, func(int) call {
			return call{method: "GET", status: 200, uri: "/Users?count=100&startIndex=" + strconv.Itoa(nA/4+1) +
				"&filter=" + url.QueryEscape(`groups.value eq "`+fairDBBigGroup+`"`)}
		}},
		{"password PATCH", 8, func(i int) call {
			return call{method: "PATCH", uri: "/Users/" + userID(i%nA), body: pw(i), status: 200}
		}},
		{"1000-op PATCH", 2, func(int) call {
			return call{method: "PATCH", uri: "/Users/" + fairDBEmailsUser, body: bigPatch, status: 200}
		}},
	}
}

// bigRemovePatch is the PATCH of fairDBEmails remove operations, each with a value filter of fairDBTerms
// terms (emails[type eq "t0" or … or type eq "t30"]) that none of the user's emails matches, so that every
// operation tests every email against every term.
func bigRemovePatch() []byte {
	terms := make([]string, fairDBTerms)
	for i := range terms {
		terms[i] = `type eq \"t` + strconv.Itoa(i) + `\"`
	}
	op := `{"op":"remove","path":"emails[` + strings.Join(terms, " or ") + `]"}`
	ops := make([]string, fairDBEmails)
	for i := range ops {
		ops[i] = op
	}
	return []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(ops, ",") + `]}`)
}

// seedFairDB opens a store of kind and seeds A's users, groups and memberships and B's users.
func seedFairDB(kind string, nA int) (*sqlstore.Store, func(), error) {
	s, closeStore, err := openSQLStore(kind)
	if err != nil {
		return nil, nil, err
	}
	if err := seedFairDBInto(s, kind == "postgres", nA); err != nil {
		closeStore()
		return nil, nil, err
	}
	return s, closeStore, nil
}

func seedFairDBInto(s *sqlstore.Store, postgres bool, nA int) error {
	ctx := singleTenant()
	if err := seedSQL(ctx, s, nA, postgres); err != nil {
		return err
	}
	now := time.Now().UTC()
	group := func(id, name string) *scim.Group {
		return &scim.Group{ID: id, DisplayName: name, Meta: scim.Meta{ResourceType: "Group", Created: now, LastModified: now}}
	}
	if _, err := s.CreateGroup(ctx, group(fairDBBigGroup, "Half of A")); err != nil {
		return err
	}
	q := func(query string) string {
		for i := 1; postgres && strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", "$"+strconv.Itoa(i), 1)
		}
		return query
	}
	// Memberships with INSERT … SELECT over the seeded users (whose ids sort in seeding order), as
	// seedGroupsSQL does: the big group holds A's first half, small group i the 100 users from nA/2 + 100i.
	member := q(`INSERT INTO scim_members (tenant, group_id, user_id)
		SELECT tenant, ?, id FROM scim_users WHERE tenant = '' AND id >= ? AND id < ?`)
	db := s.DB()
	if _, err := db.ExecContext(ctx, member, fairDBBigGroup, userID(0), userID(nA/2)); err != nil {
		return err
	}
	for i := range fairDBSmallGroups {
		if _, err := s.CreateGroup(ctx, group(fairDBSmallGroup(i), "Team "+strconv.Itoa(i))); err != nil {
			return err
		}
		lo := nA/2 + 100*i
		if _, err := db.ExecContext(ctx, member, fairDBSmallGroup(i), userID(lo), userID(min(lo+100, nA))); err != nil {
			return err
		}
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil { // as autovacuum would soon after a bulk load
		return err
	}
	u := entraUser(nA) // outside the seeded range: its own id and userName
	u.ID, u.UserName = fairDBEmailsUser, "emails@contoso.com"
	u.Emails = make([]scim.MultiValue, fairDBEmails)
	for i := range u.Emails {
		u.Emails[i] = scim.MultiValue{Value: "e" + strconv.Itoa(i) + "@contoso.com", Type: "x" + strconv.Itoa(i)}
	}
	if _, err := s.Create(ctx, u); err != nil {
		return err
	}
	ctxB := scim.ContextWithTenant(context.Background(), "b")
	for i := range fairUsersB {
		if _, err := s.Create(ctxB, bUser(i)); err != nil {
			return err
		}
	}
	return nil
}

// fairDBHandler is the handler under test: the two tenants' tokens, passwords hashed, every limit at its
// default. Its log would hold a line per 503 of A's; the benchmark's table counts them instead.
func fairDBHandler(s *sqlstore.Store, maxConcurrent int) *scim.Handler {
	return scim.MustNew(s, scim.WithAuthenticator(fairAuth), scim.WithPasswords(scim.PasswordsHashed),
		scim.WithLogger(slog.New(slog.DiscardHandler)),
		scim.WithLimits(scim.Limits{Tenant: scim.TenantLimits{MaxConcurrent: maxConcurrent}}))
}

// kindStats is what A's requests of one kind got under attack.
type kindStats struct {
	Statuses  map[int]int `json:"statuses"`
	MaxWallNS int64       `json:"max_wall_ns"`
	MaxCode   int         `json:"max_code"`
}

// attackReport is what A's clients report when stopped: per kind, and the longest request still running.
type attackReport struct {
	Kinds        map[string]*kindStats `json:"kinds"`
	UnfinishedNS int64                 `json:"unfinished_ns"`
}

// attacker is A's clients running the mix, in this process (stop ends them) or in a child (stop closes
// its stdin and reads its report).
type attacker struct {
	stop func() (attackReport, error)
}

// startAttack runs A's mix against t from this process until stop.
func startAttack(t *target, mix []hostileKind) *attacker {
	conc := 0
	for _, k := range mix {
		conc += k.conc
	}
	report := attackReport{Kinds: map[string]*kindStats{}}
	inFlight := make([]atomic.Int64, conc)
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	slot := 0
	for _, k := range mix {
		report.Kinds[k.name] = &kindStats{Statuses: map[int]int{}}
		for w := range k.conc {
			started := &inFlight[slot]
			slot++
			wg.Go(func() {
				for i := w; ctx.Err() == nil; i += k.conc {
					w0 := time.Now()
					started.Store(w0.UnixNano())
					status, _, _, err := t.doCtx(ctx, tokenA, k.call(i))
					wall := time.Since(w0)
					started.Store(0)
					if ctx.Err() != nil {
						return // cut off by the end of the attack: counted as unfinished
					}
					if err != nil {
						status = -1
					}
					mu.Lock()
					st := report.Kinds[k.name]
					st.Statuses[status]++
					if wall.Nanoseconds() > st.MaxWallNS {
						st.MaxWallNS, st.MaxCode = wall.Nanoseconds(), status
					}
					mu.Unlock()
					if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
						// A ignores Retry-After; the pause only keeps the bench's own client from spinning a core.
						time.Sleep(fairDB429Pause)
					}
				}
			})
		}
	}
	return &attacker{stop: func() (attackReport, error) {
		// Requests still running now count with their time so far, under status 0.
		now := time.Now().UnixNano()
		for i := range inFlight {
			if s := inFlight[i].Load(); s != 0 {
				report.UnfinishedNS = max(report.UnfinishedNS, now-s)
			}
		}
		cancel()
		wg.Wait()
		return report, nil
	}}
}

// spawnAttacker starts A's clients in a child process (this program with -fair-attack) against base.
func spawnAttacker(base, kind string, nA int) (*attacker, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-fair-attack", base, "-store", kind, "-users", strconv.Itoa(nA))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	out := bufio.NewReader(stdout)
	if line, err := out.ReadString('\n'); err != nil || line != "attacking\n" {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("attacker did not start: %v (%q)", err, line)
	}
	return &attacker{stop: func() (attackReport, error) {
		stdin.Close()
		var r attackReport
		err := json.NewDecoder(out).Decode(&r)
		if werr := cmd.Wait(); err == nil {
			err = werr
		}
		return r, err
	}}, nil
}

// runAttacker is the -fair-attack child: A's mix against base until stdin closes, then its report on
// stdout.
func runAttacker(base, kind string, nA int) error {
	mix := fairDBMix(nA)
	conc := 0
	for _, k := range mix {
		conc += k.conc
	}
	a := startAttack(newTarget("ours", kind, base, conc), mix)
	fmt.Println("attacking")
	_, _ = io.Copy(io.Discard, os.Stdin)
	r, err := a.stop()
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// fairDBResult is the JSON line the benchmark ends with.
type fairDBResult struct {
	Store             string  `json:"store"`
	BP99AloneMS       float64 `json:"b_p99_alone_ms"`
	BP99AttackMS      float64 `json:"b_p99_under_attack_ms"`
	Factor            float64 `json:"factor"`
	AMaxCPUS          float64 `json:"a_max_cpu_s"`
	AMaxCPUKind       string  `json:"a_max_cpu_kind"`
	AMaxCPUDBS        float64 `json:"a_max_cpu_db_s"`   // of a_max_cpu_s, the PostgreSQL backends' share
	DBCPU             string  `json:"db_cpu,omitempty"` // PostgreSQL's CPU: "sampled" (pgBackendCPU) or "unmeasured"
	AMaxWallS         float64 `json:"a_max_wall_s"`
	AMaxWallKind      string  `json:"a_max_wall_kind"`
	AMaxWallStatus    int     `json:"a_max_wall_status"`
	B503              int     `json:"b_503"`
	BErrors           int     `json:"b_errors"`
	B503Alone         int     `json:"b_503_alone"`
	BErrorsAlone      int     `json:"b_errors_alone"`
	BP50AloneMS       float64 `json:"b_p50_alone_ms"`
	BP50AttackMS      float64 `json:"b_p50_under_attack_ms"`
	BRequestsAlone    int     `json:"b_requests_alone"`
	BRequestsAttack   int     `json:"b_requests_under_attack"`
	BPasswordAloneMS  float64 `json:"b_password_patch_max_alone_ms"`
	BPasswordAttackMS float64 `json:"b_password_patch_max_under_attack_ms"`
	AAnswers          int     `json:"a_answers"`
	A429              int     `json:"a_429"`
	A503              int     `json:"a_503"`
	CPUSAttack        float64 `json:"cpu_s_attack"`
	AttackS           float64 `json:"attack_s"`
	Users             int     `json:"users"`
	LoadAvg           string  `json:"loadavg,omitempty"` // the machine's load averages at the end (Linux)
}

// runFairDB runs the benchmark on one store kind and prints A's table and the JSON line on stdout.
func runFairDB(kind string, nA int, dur time.Duration, bWorkers int, probe, inProcess bool, maxConcurrent int) error {
	if kind != "sqlite" && kind != "postgres" {
		return fmt.Errorf("-store %q: want sqlite or postgres", kind)
	}
	if kind == "postgres" && os.Getenv("SCIM_TEST_POSTGRES_DSN") == "" {
		return fmt.Errorf("-store postgres: set SCIM_TEST_POSTGRES_DSN")
	}
	if nA < 1000 {
		return fmt.Errorf("-users %d: at least 1000", nA)
	}
	mix := fairDBMix(nA)
	conc := bWorkers
	for _, k := range mix {
		conc += k.conc
	}
	// The server runs in a child process (as a host's would, apart from its clients): in this process, the
	// load generator's 60-odd client goroutines would share the server's Go scheduler, and B's requests
	// would queue behind A's clients rather than behind A's requests.
	t0 := time.Now()
	t, err := startServer(options{inProcess: inProcess}, kind, seedSpec{FairDBUsers: nA, FairDBConcurrent: maxConcurrent}, conc)
	if err != nil {
		return err
	}
	defer t.close()
	logf("[fairdb] seeded %s: A %d users, a group of %d, %d groups of 100, a user of %d emails; B %d users, in %s",
		kind, nA, nA/2, fairDBSmallGroups, fairDBEmails, fairUsersB, time.Since(t0).Round(time.Millisecond))
	serverCPU := func() time.Duration { // the server's CPU so far: the child's, or this process's
		if t.proc == nil {
			return selfCPU()
		}
		u, err := t.proc.usage()
		if err != nil {
			logf("[fairdb] %v", err)
		}
		return u.CPU
	}
	res := fairDBResult{Store: kind, Users: nA}
	if probe { // each of A's kinds alone: its CPU cost
		var pg *pgBackendCPU
		if kind == "postgres" {
			if pg, err = newPGBackendCPU(os.Getenv("SCIM_TEST_POSTGRES_DSN")); err != nil {
				logf("[fairdb] postgres: the database server's CPU is not measured: %v", err)
				res.DBCPU = "unmeasured"
			} else {
				defer pg.close()
				res.DBCPU = "sampled"
			}
		}
		for _, k := range mix {
			c := k.call(0)
			var status int
			var body []byte
			cpu0, w0 := serverCPU(), time.Now()
			send := func() { status, body, _, err = t.doAs(tokenA, c) }
			var dbCPU time.Duration
			if pg != nil {
				var sErr error
				if dbCPU, sErr = pg.during(send); sErr != nil {
					return fmt.Errorf("%s alone: %w", k.name, sErr)
				}
			} else {
				send()
			}
			cpu, wall := serverCPU()-cpu0, time.Since(w0)
			if err != nil {
				return fmt.Errorf("%s alone: %w", k.name, err)
			}
			logf("[fairdb] %s: A's %s alone (%d bytes): %d in %s, %.2f CPU-s here + %.2f in the database %.120s", kind,
				k.name, len(c.body), status, fmtDur(wall), cpu.Seconds(), dbCPU.Seconds(), oneLine(body, status))
			if total := (cpu + dbCPU).Seconds(); total > res.AMaxCPUS {
				res.AMaxCPUS, res.AMaxCPUDBS, res.AMaxCPUKind = total, dbCPU.Seconds(), k.name
			}
		}
	}
	bGets(t, 200*time.Millisecond, bWorkers) // warm-up
	alone, b503, bErr := bGets(t, dur, bWorkers)
	res.B503Alone, res.BErrorsAlone = b503, bErr
	res.BPasswordAloneMS = bPasswords(t, dur)
	res.BRequestsAlone = len(alone)
	res.BP50AloneMS, res.BP99AloneMS = ms(quantile(alone, 0.5)), ms(quantile(alone, 0.99))
	logf("[fairdb] %s: B alone: %d GETs, p50 %s p99 %s, %d 503s, %d errors; password PATCH max %.0f ms", kind,
		len(alone), fmtDur(quantile(alone, 0.5)), fmtDur(quantile(alone, 0.99)), b503, bErr, res.BPasswordAloneMS)

	// A's clients run in a process of their own (as an attacker's would, on another machine): in this one,
	// their 60-odd goroutines would delay B's clients before B's requests ever reached the server.
	var a *attacker
	if inProcess {
		a = startAttack(t, mix)
	} else if a, err = spawnAttacker(t.base, kind, nA); err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // the mix's ramp: every client has a request in the server
	cpu0, w0 := serverCPU(), time.Now()
	attack, b503, bErr2 := bGets(t, dur, bWorkers)
	res.BPasswordAttackMS = bPasswords(t, dur)
	res.CPUSAttack, res.AttackS = (serverCPU() - cpu0).Seconds(), time.Since(w0).Seconds()
	report, err := a.stop()
	if err != nil {
		return err
	}
	stats, unfinished := report.Kinds, time.Duration(report.UnfinishedNS)
	res.B503, res.BErrors = b503, bErr2
	res.BRequestsAttack = len(attack)
	res.BP50AttackMS, res.BP99AttackMS = ms(quantile(attack, 0.5)), ms(quantile(attack, 0.99))
	if res.BP99AloneMS > 0 {
		res.Factor = res.BP99AttackMS / res.BP99AloneMS
	}
	logf("[fairdb] %s: B under attack: %d GETs, p50 %s p99 %s, %d 503s, %d errors; password PATCH max %.0f ms", kind,
		len(attack), fmtDur(quantile(attack, 0.5)), fmtDur(quantile(attack, 0.99)), b503, bErr2, res.BPasswordAttackMS)

	fmt.Printf("\nFairness at the database (%s, A %d users): tenant B's GET-by-id (%d clients) alone and beside A's mix; %s per window.\n\n",
		kind, nA, bWorkers, dur)
	fmt.Println("| A's request | clients | answers by status | longest (status) |")
	fmt.Println("|---|--:|---|--:|")
	for _, k := range mix {
		st := stats[k.name]
		if st == nil {
			st = &kindStats{}
		}
		codes := slices.Sorted(func(yield func(int) bool) {
			for c := range st.Statuses {
				if !yield(c) {
					return
				}
			}
		})
		var parts []string
		for _, c := range codes {
			parts = append(parts, fmt.Sprintf("%d×%d", st.Statuses[c], c))
			res.AAnswers += st.Statuses[c]
		}
		res.A429 += st.Statuses[http.StatusTooManyRequests]
		res.A503 += st.Statuses[http.StatusServiceUnavailable]
		if len(parts) == 0 {
			parts = []string{"none finished"}
		}
		maxWall := time.Duration(st.MaxWallNS)
		fmt.Printf("| %s | %d | %s | %s (%d) |\n", k.name, k.conc, strings.Join(parts, ", "), fmtDur(maxWall), st.MaxCode)
		if maxWall.Seconds() > res.AMaxWallS {
			res.AMaxWallS, res.AMaxWallKind, res.AMaxWallStatus = maxWall.Seconds(), k.name, st.MaxCode
		}
	}
	if unfinished.Seconds() > res.AMaxWallS {
		res.AMaxWallS, res.AMaxWallKind, res.AMaxWallStatus = unfinished.Seconds(), "unfinished", 0
	}
	if l, err := os.ReadFile("/proc/loadavg"); err == nil && len(strings.Fields(string(l))) >= 3 {
		res.LoadAvg = strings.Join(strings.Fields(string(l))[:3], " ")
	}
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

// bGets runs B's GET-by-id from workers clients for dur and returns the latencies, the 503s and the other
// failures.
func bGets(t *target, dur time.Duration, workers int) ([]time.Duration, int, int) {
	var mu sync.Mutex
	var lat []time.Duration
	n503, errs := 0, 0
	var wg sync.WaitGroup
	deadline := time.Now().Add(dur)
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w)+17, uint64(time.Now().UnixNano())))
			var mine []time.Duration
			my503, bad := 0, 0
			for time.Now().Before(deadline) {
				c := call{method: "GET", uri: "/Users/" + bUser(rng.IntN(fairUsersB)).ID, status: 200}
				t0 := time.Now()
				status, _, _, err := t.doAs(tokenB, c)
				mine = append(mine, time.Since(t0))
				switch {
				case err == nil && status == http.StatusServiceUnavailable:
					my503++
				case err != nil || status != c.status:
					bad++
				}
			}
			mu.Lock()
			lat, n503, errs = append(lat, mine...), n503+my503, errs+bad
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(lat)
	return lat, n503, errs
}

// bPasswords sends B's password PATCHes one after another, fairDBPasswordsB of them but none started after
// dur/2, and returns the longest, in milliseconds (-1 when one failed).
func bPasswords(t *target, dur time.Duration) float64 {
	var longest time.Duration
	deadline := time.Now().Add(dur / 2)
	for i := 0; i < fairDBPasswordsB && (i == 0 || time.Now().Before(deadline)); i++ {
		c := call{method: "PATCH", uri: "/Users/" + bUser(i).ID, status: 200,
			body: []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` +
				`{"op":"replace","path":"password","value":"B-` + strconv.FormatInt(nextK(), 10) + `-Passw0rd!"}]}`)}
		t0 := time.Now()
		status, body, _, err := t.doAs(tokenB, c)
		if err != nil || status != 200 {
			logf("[fairdb] B's password PATCH: %d %v %.200s", status, err, body)
			return -1
		}
		longest = max(longest, time.Since(t0))
	}
	return ms(longest)
}

// quantile is the q-quantile of sorted latencies (0 when there are none).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(int(q*float64(len(sorted))), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// oneLine is an error answer's body on one line, or nothing for a success.
func oneLine(body []byte, status int) string {
	if status < 400 {
		return ""
	}
	return strings.Join(strings.Fields(string(body)), " ")
}
