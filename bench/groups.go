package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/sqlstore"
)

// The group ops of the Groups issue (GROUPS.md): adding one member to a group of 100 and to a group of 100k
// (Entra's PATCH, which must cost the same: a membership is a delta), Okta's first page of groups over 1,000
// groups of 1,000 members (which must read no membership), and an Entra-shaped group sync (1,000 groups
// created, then 100k memberships added by PATCHes of 1 to 100 members, 5 at a time). Ours runs over
// memstore, SQLite and PostgreSQL; elimity's Server over the best in-memory Group handler we could write
// for it (elimity_groups.go). The ceiling is left out: its canned answers cannot follow groups created
// during the sync, and the targets here are latencies of the stores, not of net/http.

const (
	opGroupAddSmall = "group-add-100" // PATCH adding one member to the group of 100 (then removing it, untimed)
	opGroupAddBig   = "group-add-big" // the same on the group of groupScale.big members
	opGroupsList    = "groups-list"   // GET /Groups?startIndex=1&count=100 over the list groups
	opGroupCreate   = "group-create"  // the sync's first phase: per group a displayName lookup, then a POST; groups/s
	opGroupSync     = "group-sync"    // its second phase: member PATCHes of 1 to 100 members; memberships/s

	groupSpare    = 1_000 // the last users of the store, in no group: the members group-add adds and removes
	groupBigID    = "bbbbbbbb-0000-4000-8000-000000000001"
	groupSmallID  = "bbbbbbbb-0000-4000-8000-000000000002"
	groupSyncConc = 5   // Entra's concurrency in a first sync of a large group (GROUPS.md)
	syncPatchMax  = 100 // the most members one sync PATCH adds (AWS's limit, Entra's batches)
)

// groupOps are the ops measureOp runs; the sync is driven by runGroupSync.
var groupOps = []string{opGroupAddSmall, opGroupAddBig, opGroupsList}

func isGroupOp(op string) bool {
	return slices.Contains(groupOps, op) || op == opGroupCreate || op == opGroupSync
}

// groupScale is the size of the group data: the in a full run, smaller with -quick.
type groupScale struct {
	big                     int // members of the big group (the small one has 100)
	listGroups, listMembers int // the groups GET /Groups pages over, and the members of each
	syncGroups, syncMembers int // groups created by the sync, and memberships it adds in all
}

var (
	fullGroupScale  = groupScale{big: 100_000, listGroups: 1_000, listMembers: 1_000, syncGroups: 1_000, syncMembers: 100_000}
	quickGroupScale = groupScale{big: 10_000, listGroups: 200, listMembers: 200, syncGroups: 100, syncMembers: 5_000}
)

// users is how many users the stores hold: the members of the largest group, then the spare ones.
func (sc groupScale) users() int { return max(sc.big, sc.listMembers, 100) + groupSpare }

func listGroupID(i int) string   { return "11111111-0000-4000-8000-" + pad(strconv.Itoa(i), 12) }
func listGroupName(i int) string { return "List group " + pad(strconv.Itoa(i), 4) }
func syncGroupName(i int) string { return "Entra group " + pad(strconv.Itoa(i), 5) }

// spareUser is the member a group-add iteration adds: one of the spare users, a different one for each k.
func spareUser(n int, k int64) string { return userID(n - groupSpare + int(k%groupSpare)) }

// entraMembersPatch is Entra's default-mode membership PATCH (GROUPS.md, verbatim shape): op "Add" or
// "Remove" on path members with a value list carrying "$ref": null.
func entraMembersPatch(op string, ids ...string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"` + op + `","path":"members","value":[`)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"$ref":null,"value":"` + id + `"}`)
	}
	b.WriteString(`]}]}`)
	return b.Bytes()
}

// entraGroupPost is Entra's POST /Groups (GROUPS.md): its own schema URN beside the core one, the group's
// objectId as externalId.
func entraGroupPost(name string, k int) []byte {
	return fmt.Appendf(nil, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group",`+
		`"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],`+
		`"externalId":"%08x-c4c3-4bc0-b4a5-2ef676900159","displayName":%q,"meta":{"resourceType":"Group"}}`, k, name)
}

// groupFilterURI is Entra's group lookup before a create.
func groupFilterURI(name string) string {
	return "/Groups?excludedAttributes=members&filter=" + url.QueryEscape(`displayName eq "`+name+`"`)
}

// groupCalls returns the requests of one iteration of a group op over a store of n users; nil for other ops.
func groupCalls(op string, n int, d draw) []call {
	switch op {
	case opGroupAddSmall, opGroupAddBig:
		id := groupSmallID
		if op == opGroupAddBig {
			id = groupBigID
		}
		u := spareUser(n, d.k)
		return []call{
			{method: "PATCH", uri: "/Groups/" + id, body: entraMembersPatch("Add", u), status: 204},
			{method: "PATCH", uri: "/Groups/" + id, body: entraMembersPatch("Remove", u), status: 204, untimed: true},
		}
	case opGroupsList:
		return []call{{method: "GET", uri: "/Groups?startIndex=1&count=100", status: 200,
			contains: []string{`"itemsPerPage":100`, `"displayName":"Big group"`, `"displayName":"` + listGroupName(97) + `"`}}}
	}
	return nil
}

// groupMembers returns members [lo, hi) as users 0.. of the seeded store.
func groupMembers(lo, hi int) []scim.Member {
	m := make([]scim.Member, 0, hi-lo)
	for i := lo; i < hi; i++ {
		m = append(m, scim.Member{Value: userID(i)})
	}
	return m
}

// seedGroups creates, through the GroupStore, the big group, the small one and the list groups, in that
// order (GET /Groups pages in creation order). members says whether to give them their members here; the
// SQL stores get theirs with one INSERT … SELECT each instead (seedSQLMembers).
func seedGroups(ctx context.Context, gs scim.GroupStore, sc groupScale, members bool) error {
	now := time.Now().UTC()
	mk := func(id, name string, n int) *scim.Group {
		g := &scim.Group{ID: id, DisplayName: name, Meta: scim.Meta{ResourceType: "Group", Created: now, LastModified: now}}
		if members {
			g.Members = groupMembers(0, n)
		}
		return g
	}
	if _, err := gs.CreateGroup(ctx, mk(groupBigID, "Big group", sc.big)); err != nil {
		return err
	}
	if _, err := gs.CreateGroup(ctx, mk(groupSmallID, "Small group", 100)); err != nil {
		return err
	}
	var shared []scim.Member
	if members {
		shared = groupMembers(0, sc.listMembers)
	}
	for i := range sc.listGroups {
		g := mk(listGroupID(i), listGroupName(i), 0)
		g.Members = shared
		if _, err := gs.CreateGroup(ctx, g); err != nil {
			return err
		}
	}
	return nil
}

// seedGroupsMemory is a memstore holding sc.users() users and the groups, members included.
func seedGroupsMemory(sc groupScale) (*memstore.Store, error) {
	s, err := seedMemory(sc.users())
	if err != nil {
		return nil, err
	}
	return s, seedGroups(singleTenant(), s, sc, true)
}

// seedGroupsSQL seeds the users and the groups into s, and the memberships with INSERT … SELECT over the
// seeded users (whose ids sort in seeding order): the rows sqlstore's UpdateGroup would write, a million in
// seconds rather than minutes. seedGroupsMatchTheAPI checks the result answers as the API-made groups do.
func seedGroupsSQL(ctx context.Context, s *sqlstore.Store, sc groupScale, postgres bool) error {
	if err := seedSQL(ctx, s, sc.users(), postgres); err != nil {
		return err
	}
	if err := seedGroups(ctx, s, sc, false); err != nil {
		return err
	}
	q := func(query string) string {
		if !postgres {
			return query
		}
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", "$"+strconv.Itoa(i), 1)
		}
		return query
	}
	db := s.DB()
	for _, g := range []struct {
		id string
		n  int
	}{{groupBigID, sc.big}, {groupSmallID, 100}} {
		if _, err := db.ExecContext(ctx, q(`INSERT INTO scim_members (tenant, group_id, user_id)
			SELECT tenant, ?, id FROM scim_users WHERE tenant = '' AND id < ?`), g.id, userID(g.n)); err != nil {
			return err
		}
	}
	if _, err := db.ExecContext(ctx, q(`INSERT INTO scim_members (tenant, group_id, user_id)
		SELECT g.tenant, g.id, u.id FROM scim_groups g JOIN scim_users u ON u.tenant = g.tenant
		WHERE g.tenant = '' AND g.id >= ? AND g.id <= ? AND u.id < ?`),
		listGroupID(0), listGroupID(sc.listGroups-1), userID(sc.listMembers)); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, "ANALYZE") // as autovacuum would soon after a bulk load
	return err
}

// runGroups seeds every server with the group data of sc, measures the group ops on all of them in
// interleaved rounds (one client: the targets are the op's own latency), then runs the group sync on each in
// turn.
func runGroups(o options, sc groupScale) ([]row, error) {
	n := sc.users()
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		freeMemory()
	}()
	logf("[groups] seeding %d users, groups of %d and 100, %d groups of %d", n, sc.big, sc.listGroups, sc.listMembers)
	spec := seedSpec{Groups: specOf(sc), SQLMaxIdle: o.sqlIdle}
	var kinds []string
	for _, kind := range []string{"memory", "elimity", "sqlite", "postgres"} {
		if o.stores[kind] && (kind != "postgres" || slices.Contains(sqlKinds(o), kind)) {
			kinds = append(kinds, kind)
		}
	}
	targets, err := startServers(o, kinds, spec, groupSyncConc)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		cleanups = append(cleanups, t.close)
	}
	freeMemory()
	rows, err := measureInterleaved(o, targets, groupOps, n)
	for i := range rows {
		op := rows[i].Op
		rows[i].Members = map[string]int{opGroupAddSmall: 100, opGroupAddBig: sc.big, opGroupsList: sc.listMembers}[op]
		rows[i].Groups = map[string]int{opGroupAddSmall: 1, opGroupAddBig: 1, opGroupsList: sc.listGroups + 2}[op]
	}
	if err != nil {
		return rows, err
	}
	for _, t := range targets {
		rs, err := runGroupSync(t, sc, n)
		rows = append(rows, rs...)
		if err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// syncPatch is one membership PATCH of the sync: members to add to the group with index group.
type syncPatch struct {
	group   int
	members []string
}

// syncPlan deals each sync group its share of the memberships (users taken in turn, distinct within a
// group) in PATCHes of 1 to 100 members, and shuffles them, the same for every server: concurrent PATCHes
// then hit the same group as often as different ones.
func syncPlan(sc groupScale, n int) []syncPatch {
	rng := rand.New(rand.NewPCG(5, 6))
	pool := n - groupSpare
	var plan []syncPatch
	next := 0
	for g := range sc.syncGroups {
		share := sc.syncMembers / sc.syncGroups
		if g < sc.syncMembers%sc.syncGroups {
			share++
		}
		share = min(share, pool)
		for share > 0 {
			k := min(1+rng.IntN(syncPatchMax), share)
			p := syncPatch{group: g}
			for range k {
				p.members = append(p.members, userID(next%pool))
				next++
			}
			plan = append(plan, p)
			share -= k
		}
	}
	rng.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	return plan
}

// runGroupSync is Entra's first sync of groups into t: each group looked up by displayName (a miss) and
// POSTed, then the memberships added by PATCHes, 5 at a time; then a sample of groups is read back to check
// that no membership was lost to a concurrent PATCH.
func runGroupSync(t *target, sc groupScale, n int) ([]row, error) {
	ids := make([]string, sc.syncGroups)
	var failed error
	var mu sync.Mutex
	fail := func(err error) {
		mu.Lock()
		if failed == nil {
			failed = err
		}
		mu.Unlock()
	}
	run := func(jobs int, do func(i int) error) load {
		ch := make(chan int)
		lats := make([][]time.Duration, groupSyncConc)
		start := time.Now()
		var wg sync.WaitGroup
		for w := range groupSyncConc {
			wg.Go(func() {
				for i := range ch {
					t0 := time.Now()
					if err := do(i); err != nil {
						fail(err)
					}
					lats[w] = append(lats[w], time.Since(t0))
				}
			})
		}
		for i := range jobs {
			ch <- i
		}
		close(ch)
		wg.Wait()
		l := load{elapsed: time.Since(start), lat: slices.Concat(lats...)}
		l.iters = len(l.lat)
		slices.Sort(l.lat)
		return l
	}
	work := func(jobs, perJob int, do func(i int) error) load {
		l := t.measured(func() load { return run(jobs, do) })
		l.requests = perJob * l.iters
		return l
	}
	expect := func(c call) ([]byte, error) {
		status, body, _, err := t.do(c)
		if err == nil && status != c.status {
			err = fmt.Errorf("status %d, want %d: %.300s", status, c.status, body)
		}
		for _, s := range c.contains {
			if err == nil && !bytes.Contains(body, []byte(s)) {
				err = fmt.Errorf("the answer lacks %s: %.300s", s, body)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s %s: %w", t.name(), c.method, c.uri, err)
		}
		return body, nil
	}
	create := work(sc.syncGroups, 2, func(i int) error {
		name := syncGroupName(i)
		if _, err := expect(call{method: "GET", uri: groupFilterURI(name), status: 200, contains: []string{`"totalResults":0`}}); err != nil {
			return err
		}
		body, err := expect(call{method: "POST", uri: "/Groups", body: entraGroupPost(name, i), status: 201})
		if err != nil {
			return err
		}
		var g struct{ ID string }
		if err := json.Unmarshal(body, &g); err != nil || g.ID == "" {
			return fmt.Errorf("%s POST /Groups: no id in %.300s", t.name(), body)
		}
		ids[i] = g.ID
		return nil
	})
	if failed != nil {
		return nil, failed
	}
	plan := syncPlan(sc, n)
	patches := work(len(plan), 1, func(i int) error {
		p := plan[i]
		_, err := expect(call{method: "PATCH", uri: "/Groups/" + ids[p.group], body: entraMembersPatch("Add", p.members...), status: 204})
		return err
	})
	if failed != nil {
		return nil, failed
	}
	// Every membership landed: read back a few groups whole.
	for _, g := range []int{0, sc.syncGroups / 2, sc.syncGroups - 1} {
		want := 0
		for _, p := range plan {
			if p.group == g {
				want += len(p.members)
			}
		}
		body, err := expect(call{method: "GET", uri: "/Groups/" + ids[g], status: 200})
		if err != nil {
			return nil, err
		}
		var doc struct{ Members []struct{ Value string } }
		if err := json.Unmarshal(body, &doc); err != nil {
			return nil, err
		}
		if len(doc.Members) != want {
			return nil, fmt.Errorf("%s: group %d has %d members after the sync, want %d (memberships lost)", t.name(), g, len(doc.Members), want)
		}
	}
	mk := func(op string, l load, rate float64) row {
		r := row{Server: t.server, Store: t.store, Op: op, Users: n, Groups: sc.syncGroups, Members: sc.syncMembers,
			RPS: rate, P50us: float64(l.quantile(0.5)) / float64(time.Microsecond),
			P99us: float64(l.quantile(0.99)) / float64(time.Microsecond), iters: l.iters}
		r.CPUus, r.Allocs = l.perRequest()
		logf("[groups] %-16s %-12s %9s/s  p50 %8s  p99 %8s%s  (%d requests%s in %s)", t.name(), op, fmtRate(rate),
			fmtDur(l.quantile(0.5)), fmtDur(l.quantile(0.99)), cpuNote(r, l), l.iters, map[bool]string{true: " of 2 calls", false: ""}[op == opGroupCreate],
			l.elapsed.Round(time.Millisecond))
		return r
	}
	return []row{
		mk(opGroupCreate, create, create.rate()),
		mk(opGroupSync, patches, float64(sc.syncMembers)/patches.elapsed.Seconds()),
	}, nil
}

// measureInterleaved measures ops on every target with one client, after checking and warming each. Unlike
// measureOp, which finishes one op before the next, every round here visits every op on every target (in
// an order that turns each round), so that the ops compared with each other (the add to a group of 100 and
// to the big group) see the machine's other load, the garbage collector and the database's background work
// alike.
func measureInterleaved(o options, targets []*target, ops []string, n int) ([]row, error) {
	dur := max(o.duration, 600*time.Millisecond) // one client: -quick's 250 ms is too few PATCHes
	rounds := 2 * o.rounds
	for _, t := range targets {
		for _, op := range ops {
			if err := t.check(op, n, t.newDraw(op, n, rand.New(rand.NewPCG(3, 4)))); err != nil {
				return nil, err
			}
			t.run(op, n, 1, min(dur/4, 300*time.Millisecond), o.maxRequests)
		}
	}
	acc := make([][]load, len(targets))
	for i := range acc {
		acc[i] = make([]load, len(ops))
	}
	type cell struct{ t, op int }
	var order []cell
	for i := range targets {
		for j := range ops {
			order = append(order, cell{i, j})
		}
	}
	for r := range rounds {
		for k := range order {
			c := order[(k+r)%len(order)]
			acc[c.t][c.op].add(targets[c.t].run(ops[c.op], n, 1, dur/time.Duration(rounds), o.maxRequests/rounds))
		}
	}
	var rows []row
	for j, op := range ops {
		for i, t := range targets {
			l := acc[i][j]
			slices.Sort(l.lat)
			r := row{Server: t.server, Store: t.store, Op: op, Users: n, RPS: l.rate(),
				P50us: float64(l.quantile(0.50)) / float64(time.Microsecond),
				P99us: float64(l.quantile(0.99)) / float64(time.Microsecond), iters: l.iters, errors: l.errors}
			r.CPUus, r.Allocs = l.perRequest()
			rows = append(rows, r)
			logf("[groups] %-16s %-13s %9s/s  p50 %8s  p99 %8s%s  (%d iterations%s)", t.name(), op, fmtRate(r.RPS),
				fmtDur(l.quantile(0.5)), fmtDur(l.quantile(0.99)), cpuNote(r, l), l.iters, errNote(l))
			if l.errors > 0 {
				logf("  first error: %s", l.first)
			}
		}
	}
	return rows, nil
}
