package scimtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// The checks' filters and sortBy paths are resolved against the declaration (kit.parse, kit.path), a value
// of the host's: a Store must map attributes by name (schema.Path.String, Attr.Name), never by pointer.

const enterprise = schema.EnterpriseUserURN + ":"

// describeQuery describes q for messages.
func describeQuery(q scim.Query) string {
	var parts []string
	if q.Filter != nil {
		parts = append(parts, "filter "+filter.String(q.Filter))
	}
	if q.SortBy.Attr != nil {
		order := "ascending"
		if q.Descending {
			order = "descending"
		}
		parts = append(parts, fmt.Sprintf("sortBy %s %s", q.SortBy, order))
	}
	parts = append(parts, fmt.Sprintf("startIndex %d, count %d", q.StartIndex, q.Count))
	return strings.Join(parts, ", ")
}

// pop is the population (see population) created in a Store: in tenantA, interleaved with look-alikes
// (same userNames, ids prefixed "b-") in tenantB that must never show through.
type pop struct {
	k   *kit
	ctx context.Context
	// order holds the kit's own copies of the users (never given to the Store) as the Store must return them
	// (its ids, the defaults), in the Store's unsorted List order: scim.ApplyQuery over them is the reference
	// answer to every query.
	order []*scim.User
}

func populate(t *testing.T, k *kit) *pop {
	t.Helper()
	a, b := inTenant(t, k.tenantA), inTenant(t, k.tenantB)
	bs := k.population("b-")
	for i, u := range k.population("") {
		k.create(t, a, u)
		k.create(t, b, bs[i])
	}
	page := mustList(t, k.s, a, scim.Query{StartIndex: 1, Count: 1000})
	byID := map[string]*scim.User{}
	var wantIDs []string
	for _, u := range k.population("") {
		byID[u.ID] = u
		wantIDs = append(wantIDs, u.ID)
	}
	got := k.names(a, page.Users)
	if !sameSet(got, wantIDs) || len(got) != len(wantIDs) || page.TotalResults != popCount {
		t.Fatalf("List(all, startIndex 1, count 1000) %s after creating %d users = ids %q, TotalResults %d; want each of %q once, TotalResults %d",
			where(a), popCount, got, page.TotalResults, wantIDs, popCount)
	}
	p := &pop{k: k, ctx: a}
	for i, u := range page.Users {
		k.checkUser(t, fmt.Sprintf("List(all) %s", where(a)), u, byID[got[i]])
		p.order = append(p.order, k.adopt(u, k.expect(byID[got[i]])))
	}
	return p
}

// names returns the fixture ids of users the Store returned (or ApplyQuery over p.order).
func (p *pop) names(users []*scim.User) []string { return p.k.names(p.ctx, users) }

// checkQuery compares the Store's answer to q with the reference scim.ApplyQuery over the same users, and
// reports a difference with t.Errorf so that every query of a check is reported.
func (p *pop) checkQuery(t *testing.T, q scim.Query) {
	t.Helper()
	call := fmt.Sprintf("List(%s) %s", describeQuery(q), where(p.ctx))
	page, err := p.k.s.List(p.ctx, q)
	if err != nil {
		t.Errorf("%s: unexpected error %v", call, err)
		return
	}
	if page == nil {
		t.Errorf("%s returned a nil Page and no error", call)
		return
	}
	want := scim.ApplyQuery(p.order, q)
	got, wantIDs := p.names(page.Users), p.names(want.Users)
	switch {
	case slices.Equal(got, wantIDs):
	case sameSet(got, wantIDs) && len(got) == len(wantIDs):
		if q.SortBy.Attr != nil {
			t.Errorf("%s returned ids %q; want %q, the same users in another order: sorted by the sort key of %s "+
				"(strings of caseExact=false attributes folded with filter.Fold and compared bytewise; multi-valued "+
				"attributes by their primary, else first, value), unassigned values last when ascending and first "+
				"when descending, ties in the Store's unsorted List order %q", call, got, wantIDs, q.SortBy, p.names(p.order))
		} else {
			t.Errorf("%s returned ids %q; want %q, the same users in another order: without sortBy, matches come "+
				"in the Store's stable order, the order of the unfiltered List %q", call, got, wantIDs, p.names(p.order))
		}
	default:
		t.Errorf("%s returned ids %q; want %q (missing %q, unexpected %q), as scim.ApplyQuery answers over the same users "+
			"(population in scimtest's fixtures.go)",
			call, got, wantIDs, minus(wantIDs, got), minus(got, wantIDs))
	}
	if page.TotalResults != want.TotalResults {
		t.Errorf("%s returned TotalResults %d; want %d, the number of users matching the filter, whatever the page",
			call, page.TotalResults, want.TotalResults)
	}
}

// checkFilter checks the filter f when it names only declared attributes.
func (p *pop) checkFilter(t *testing.T, f string) {
	t.Helper()
	if e, ok := p.k.parse(t, f); ok {
		p.checkQuery(t, all(e))
	}
}

func all(f filter.Expr) scim.Query { return scim.Query{Filter: f, StartIndex: 1, Count: 1000} }

// operators generates "attr op value" for every operator and value, and "attr pr".
func operators(attr string, ops []string, values ...string) []string {
	out := []string{attr + " pr"}
	for _, v := range values {
		for _, op := range ops {
			out = append(out, fmt.Sprintf("%s %s %s", attr, op, v))
		}
	}
	return out
}

var (
	stringOps  = []string{"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}
	dateOps    = []string{"eq", "ne", "gt", "ge", "lt", "le"}
	booleanOps = []string{"eq", "ne"}
)

// dateTimes are literals around the population's times: t0 itself in other spellings (another offset, a
// second fraction with more digits, or none), instants a millisecond either side, and a sub-millisecond one.
var dateTimes = []string{
	`"2024-03-10T09:30:00.123Z"`, `"2024-03-10T10:30:00.123+01:00"`, `"2024-03-10T09:30:00.123000Z"`,
	`"2024-03-10T09:30:00.124Z"`, `"2024-03-10T09:30:00.122Z"`, `"2024-03-10T09:30:00Z"`,
	`"2024-03-10T09:30:00.1235Z"`, `"2024-03-10T11:30:00.123Z"`, `"2024-03-12T09:30:00.123Z"`,
}

// filterGroups: every operator on every filterable attribute type, then combinations.
var filterGroups = []struct {
	name    string
	filters []string
}{
	{"every operator on userName (string, caseExact false)", operators("userName", stringOps,
		`"alan"`, `"ALAN.turing@example.com"`, `"Example.COM"`, `"G"`, `"é"`, `"école@EXAMPLE.com"`, `"zzz"`)},
	{"LIKE wildcards and escape characters in co, sw and ew are literal characters", []string{
		`userName co "%"`, `userName co "_"`, `userName co "\\"`, `userName co "\\s"`, `userName sw "100%"`,
		`userName sw "1__"`, `userName ew "_score"`, `userName co "%_"`, `userName sw "back\\"`, `displayName co "% off_"`,
		`displayName ew "%"`, `userName co "*"`, `userName co "."`, `userName eq "under_score"`, `userName eq "under%score"`,
	}},
	{"every operator on displayName, including unassigned values", append(operators("displayName", stringOps,
		`"ada lovelace"`, `"Ada"`, `"HOPPER"`, `"zed"`, `"_"`), `displayName eq null`, `displayName ne null`)},
	{"every operator on name.familyName (a sub-attribute of a complex attribute)", operators("name.familyName", stringOps,
		`"lovelace"`, `"TUR"`, `"été"`, `"h"`, `"Adams"`)},
	{"every operator on emails.value (a multi-valued attribute: any element matches)", append(operators("emails.value", stringOps,
		`"ada@work.example.com"`, `"WORK.EXAMPLE"`, `".org"`, `"x-"`, `"z"`),
		`emails co "work"`, `emails eq "BOB@example.com"`, `emails pr`, `emails.type eq "work"`, `emails.type ne "HOME"`,
		`emails.type co "o"`, `emails.type pr`)},
	{"every operator on id (caseExact true)", operators("id", stringOps,
		`"{id:Ada-01}"`, `"Ada-01"`, `"ada-01"`, `"ALAN"`, `"alan"`, `"-0"`, `"Z"`)},
	{"every operator on externalId (caseExact true, not unique)", operators("externalId", stringOps,
		`"EXT-1"`, `"ext-1"`, `"ext"`, `"EXT"`, `"hal"`)},
	{"every operator on active (boolean, sometimes unassigned)", []string{
		`active pr`, `active eq true`, `active eq false`, `active ne true`, `active ne false`, `not (active eq true)`,
		`not (active pr)`,
	}},
	{"every operator on emails.primary (boolean sub-attribute of a multi-valued attribute)", []string{
		`emails.primary pr`, `emails.primary eq true`, `emails.primary eq false`, `emails.primary ne true`,
		`emails.primary ne false`, `emails[primary eq true]`, `emails[primary eq false]`, `emails[not (primary eq true)]`,
	}},
	{"every operator on meta.created (dateTime, compared as instants)", append(operators("meta.created", dateOps, dateTimes...),
		`meta.created sw "2024-03-10T09"`, `meta.created co ":30:00.12"`)},
	{"every operator on meta.lastModified (dateTime, compared as instants)", append(operators("meta.lastModified", dateOps, dateTimes...),
		`meta.lastModified ew "123Z"`)},
	{"every operator on the enterprise employeeNumber", operators(enterprise+"employeeNumber", stringOps,
		`"E100"`, `"e"`, `"00"`, `"9000"`)},
	{"every operator on the enterprise manager.value", append(operators(enterprise+"manager.value", stringOps,
		`"Ada-01"`, `"GRACE"`, `"-0"`), enterprise+"manager pr", enterprise+"department eq \"math\"")},
	{"and, or, not, grouping and value filters", []string{
		`userName sw "a" and active eq true`,
		`displayName pr or externalId pr`,
		`not (emails pr)`,
		`not (not (userName eq "alan"))`,
		`(userName sw "a" or userName sw "g") and not (name.familyName eq "turing")`,
		`userName sw "a" or userName sw "g" and active eq false`,
		`(userName sw "a" or userName sw "g") and active eq false`,
		`userName eq "alan" and userName eq "eve"`,
		`emails[type eq "work" and value co "work"]`,
		`emails[type eq "work" or primary eq true]`,
		`emails[not (type eq "work")]`,
		`emails[type eq "work"] and emails[value ew ".org"]`,
		`emails[type eq "work" and value ew ".org"]`,
		`emails[primary eq true and value co "work"]`,
		`emails[(type eq "home" or type eq "other") and value co "a"]`,
		`emails.type eq "work" and emails.value co "home"`,
		`not (emails[type eq "work"]) and active pr`,
		`meta.created gt "2024-03-10T09:30:00.123Z" and meta.lastModified lt "2024-03-10T13:30:00.123Z"`,
		`id eq "{id:Ada-01}" or id eq "ada-01" or externalId eq "hal"`,
		`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ALAN"`,
		enterprise + `employeeNumber sw "e" and not (` + enterprise + `manager pr)`,
		`title pr or nickName pr`,
		`userName pr and not (displayName pr)`,
		`name.familyName ne "lovelace" and name pr`,
	}},
}

// hardCoded are filters whose answer the kit states itself, by id in the population, so that a bug in
// scim.ApplyQuery, the reference, cannot hide one in a Store.
var hardCoded = []struct {
	filter string
	ids    []string
}{
	{`userName eq "ALAN"`, []string{"alan-03"}},
	{`userName sw "alan"`, []string{"alan-03", "ALAN-04"}},
	{`userName co "%"`, []string{"pct-09"}},
	{`userName co "_"`, []string{"pct-09", "und-10"}},
	{`userName co "\\"`, []string{"bsl-11"}},
	{`userName eq "école@example.com"`, []string{"eco-12"}},
	{`id eq "ada-01"`, nil},
	{`id eq "{id:Ada-01}"`, []string{"Ada-01"}},
	{`externalId eq "EXT-1"`, []string{"Ada-01", "ALAN-04"}},
	{`externalId eq "ext-1"`, nil},
	{`displayName ne "Ada Lovelace"`, []string{"Grace-02", "alan-03", "ALAN-04", "zed-06", "bob-07", "eve-08", "pct-09", "und-10", "bsl-11", "eco-12", "Hal-13"}},
	{`not (displayName eq "zed")`, []string{"Ada-01", "Grace-02", "alan-03", "ALAN-04", "kat-05", "bob-07", "eve-08", "pct-09", "und-10", "bsl-11", "eco-12", "Hal-13"}},
	{`emails[type eq "work" and value co "work"]`, []string{"Ada-01", "Grace-02", "ALAN-04", "eve-08", "Hal-13"}},
	{`emails[type eq "work" and primary eq true]`, []string{"Ada-01", "Grace-02", "Hal-13"}},
	{`emails.type eq "work" and emails.value co "home"`, []string{"Ada-01", "Grace-02"}},
	{`emails.value ne "ada@work.example.com"`, []string{"Grace-02", "alan-03", "ALAN-04", "kat-05", "zed-06", "bob-07", "eve-08", "pct-09", "und-10", "bsl-11", "eco-12", "Hal-13"}},
	{`active eq false`, []string{"Grace-02", "kat-05", "Hal-13"}},
	{`active ne true`, []string{"Grace-02", "alan-03", "kat-05", "bob-07", "pct-09", "und-10", "bsl-11", "eco-12", "Hal-13"}},
	{`meta.created eq "2024-03-10T10:30:00.123+01:00"`, []string{"Ada-01", "Grace-02"}},
	{`meta.created gt "2024-03-10T09:30:00.123Z"`, []string{"alan-03", "ALAN-04", "kat-05", "zed-06", "bob-07", "pct-09", "und-10", "bsl-11", "eco-12", "Hal-13"}},
	{`meta.created lt "2024-03-10T09:30:00.123Z"`, []string{"eve-08"}},
	{`name.familyName eq "LOVELACE"`, []string{"Ada-01", "zed-06"}},
	{enterprise + `employeeNumber eq "E100"`, []string{"Ada-01", "zed-06"}},
	{enterprise + `manager.value eq "ada-01"`, []string{"ALAN-04", "zed-06"}},
	{`title pr`, nil},
}

var filterChecks = func() []check {
	var out []check
	for _, g := range filterGroups {
		out = append(out, check{g.name, func(t *testing.T, k *kit) {
			p := populate(t, k)
			for _, f := range g.filters {
				p.checkFilter(t, f)
			}
		}})
	}
	out = append(out, check{"every operator on the host's extension attributes", func(t *testing.T, k *kit) {
		if len(k.hostExt) == 0 {
			t.Skip("the declaration has no extension schema of the host's own")
		}
		p := populate(t, k)
		for _, f := range k.extFilters() {
			p.checkFilter(t, f)
		}
	}})
	out = append(out, check{"filters answered as the kit states (not only as scim.ApplyQuery does)", func(t *testing.T, k *kit) {
		p := populate(t, k)
		full := (&config{rt: k.full, full: k.full}).newKit(nil) // the kit's own fixtures, every attribute, fixture ids
		for _, h := range hardCoded {
			if ref := idsOf(scim.ApplyQuery(rawPopulation(""), all(full.mustParse(t, h.filter))).Users); !sameSet(ref, h.ids) {
				t.Errorf("scimtest: the reference scim.ApplyQuery answers filter %s with ids %q, the kit expects %q: "+
					"a bug in the library or the kit, not in this Store", h.filter, ref, h.ids)
			}
			e, ok := k.parse(t, h.filter)
			if !ok || !sameSet(p.names(scim.ApplyQuery(p.order, all(e)).Users), h.ids) {
				continue // an undeclared attribute, or the Store's ids or defaults change the answer: checked above
			}
			q := all(e)
			page, err := k.s.List(p.ctx, q)
			if err != nil {
				t.Errorf("List(%s) %s: unexpected error %v", describeQuery(q), where(p.ctx), err)
				continue
			}
			if got := p.names(page.Users); !sameSet(got, h.ids) || len(got) != len(h.ids) || page.TotalResults != len(h.ids) {
				t.Errorf("List(%s) %s returned ids %q, TotalResults %d; want ids %q (in any order), TotalResults %d (missing %q, unexpected %q)",
					describeQuery(q), where(p.ctx), got, page.TotalResults, h.ids, len(h.ids), minus(h.ids, got), minus(got, h.ids))
			}
		}
	}})
	return out
}()

// sortPaths are the sortBy attributes checked, each ascending and descending over the whole population.
var sortPaths = []string{
	"userName", "displayName", "name.familyName", "meta.created", "meta.lastModified", "externalId", "id", "emails",
	"emails.type", "active", enterprise + "employeeNumber", enterprise + "manager.value",
}

var sortChecks = []check{
	{"sortBy orders every attribute type, ascending and descending, unassigned last then first, ties in List order", func(t *testing.T, k *kit) {
		p := populate(t, k)
		for _, sp := range append(slices.Clone(sortPaths), k.extSortPaths()...) {
			by, ok := k.path(sp)
			if !ok {
				continue // undeclared
			}
			for _, desc := range []bool{false, true} {
				p.checkQuery(t, scim.Query{SortBy: by, Descending: desc, StartIndex: 1, Count: 1000})
			}
		}
	}},
	{"sortBy combines with filters and pages", func(t *testing.T, k *kit) {
		p := populate(t, k)
		for _, q := range []struct {
			filter, sortBy string
			desc           bool
			start, count   int
		}{
			{`emails pr`, "displayName", true, 2, 4},
			{`active pr`, "meta.created", false, 3, 3},
			{"", "name.familyName", false, 10, 10},
			{"", "name.familyName", true, 1, 3},
			{`userName co "a"`, "userName", true, 4, 2},
			{"", "userName", false, 13, 5},
			{"", "displayName", false, 0, 2},
		} {
			by, ok := k.path(q.sortBy)
			if !ok {
				continue // undeclared
			}
			sq := scim.Query{SortBy: by, Descending: q.desc, StartIndex: q.start, Count: q.count}
			if q.filter != "" {
				if sq.Filter, ok = k.parse(t, q.filter); !ok {
					continue
				}
			}
			p.checkQuery(t, sq)
		}
	}},
	{"sortBy orders as the kit states (not only as scim.ApplyQuery does)", func(t *testing.T, k *kit) {
		p := populate(t, k)
		for _, c := range []struct {
			sortBy string
			desc   bool
			groups [][]string // the ids in order; within a group (a tie), in the Store's List order
		}{
			{"userName", false, [][]string{{"pct-09"}, {"Ada-01"}, {"alan-03"}, {"ALAN-04"}, {"bsl-11"}, {"bob-07"},
				{"eve-08"}, {"Grace-02"}, {"Hal-13"}, {"kat-05"}, {"und-10"}, {"zed-06"}, {"eco-12"}}},
			{"displayName", false, [][]string{{"pct-09"}, {"Ada-01", "kat-05"}, {"ALAN-04"}, {"bob-07"}, {"eve-08"},
				{"Grace-02"}, {"Hal-13"}, {"und-10"}, {"zed-06"}, {"eco-12"}, {"alan-03", "bsl-11"}}},
			{"displayName", true, [][]string{{"alan-03", "bsl-11"}, {"eco-12"}, {"zed-06"}, {"und-10"}, {"Hal-13"},
				{"Grace-02"}, {"eve-08"}, {"bob-07"}, {"ALAN-04"}, {"Ada-01", "kat-05"}, {"pct-09"}}},
			{"meta.created", false, [][]string{{"eve-08"}, {"Ada-01", "Grace-02"}, {"bob-07"}, {"alan-03"},
				{"ALAN-04", "kat-05"}, {"zed-06"}, {"pct-09", "und-10"}, {"bsl-11"}, {"eco-12"}, {"Hal-13"}}},
		} {
			by, ok := k.path(c.sortBy)
			if !ok {
				continue // undeclared
			}
			q := scim.Query{SortBy: by, Descending: c.desc, StartIndex: 1, Count: 1000}
			want := p.inGroups(c.groups)
			if ref := p.names(scim.ApplyQuery(p.order, q).Users); !slices.Equal(ref, want) {
				t.Errorf("scimtest: the reference scim.ApplyQuery sorts (%s) as %q, the kit expects %q: a bug in the "+
					"library or the kit, not in this Store", describeQuery(q), ref, want)
			}
			page, err := k.s.List(p.ctx, q)
			if err != nil {
				t.Errorf("List(%s) %s: unexpected error %v", describeQuery(q), where(p.ctx), err)
				continue
			}
			if got := p.names(page.Users); !slices.Equal(got, want) {
				t.Errorf("List(%s) %s returned ids %q; want %q (strings folded and compared bytewise, as Go does: "+
					"a database collation that ignores punctuation or places accented letters among plain ones differs)",
					describeQuery(q), where(p.ctx), got, want)
			}
		}
	}},
}

// inGroups flattens groups of ids, ordering each group as the Store's unsorted List does.
func (p *pop) inGroups(groups [][]string) []string {
	var out []string
	for _, g := range groups {
		for _, id := range p.names(p.order) {
			if slices.Contains(g, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

var paginationChecks = []check{
	{"startIndex and count cut the page out of all matches, and TotalResults counts them all", func(t *testing.T, k *kit) {
		p := populate(t, k)
		for _, f := range []string{"", `emails pr`, `userName eq "nobody"`} {
			var fe filter.Expr
			if f != "" {
				var ok bool
				if fe, ok = k.parse(t, f); !ok {
					continue // undeclared
				}
			}
			for _, start := range []int{0, 1, 2, 8, 12, 13, 14, 100} {
				for _, count := range []int{0, 1, 3, 8, 13, 14, 1000} {
					p.checkQuery(t, scim.Query{Filter: fe, StartIndex: start, Count: count})
				}
			}
		}
	}},
	{"count 0 gives TotalResults and no users", func(t *testing.T, k *kit) {
		p := populate(t, k)
		for _, f := range []string{"", `emails pr`} {
			q := scim.Query{StartIndex: 1, Count: 0}
			if f != "" {
				var ok bool
				if q.Filter, ok = k.parse(t, f); !ok {
					continue // undeclared
				}
			}
			page := mustList(t, k.s, p.ctx, q)
			want := scim.ApplyQuery(p.order, q).TotalResults
			if len(page.Users) != 0 || page.TotalResults != want {
				t.Errorf("List(%s) %s = %d users, TotalResults %d; want no users (count 0 asks for TotalResults alone, "+
					"RFC 7644 §3.4.2.4) and TotalResults %d", describeQuery(q), where(p.ctx), len(page.Users), page.TotalResults, want)
			}
		}
	}},
	{"an empty tenant lists no users and TotalResults 0", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		byName, _ := k.path("userName")
		for _, q := range []scim.Query{{StartIndex: 1, Count: 10}, all(k.mustParse(t, `userName eq "x"`)), {StartIndex: 1, Count: 10, SortBy: byName}} {
			page := mustList(t, k.s, ctx, q)
			if len(page.Users) != 0 || page.TotalResults != 0 {
				t.Errorf("List(%s) of an empty Store = ids %q, TotalResults %d; want none, 0", describeQuery(q), idsOf(page.Users), page.TotalResults)
			}
		}
		k.create(t, inTenant(t, k.tenantB), k.minimalUser("B-1", "b"))
		page := mustList(t, k.s, ctx, scim.Query{StartIndex: 1, Count: 10})
		if len(page.Users) != 0 || page.TotalResults != 0 {
			t.Errorf("List(all) %s, a tenant without users while another has one, = ids %q, TotalResults %d; want none, 0", where(ctx), idsOf(page.Users), page.TotalResults)
		}
	}},
	{"pages of the unsorted List join up in a stable order, with no duplicates and no gaps", func(t *testing.T, k *kit) {
		p := populate(t, k)
		full := p.names(p.order)
		for i, id := range full {
			if slices.Contains(full[:i], id) {
				t.Fatalf("List(all) %s returned user %q twice: %q", where(p.ctx), id, full)
			}
		}
		for _, count := range []int{1, 3, 5} {
			var joined []string
			for start := 1; start <= popCount; start += count {
				q := scim.Query{StartIndex: start, Count: count}
				page := mustList(t, k.s, p.ctx, q)
				if page.TotalResults != popCount {
					t.Fatalf("List(%s) %s returned TotalResults %d; want %d whatever the page", describeQuery(q), where(p.ctx), page.TotalResults, popCount)
				}
				joined = append(joined, p.names(page.Users)...)
			}
			if !slices.Equal(joined, full) {
				t.Fatalf("pages of %d of List(all) %s joined = %q; want the unpaged List %q: without sortBy the order must be "+
					"stable, so that pages have no duplicates and no gaps", count, where(p.ctx), joined, full)
			}
		}
		again := p.names(mustList(t, k.s, p.ctx, scim.Query{StartIndex: 1, Count: 1000}).Users)
		if !slices.Equal(again, full) {
			t.Fatalf("List(all) %s a second time = %q; the first time %q: without sortBy the order must be stable", where(p.ctx), again, full)
		}
	}},
	{"Replace does not move a user in the unsorted List order", func(t *testing.T, k *kit) {
		p := populate(t, k)
		before := p.names(p.order)
		for _, i := range []int{0, popCount / 2, popCount - 1} {
			u := k.fixture(before[i])
			u.DisplayName = "changed"
			u.Meta.LastModified = at(1000 * time.Hour)
			u = k.declared(u)
			k.replace(t, p.ctx, u, "")
		}
		after := p.names(mustList(t, k.s, p.ctx, scim.Query{StartIndex: 1, Count: 1000}).Users)
		if !slices.Equal(after, before) {
			t.Fatalf("List(all) %s after replacing users %q = %q; want the order before, %q: index pages taken while users "+
				"change must not skip or repeat users", where(p.ctx), []string{before[0], before[popCount/2], before[popCount-1]}, after, before)
		}
	}},
}

func sameSet(a, b []string) bool {
	return len(minus(a, b)) == 0 && len(minus(b, a)) == 0
}

// minus returns the elements of a not in b.
func minus(a, b []string) []string {
	out := []string{}
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func intersect(a, b []string) []string {
	out := []string{}
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
