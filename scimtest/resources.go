package scimtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// TestResourceStore checks that the ResourceStore made by newStore keeps resources of the declared type rt
// as the handler needs: documents round-trip, versions are checked, Replace keeps Meta.Created, every
// attribute declared unique ("server" or "global", a single-valued string of the core schema) is unique
// within a tenant (without case unless caseExact), tenants are isolated, a context without a tenant or a
// cancelled one stops every method, List answers filters, sorts and pages as scim.ApplyDocuments does and
// refuses with scim.ErrTooMany a filter it would test on more than Query.MaxScan resources, and, when the
// Store is a scim.ResourceCursorLister, cursor pages return every resource once.
//
// The kit makes its documents from rt: values for the single-valued string, integer and boolean attributes
// of the core schema and the strings of its extensions, so it checks a Store for any declared type. As
// TestStore, each check is a subtest given a fresh Store, and the kit follows the ids Create returns.
func TestResourceStore(t *testing.T, rt *schema.ResourceType, newStore func(t *testing.T) scim.ResourceStore) {
	t.Helper()
	if rt == nil {
		t.Fatal("scimtest: TestResourceStore needs the declared resource type")
	}
	g := newDocGen(rt)
	fresh := func(t *testing.T) *rkit {
		t.Helper()
		s := newStore(t)
		if s == nil {
			t.Fatal("newStore returned a nil ResourceStore")
		}
		return &rkit{s: s, g: g, ids: map[string]string{}}
	}
	groups := []struct {
		name   string
		checks []rcheck
	}{
		{"crud", resourceCRUDChecks},
		{"uniqueness", resourceUniqueChecks},
		{"tenants", resourceTenantChecks},
		{"context", resourceContextChecks},
		{"list", resourceListChecks},
		{"cursor pagination", resourceCursorChecks},
	}
	for _, grp := range groups {
		t.Run(grp.name, func(t *testing.T) {
			for _, c := range grp.checks {
				t.Run(c.name, func(t *testing.T) { c.run(t, fresh(t)) })
			}
		})
	}
}

// rcheck is one requirement of a ResourceStore: run checks it against a fresh Store.
type rcheck struct {
	name string
	run  func(t *testing.T, k *rkit)
}

// rkit is a fresh ResourceStore and the ids it gave the kit's fixtures, per tenant.
type rkit struct {
	s   scim.ResourceStore
	g   *docGen
	ids map[string]string // tenant + "\x00" + fixture id → the Store's id
}

// docGen makes the kit's documents from a declared type.
type docGen struct {
	rt     *schema.ResourceType
	unique []*schema.Attribute // single-valued core strings declared unique: the Store's to enforce
	plain  []*schema.Attribute // the other single-valued core strings, integers and booleans
	ext    []extString         // single-valued strings of the extensions
}

type extString struct {
	urn  string
	attr *schema.Attribute
}

func newDocGen(rt *schema.ResourceType) *docGen {
	g := &docGen{rt: rt}
	for _, a := range rt.Core.Attributes {
		switch {
		case a.MultiValued:
		case a.Type == schema.String && a.Uniqueness != schema.UniqueNone:
			g.unique = append(g.unique, a)
		case a.Type == schema.String || a.Type == schema.Integer || a.Type == schema.Boolean:
			g.plain = append(g.plain, a)
		}
	}
	for _, e := range rt.Extensions {
		for _, a := range e.Schema.Attributes {
			if a.Type == schema.String && !a.MultiValued {
				g.ext = append(g.ext, extString{urn: e.Schema.ID, attr: a})
			}
		}
	}
	return g
}

// words are the plain strings' values: shared prefixes ("alpha", "alphabet") and cases for sw, co and folding.
var words = []string{"Alpha", "beta", "Gamma", "alphabet", "DELTA"}

// popSize is how many resources the list checks create in a tenant.
const popSize = 12

// doc returns fixture n ("r-03" for 3) at variant v: v changes every plain value, never a unique one. Some
// fixtures leave plain values unassigned (for pr), and every sixth no unique value (which is no conflict).
func (g *docGen) doc(n, v int) *scim.Document {
	attrs := map[string]any{}
	if n%6 != 5 {
		for _, a := range g.unique {
			attrs[a.Name] = uniqueValue(a, n)
		}
	}
	for i, a := range g.plain {
		if (n+i)%4 == 3 { // unassigned
			continue
		}
		switch a.Type {
		case schema.String:
			attrs[a.Name] = words[(n+v+i)%len(words)]
		case schema.Integer:
			attrs[a.Name] = json.Number(strconv.Itoa((n*7 + v) % 10))
		case schema.Boolean:
			attrs[a.Name] = (n+v)%2 == 0
		}
	}
	for i, e := range g.ext {
		if (n+i)%3 == 2 {
			continue
		}
		m, _ := attrs[e.urn].(map[string]any)
		if m == nil {
			m = map[string]any{}
			attrs[e.urn] = m
		}
		m[e.attr.Name] = "Site-" + words[(n+v+i)%len(words)]
	}
	created := t0.Add(time.Duration(n) * time.Minute)
	return &scim.Document{ID: fmt.Sprintf("r-%02d", n), Attributes: attrs,
		Meta: scim.Meta{Created: created, LastModified: created.Add(time.Duration(v) * time.Hour)}}
}

// uniqueValue is fixture n's value of a unique attribute: mixed case, so that folding shows.
func uniqueValue(a *schema.Attribute, n int) string { return fmt.Sprintf("Key-%s-%02d", a.Name, n) }

// other returns s in another case: the same value to an attribute that compares without case.
func other(s string) string {
	if up := strings.ToUpper(s); up != s {
		return up
	}
	return strings.ToLower(s)
}

func (k *rkit) key(ctx context.Context, fid string) string { return tenantOf(ctx) + "\x00" + fid }

// id is the Store's id of a fixture created in ctx's tenant (the fixture id before it is created).
func (k *rkit) id(ctx context.Context, fid string) string {
	if id, ok := k.ids[k.key(ctx, fid)]; ok {
		return id
	}
	return fid
}

// fid is the fixture id of a Store's id in ctx's tenant, for messages and comparisons.
func (k *rkit) fid(ctx context.Context, id string) string {
	prefix := tenantOf(ctx) + "\x00"
	for key, v := range k.ids {
		if v == id && strings.HasPrefix(key, prefix) {
			return key[len(prefix):]
		}
	}
	return id
}

func (k *rkit) fids(ctx context.Context, docs []*scim.Document) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = k.fid(ctx, d.ID)
	}
	return out
}

// create creates fixture n at variant v and checks what Create returns.
func (k *rkit) create(t *testing.T, ctx context.Context, n, v int) *scim.Document {
	t.Helper()
	d := k.g.doc(n, v)
	call := fmt.Sprintf("Create(%q) %s", d.ID, where(ctx))
	got, err := k.s.Create(ctx, d)
	if err != nil {
		t.Fatalf("%s: unexpected error %v; want the created resource", call, err)
	}
	if got == nil || got.ID == "" || got.Meta.Version == "" {
		t.Fatalf("%s returned %+v; want the resource with an ID and a Meta.Version", call, got)
	}
	k.ids[k.key(ctx, k.g.doc(n, v).ID)] = got.ID
	k.checkDoc(t, call, got, k.g.doc(n, v))
	return got
}

// get gets fixture fid and fails the test if the Store cannot.
func (k *rkit) get(t *testing.T, ctx context.Context, fid string) *scim.Document {
	t.Helper()
	got, err := k.s.Get(ctx, k.id(ctx, fid))
	if err != nil || got == nil {
		t.Fatalf("Get(%q) %s = %v, %v; want the resource", fid, where(ctx), got, err)
	}
	return got
}

// replace replaces fixture n by its variant v, with the version given, and fails the test if the Store refuses.
func (k *rkit) replace(t *testing.T, ctx context.Context, n, v int, version string) *scim.Document {
	t.Helper()
	d := k.g.doc(n, v)
	d.ID = k.id(ctx, d.ID)
	call := fmt.Sprintf("Replace(%q, version %q) %s", d.ID, version, where(ctx))
	got, err := k.s.Replace(ctx, d, version)
	if err != nil || got == nil || got.Meta.Version == "" {
		t.Fatalf("%s = %v, %v; want the replaced resource with a new Meta.Version", call, got, err)
	}
	return got
}

// checkDoc fails the test unless got has want's attributes and times (its id and version aside).
func (k *rkit) checkDoc(t *testing.T, call string, got, want *scim.Document) {
	t.Helper()
	require.NotNil(t, got, "%s returned a nil document", call)
	checkTime(t, call, "Meta.Created", got.Meta.Created, want.Meta.Created)
	checkTime(t, call, "Meta.LastModified", got.Meta.LastModified, want.Meta.LastModified)
	require.Equal(t, want.Attributes, got.Attributes, "%s returned other attributes than were stored: expected is "+
		"what the Store was given, actual what it returned (numbers as json.Number, extensions as maps under their URN)", call)
}

var resourceCRUDChecks = []rcheck{
	{"Get returns the created document; Replace and Delete check versions; Replace keeps Meta.Created", func(t *testing.T, k *rkit) {
		ctx := inTenant(t, "scimtest-a")
		created := k.create(t, ctx, 1, 0)
		k.checkDoc(t, `Get("r-01")`, k.get(t, ctx, "r-01"), k.g.doc(1, 0))
		id, v1 := created.ID, created.Meta.Version

		next := k.g.doc(1, 1)
		next.ID = id
		next.Meta.Created = t0.Add(time.Hour * 24 * 365) // the Store keeps the original
		got, err := k.s.Replace(ctx, next, v1)
		require.NoError(t, err, "Replace(%q, version %q)", id, v1)
		require.NotEqual(t, v1, got.Meta.Version, "Replace must give the resource a new version")
		want := k.g.doc(1, 1)
		k.checkDoc(t, fmt.Sprintf("Replace(%q) given another Meta.Created (the Store keeps the first)", id), got, want)
		k.checkDoc(t, fmt.Sprintf("Get(%q) after Replace", id), k.get(t, ctx, "r-01"), want)
		require.Equal(t, got.Meta.Version, k.get(t, ctx, "r-01").Meta.Version, "Get after Replace returns Replace's version")

		stale := k.g.doc(1, 0)
		stale.ID = id
		_, err = k.s.Replace(ctx, stale, v1)
		wantErr(t, err, scim.ErrVersionMismatch, fmt.Sprintf("Replace(%q, version %q)", id, v1), "the resource has a newer version")
		wantErr(t, k.s.Delete(ctx, id, v1), scim.ErrVersionMismatch, fmt.Sprintf("Delete(%q, version %q)", id, v1), "the resource has a newer version")
		k.checkDoc(t, "Get after refused writes", k.get(t, ctx, "r-01"), want)

		require.NoError(t, k.s.Delete(ctx, id, got.Meta.Version), "Delete(%q, version %q)", id, got.Meta.Version)
		_, err = k.s.Get(ctx, id)
		wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Get(%q) after Delete", id), "it was deleted")
	}},
	{"an empty version replaces and deletes whatever the version", func(t *testing.T, k *rkit) {
		ctx := inTenant(t, "scimtest-a")
		k.create(t, ctx, 1, 0)
		k.replace(t, ctx, 1, 1, "")
		require.NoError(t, k.s.Delete(ctx, k.id(ctx, "r-01"), ""), "Delete(version \"\")")
	}},
	{"Get, Replace and Delete of a missing id give ErrNotFound", func(t *testing.T, k *rkit) {
		ctx := inTenant(t, "scimtest-a")
		k.create(t, ctx, 1, 0)
		_, err := k.s.Get(ctx, "missing")
		wantErr(t, err, scim.ErrNotFound, `Get("missing")`, "no resource has the id")
		d := k.g.doc(2, 0)
		d.ID = "missing"
		_, err = k.s.Replace(ctx, d, "")
		wantErr(t, err, scim.ErrNotFound, `Replace("missing")`, "no resource has the id")
		wantErr(t, k.s.Delete(ctx, "missing", ""), scim.ErrNotFound, `Delete("missing")`, "no resource has the id")
		wantErr(t, k.s.Delete(ctx, "missing", "1"), scim.ErrNotFound, `Delete("missing", "1")`, "no resource has the id")
	}},
	{"documents returned earlier do not change when the resource is replaced", func(t *testing.T, k *rkit) {
		ctx := inTenant(t, "scimtest-a")
		created := k.create(t, ctx, 1, 0)
		read := k.get(t, ctx, "r-01")
		k.replace(t, ctx, 1, 1, "")
		k.checkDoc(t, "the document Create returned, after a Replace", created, k.g.doc(1, 0))
		k.checkDoc(t, "the document Get returned, after a Replace", read, k.g.doc(1, 0))
	}},
}

var resourceUniqueChecks = []rcheck{
	{"each unique attribute's value is taken within the tenant (without case unless caseExact)", func(t *testing.T, k *rkit) {
		if len(k.g.unique) == 0 {
			t.Skip("the type declares no unique single-valued string of its core schema")
		}
		ctx := inTenant(t, "scimtest-a")
		k.create(t, ctx, 1, 0)
		for _, a := range k.g.unique {
			for _, spelling := range []string{uniqueValue(a, 1), other(uniqueValue(a, 1))} {
				d := k.g.doc(2, 0)
				d.Attributes[a.Name] = spelling
				call := fmt.Sprintf("Create(r-02 with %s %q) %s", a.Name, spelling, where(ctx))
				got, err := k.s.Create(ctx, d)
				if a.CaseExact && spelling != uniqueValue(a, 1) {
					require.NoError(t, err, "%s: %s is caseExact, so %q differs from r-01's %q", call, a.Name, spelling, uniqueValue(a, 1))
					require.NoError(t, k.s.Delete(ctx, got.ID, ""))
					continue
				}
				wantErr(t, err, scim.ErrConflict, call, "r-01 has the value of "+a.Name)
				k.create(t, ctx, 2, 0)
				d = k.g.doc(2, 0)
				d.ID = k.id(ctx, "r-02")
				d.Attributes[a.Name] = spelling
				_, err = k.s.Replace(ctx, d, "")
				wantErr(t, err, scim.ErrConflict, fmt.Sprintf("Replace(r-02 with %s %q)", a.Name, spelling), "r-01 has the value of "+a.Name)
				k.checkDoc(t, "Get(r-02) after a refused Replace", k.get(t, ctx, "r-02"), k.g.doc(2, 0))
				require.NoError(t, k.s.Delete(ctx, k.id(ctx, "r-02"), ""))
			}
		}
	}},
	{"a resource keeps its own unique values on Replace; Delete and Replace free them", func(t *testing.T, k *rkit) {
		if len(k.g.unique) == 0 {
			t.Skip("the type declares no unique single-valued string of its core schema")
		}
		ctx := inTenant(t, "scimtest-a")
		k.create(t, ctx, 1, 0)
		k.replace(t, ctx, 1, 1, "") // same unique values: no conflict with itself
		d := k.g.doc(1, 0)
		d.ID = k.id(ctx, "r-01")
		for _, a := range k.g.unique {
			d.Attributes[a.Name] = "renamed-" + a.Name
		}
		_, err := k.s.Replace(ctx, d, "")
		require.NoError(t, err, "Replace(r-01 with new unique values)")
		k.create(t, ctx, 2, 0)
		d2 := k.g.doc(3, 0)
		for _, a := range k.g.unique {
			d2.Attributes[a.Name] = uniqueValue(a, 1) // r-01's old values, freed by its Replace
		}
		got, err := k.s.Create(ctx, d2)
		require.NoError(t, err, "Create(r-03 with the unique values r-01 gave up on Replace)")
		require.NoError(t, k.s.Delete(ctx, got.ID, ""))
		_, err = k.s.Create(ctx, k.g.doc(3, 0))
		require.NoError(t, err, "Create(r-03) after a Delete freed its values")
	}},
	{"resources without a unique value do not conflict", func(t *testing.T, k *rkit) {
		ctx := inTenant(t, "scimtest-a")
		k.create(t, ctx, 5, 0) // fixtures 5 and 11 hold no unique value
		k.create(t, ctx, 11, 0)
	}},
}

var resourceTenantChecks = []rcheck{
	{"a tenant's resources are invisible to others, and the same unique values are allowed in each", func(t *testing.T, k *rkit) {
		a, b := inTenant(t, "scimtest-a"), inTenant(t, "scimtest-b")
		created := k.create(t, a, 1, 0)
		for _, ctx := range []context.Context{b, inTenant(t, ""), inTenant(t, "SCIMTEST-A")} {
			why := "r-01 belongs to tenant scimtest-a; tenants compare exactly"
			_, err := k.s.Get(ctx, created.ID)
			wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Get(%q) %s", created.ID, where(ctx)), why)
			d := k.g.doc(1, 1)
			d.ID = created.ID
			_, err = k.s.Replace(ctx, d, "")
			wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Replace(%q) %s", created.ID, where(ctx)), why)
			wantErr(t, k.s.Delete(ctx, created.ID, ""), scim.ErrNotFound, fmt.Sprintf("Delete(%q) %s", created.ID, where(ctx)), why)
			page, err := k.s.List(ctx, scim.Query{StartIndex: 1, Count: 10})
			require.NoError(t, err, "List %s", where(ctx))
			require.Empty(t, page.Documents, "List %s: %s", where(ctx), why)
			require.Zero(t, page.TotalResults, "List %s: %s", where(ctx), why)
		}
		k.checkDoc(t, "Get(r-01) after other tenants' refused writes", k.get(t, a, "r-01"), k.g.doc(1, 0))
		k.create(t, b, 1, 0) // the same unique values, in another tenant
		if len(k.g.unique) > 0 {
			d := k.g.doc(2, 0)
			d.Attributes[k.g.unique[0].Name] = uniqueValue(k.g.unique[0], 1)
			_, err := k.s.Create(b, d)
			wantErr(t, err, scim.ErrConflict, "Create(r-02 with r-01's "+k.g.unique[0].Name+") "+where(b), "r-01 of this tenant has it")
		}
	}},
}

var resourceContextChecks = []rcheck{
	{"every method fails without a tenant (ErrNoTenant) or with a cancelled context, and changes nothing", func(t *testing.T, k *rkit) {
		ctx := inTenant(t, "scimtest-a")
		created := k.create(t, ctx, 1, 0)
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		for _, c := range []struct {
			name string
			ctx  context.Context
			want error
		}{{"without a tenant", context.Background(), scim.ErrNoTenant}, {"cancelled", cancelled, nil}} {
			check := func(call string, err error) {
				t.Helper()
				if c.want != nil {
					wantErr(t, err, c.want, call+" "+c.name, "the context carries no tenant")
				} else if err == nil {
					t.Fatalf("%s %s succeeded; want an error", call, c.name)
				}
			}
			_, err := k.s.Create(c.ctx, k.g.doc(2, 0))
			check("Create(r-02)", err)
			_, err = k.s.Get(c.ctx, created.ID)
			check("Get(r-01)", err)
			d := k.g.doc(1, 1)
			d.ID = created.ID
			_, err = k.s.Replace(c.ctx, d, "")
			check("Replace(r-01)", err)
			check("Delete(r-01)", k.s.Delete(c.ctx, created.ID, ""))
			_, err = k.s.List(c.ctx, scim.Query{StartIndex: 1, Count: 10})
			check("List", err)
			if cl, ok := k.s.(scim.ResourceCursorLister); ok {
				_, err = cl.ListCursor(c.ctx, scim.Query{Count: 10}, "")
				check("ListCursor", err)
			}
		}
		k.checkDoc(t, "Get(r-01) after the refused calls", k.get(t, ctx, "r-01"), k.g.doc(1, 0))
		_, err := k.s.Get(ctx, k.g.doc(2, 0).ID)
		wantErr(t, err, scim.ErrNotFound, "Get(r-02) after a refused Create", "the Create failed")
	}},
}

// rpop is the list checks' population in tenant scimtest-a (look-alikes in scimtest-b): order holds the
// documents as the unfiltered List returned them, over which scim.ApplyDocuments is the reference answer.
type rpop struct {
	k     *rkit
	ctx   context.Context
	order []*scim.Document
}

func populateDocs(t *testing.T, k *rkit) *rpop {
	t.Helper()
	a, b := inTenant(t, "scimtest-a"), inTenant(t, "scimtest-b")
	for n := range popSize {
		k.create(t, a, n, n%2)
		k.create(t, b, n, 1-n%2) // same unique values, other plain ones: must never show through
	}
	page, err := k.s.List(a, scim.Query{StartIndex: 1, Count: 1000})
	require.NoError(t, err, "List(all) %s", where(a))
	require.Equal(t, popSize, page.TotalResults, "List(all) %s: TotalResults", where(a))
	require.Len(t, page.Documents, popSize, "List(all) %s", where(a))
	seen := map[string]bool{}
	for _, d := range page.Documents {
		fid := k.fid(a, d.ID)
		require.False(t, seen[fid], "List(all) returned %s twice", fid)
		seen[fid] = true
		n, err := strconv.Atoi(strings.TrimPrefix(fid, "r-"))
		require.NoError(t, err, "List(all) %s returned id %q, which Create did not return there", where(a), d.ID)
		k.checkDoc(t, "List(all) "+where(a), d, k.g.doc(n, n%2))
	}
	return &rpop{k: k, ctx: a, order: page.Documents}
}

// check compares the Store's answer to q with scim.ApplyDocuments over the population.
func (p *rpop) check(t *testing.T, q scim.Query) {
	t.Helper()
	call := fmt.Sprintf("List(%s) %s", describeQuery(q), where(p.ctx))
	page, err := p.k.s.List(p.ctx, q)
	if err != nil || page == nil {
		t.Errorf("%s = %v, %v; want a page", call, page, err)
		return
	}
	want := scim.ApplyDocuments(p.order, q)
	got, wantIDs := p.k.fids(p.ctx, page.Documents), p.k.fids(p.ctx, want.Documents)
	if !slices.Equal(got, wantIDs) {
		t.Errorf("%s returned %q; want %q, as scim.ApplyDocuments answers over the same resources in the "+
			"Store's unfiltered order %q", call, got, wantIDs, p.k.fids(p.ctx, p.order))
	}
	if page.TotalResults != want.TotalResults {
		t.Errorf("%s returned TotalResults %d; want %d", call, page.TotalResults, want.TotalResults)
	}
}

// parse parses a filter of the checks against the declared type.
func (p *rpop) parse(t *testing.T, f string) filter.Expr {
	t.Helper()
	e, err := filter.Parse(p.k.g.rt, f)
	require.NoError(t, err, "scimtest: filter %q", f)
	return e
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

// filters are the list checks' filters over the declared type's attributes.
func (p *rpop) filters() []string {
	g := p.k.g
	fs := []string{`id eq ` + quote(p.order[2].ID), `id eq "none"`, `meta.created gt "` + t0.Add(5*time.Minute).Format(time.RFC3339Nano) + `"`}
	for _, a := range g.unique {
		fs = append(fs, a.Name+` eq `+quote(uniqueValue(a, 3)), a.Name+` eq `+quote(other(uniqueValue(a, 4))),
			a.Name+` eq "none"`, a.Name+` sw "key"`, a.Name+` pr`, `not (`+a.Name+` pr)`)
	}
	for _, a := range g.plain {
		switch a.Type {
		case schema.String:
			fs = append(fs, a.Name+` eq "beta"`, a.Name+` eq "alpha"`, a.Name+` eq "ALPHA"`, a.Name+` sw "alpha"`,
				a.Name+` co "MM"`, a.Name+` gt "beta"`, a.Name+` pr`, `not (`+a.Name+` pr)`, a.Name+` ne "beta"`)
		case schema.Integer:
			fs = append(fs, a.Name+` gt 4`, a.Name+` eq 3`, a.Name+` le 2`, a.Name+` pr`)
		case schema.Boolean:
			fs = append(fs, a.Name+` eq true`, a.Name+` eq false`)
		}
	}
	for _, e := range g.ext {
		path := e.urn + ":" + e.attr.Name
		fs = append(fs, path+` eq "site-beta"`, path+` sw "Site-a"`, path+` pr`)
	}
	// Logical combinations of the first few.
	n := len(fs)
	for i := 3; i+1 < n && i < 12; i += 2 {
		fs = append(fs, `(`+fs[i]+`) and (`+fs[i+1]+`)`, `(`+fs[i]+`) or (`+fs[i+1]+`)`, `not (`+fs[i]+`)`)
	}
	return fs
}

// sortPaths are the paths the list checks sort by.
func (p *rpop) sortPaths() []string {
	out := []string{"meta.created", "id"}
	for _, a := range append(slices.Clone(p.k.g.unique), p.k.g.plain...) {
		if a.Type != schema.Boolean {
			out = append(out, a.Name)
		}
	}
	return out
}

var resourceListChecks = []rcheck{
	{"List answers every filter as scim.ApplyDocuments does, only within the tenant", func(t *testing.T, k *rkit) {
		p := populateDocs(t, k)
		for _, f := range p.filters() {
			p.check(t, scim.Query{Filter: p.parse(t, f), StartIndex: 1, Count: 1000})
		}
	}},
	{"List sorts ascending and descending, unassigned values last when ascending", func(t *testing.T, k *rkit) {
		p := populateDocs(t, k)
		for _, path := range p.sortPaths() {
			sp, ok := k.g.rt.Resolve(path)
			require.True(t, ok, "scimtest: sort path %q", path)
			for _, desc := range []bool{false, true} {
				p.check(t, scim.Query{SortBy: sp, Descending: desc, StartIndex: 1, Count: 1000})
				p.check(t, scim.Query{SortBy: sp, Descending: desc, StartIndex: 3, Count: 4})
			}
		}
	}},
	{"List pages by startIndex and count, with TotalResults of every match", func(t *testing.T, k *rkit) {
		p := populateDocs(t, k)
		fs := []filter.Expr{nil, p.parse(t, `not (id eq "none")`)}
		if len(k.g.plain) > 0 {
			fs = append(fs, p.parse(t, k.g.plain[0].Name+` pr`))
		}
		for _, f := range fs {
			for _, pg := range [][2]int{{1, 5}, {6, 5}, {11, 5}, {12, 1}, {13, 5}, {100, 5}, {1, 0}, {0, 3}} {
				p.check(t, scim.Query{Filter: f, StartIndex: pg[0], Count: pg[1]})
			}
		}
	}},
	{"List refuses with ErrTooMany a filter it would test on more than MaxScan resources", func(t *testing.T, k *rkit) {
		p := populateDocs(t, k)
		q := scim.Query{Filter: p.parse(t, `not (id eq "none")`), StartIndex: 1, Count: 10, MaxScan: popSize / 2}
		_, err := k.s.List(p.ctx, q)
		wantErr(t, err, scim.ErrTooMany, fmt.Sprintf("List(%s, MaxScan %d) %s", describeQuery(q), q.MaxScan, where(p.ctx)),
			"no index answers the filter, and the tenant holds more resources than MaxScan")
		q.MaxScan = popSize
		p.check(t, q) // exactly the budget: allowed
	}},
}

var resourceCursorChecks = []rcheck{
	{"ListCursor returns every match once, across pages, with TotalResults; foreign cursors are invalid", func(t *testing.T, k *rkit) {
		cl, ok := k.s.(scim.ResourceCursorLister)
		if !ok {
			t.Skip("the Store is not a scim.ResourceCursorLister")
		}
		p := populateDocs(t, k)
		fs := []filter.Expr{nil}
		if len(k.g.plain) > 0 {
			fs = append(fs, p.parse(t, k.g.plain[0].Name+` pr`))
		}
		var last string
		for _, f := range fs {
			want := p.k.fids(p.ctx, scim.ApplyDocuments(p.order, scim.Query{Filter: f, StartIndex: 1, Count: 1000}).Documents)
			var got []string
			cursor := ""
			for range popSize + 2 {
				q := scim.Query{Filter: f, Count: 5}
				page, err := cl.ListCursor(p.ctx, q, cursor)
				require.NoError(t, err, "ListCursor(%s, cursor %q)", describeQuery(q), cursor)
				require.Equal(t, len(want), page.TotalResults, "ListCursor(%s): TotalResults", describeQuery(q))
				got = append(got, p.k.fids(p.ctx, page.Documents)...)
				if page.NextCursor == "" {
					break
				}
				cursor, last = page.NextCursor, page.NextCursor
			}
			require.Equal(t, want, got, "ListCursor pages of 5: want every match once, in the Store's List order")
		}
		if last != "" {
			_, err := cl.ListCursor(inTenant(t, "scimtest-b"), scim.Query{Count: 5}, last)
			wantErr(t, err, scim.ErrInvalidCursor, "ListCursor in scimtest-b with a cursor of scimtest-a", "a cursor is its tenant's")
		}
		_, err := cl.ListCursor(p.ctx, scim.Query{Count: 5}, "not-a-cursor")
		wantErr(t, err, scim.ErrInvalidCursor, `ListCursor(cursor "not-a-cursor")`, "the Store made no such cursor")
	}},
}

// DeviceType is a declared type with every kind of attribute TestResourceStore generates values for: a
// unique string compared without case, a caseExact unique one, plain strings with and without case, an
// integer, a boolean, a multi-valued string and an extension. A Store that keeps any declared type (a
// document table, as sqlstore's) runs the kit over it; a Store over a table of one type runs it over that
// type. Each call makes a fresh value.
func DeviceType() *schema.ResourceType {
	return schema.MustDeclare(schema.ResourceDeclaration{
		Name: "Device",
		Schema: &schema.Schema{ID: "urn:example:params:scim:schemas:2.0:Device", Attributes: []*schema.Attribute{
			{Name: "serial", Type: schema.String, Required: true, Uniqueness: schema.UniqueServer},
			{Name: "assetTag", Type: schema.String, CaseExact: true, Uniqueness: schema.UniqueGlobal},
			{Name: "label", Type: schema.String},
			{Name: "model", Type: schema.String, CaseExact: true},
			{Name: "rank", Type: schema.Integer},
			{Name: "active", Type: schema.Boolean},
			{Name: "tags", Type: schema.String, MultiValued: true},
		}},
		Extensions: []*schema.Schema{{ID: "urn:example:params:scim:schemas:extension:2.0:Device", Attributes: []*schema.Attribute{
			{Name: "site", Type: schema.String},
		}}},
	})
}

// AccountType is a declared type shaped like the users Entra provisions, for comparing a declared type's
// costs with the User path's (the benchmarks do): a name unique per server without case, as userName is,
// a displayName and active, beside the common id and externalId.
func AccountType() *schema.ResourceType {
	return schema.MustDeclare(schema.ResourceDeclaration{
		Name: "Account",
		Schema: &schema.Schema{ID: "urn:example:params:scim:schemas:2.0:Account", Attributes: []*schema.Attribute{
			{Name: "name", Type: schema.String, Required: true, Uniqueness: schema.UniqueServer},
			{Name: "displayName", Type: schema.String},
			{Name: "active", Type: schema.Boolean},
		}},
	})
}
