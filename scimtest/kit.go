package scimtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/document"
	"github.com/scimkit/scim/internal/project"
	"github.com/scimkit/scim/schema"
)

// Options configure TestStore for what the host declared and how it names its tenants. The zero value checks
// a Store that keeps every core and enterprise attribute, in the tenants "scimtest-a", "scimtest-b" and "".
type Options struct {
	// Schema is the User resource type the host declared with schema.DeclareUser: the one it gives the handler
	// (scim.WithUserSchema) and its Store. The kit gives the Store only the declared attributes (the handler
	// never passes others), expects only those back, generates values for the host's extension attributes,
	// and skips the filters and sortBy paths that name undeclared attributes (the handler refuses them). nil
	// means every core and enterprise attribute.
	Schema *schema.ResourceType
	// Tenants are two different tenants as the host's authenticator names them: real ones are often an
	// account's integer key as a decimal string ("1", "2"). Zero means "scimtest-a" and "scimtest-b", and
	// then the tenant "" and a tenant without users are checked as well; with the host's tenants the kit uses
	// only these two (and their upper-case spelling, when it differs, as a tenant that must see nothing).
	Tenants [2]string
	// Passwords says the Store keeps User.PasswordHash, as it must when the host serves
	// scim.WithPasswords(scim.PasswordsHashed): the round trips then carry a hash and expect it back. Off by
	// default: a host that takes no passwords has no column for them.
	Passwords bool
	// Defaults are the values a Store gives attributes left unassigned, by attribute name ("active",
	// "urn:…:User:tier"): a NOT NULL column with a default, such as an is_disabled flag that makes an
	// unassigned active come back true. The kit then expects the default wherever it gave no value, in round
	// trips, filters and sorting alike. Only top-level, single-valued attributes can have one.
	Defaults map[string]any
	// Derived names attributes the Store keeps in a form of its own, derived from what it is given, by
	// attribute name ("emails", "name"): one email column that keeps the work address of the emails and
	// returns it as [{"value":…,"type":"work","primary":true}], say. The kit still gives the Store the whole
	// value, but does not require it back as given: in round trips it takes the Store's value, and the
	// reference answers to filters and sortBy are computed over the values the Store returned, so that List
	// must agree with Get. Only top-level attributes can be derived.
	Derived []string
	// Computed names attributes the host computes for output rather than stores (the handler never gives a
	// Store a readOnly attribute): the kit never gives them to the Store, expects them unassigned, and skips
	// the filters and sortBy paths that name them. The users' groups attribute is computed whenever the
	// Store is a scim.GroupStore (the handler fills it from the GroupStore), without being listed here.
	Computed []string
}

// config is what every check of one TestStore run shares: the options, resolved.
type config struct {
	rt               *schema.ResourceType
	full             *schema.ResourceType // every core and enterprise attribute: tells undeclared from mistyped
	tenantA, tenantB string
	hostTenants      bool // the host named the tenants: no "" tenant, no made-up tenant
	passwords        bool
	defaults         map[string]any
	hostExt          []schema.Path // the host's own extension attributes (top level)
	derived          []schema.Path // Options.Derived, resolved
	computed         []schema.Path // Options.Computed, resolved, with groups when the Store is a GroupStore
	// keep names every declared attribute, complex ones sub-attribute by sub-attribute, so that the
	// schema's projection cuts a declared "name.formatted" out of a whole name.
	keep project.Projection
}

func newConfig(t *testing.T, o Options) *config {
	t.Helper()
	c := &config{rt: o.Schema, full: schema.User(), tenantA: "scimtest-a", tenantB: "scimtest-b", passwords: o.Passwords}
	if c.rt == nil {
		c.rt = c.full
	}
	if o.Tenants != [2]string{} {
		if o.Tenants[0] == o.Tenants[1] {
			t.Fatalf("scimtest: Options.Tenants are %q twice; want two different tenants", o.Tenants[0])
		}
		c.tenantA, c.tenantB, c.hostTenants = o.Tenants[0], o.Tenants[1], true
	}
	for name, v := range o.Defaults {
		p, ok := c.rt.Resolve(name)
		if !ok || p.Attr == nil || p.Sub != nil || p.Attr.MultiValued || p.Attr.Type == schema.Complex {
			t.Fatalf("scimtest: Options.Defaults names %q; want a declared top-level single-valued attribute", name)
		}
		if c.defaults == nil {
			c.defaults = map[string]any{}
		}
		c.defaults[name] = v
	}
	for _, name := range o.Derived {
		p, ok := c.rt.Resolve(name)
		if !ok || p.Attr == nil || p.Sub != nil {
			t.Fatalf("scimtest: Options.Derived names %q; want a declared top-level attribute", name)
		}
		c.derived = append(c.derived, p)
	}
	for _, name := range o.Computed {
		p, ok := c.rt.Resolve(name)
		if !ok || p.Attr == nil || p.Sub != nil {
			t.Fatalf("scimtest: Options.Computed names %q; want a declared top-level attribute", name)
		}
		c.computed = append(c.computed, p)
	}
	c.project()
	for _, e := range c.rt.Extensions {

		if strings.EqualFold(e.Schema.ID, schema.EnterpriseUserURN) {
			continue
		}
		for _, a := range e.Schema.Attributes {
			c.hostExt = append(c.hostExt, schema.Path{Schema: e.Schema, Attr: a})
		}
	}
	return c
}

// project sets keep: every declared attribute but the computed ones.
func (c *config) project() {
	c.keep = project.Projection{}
	for _, p := range c.rt.Attributes() {
		if c.isComputed(p) {
			continue
		}
		if p.Attr.Type != schema.Complex {
			c.keep.Attributes = append(c.keep.Attributes, p)
			continue
		}
		for _, sub := range p.Attr.SubAttributes {
			c.keep.Attributes = append(c.keep.Attributes, schema.Path{Schema: p.Schema, Attr: p.Attr, Sub: sub})
		}
	}
}

// computeGroups makes the users' groups attribute computed, for a Store that is a scim.GroupStore.
func (c *config) computeGroups() {
	p, ok := c.rt.Resolve("groups")
	if !ok || p.Attr == nil || p.Extension() || c.isComputed(p) {
		return
	}
	c.computed = append(c.computed, p)
	c.project()
}

// isComputed reports whether p (or the attribute p is a sub-attribute of) is computed.
func (c *config) isComputed(p schema.Path) bool {
	return slices.ContainsFunc(c.computed, func(q schema.Path) bool { return samePath(p, q) })
}

// samePath reports whether p names q's attribute (any of its sub-attributes too), by name, as a Store must.
func samePath(p, q schema.Path) bool {
	return p.Attr != nil && q.Attr != nil && strings.EqualFold(p.Attr.Name, q.Attr.Name) && p.Extension() == q.Extension() &&
		(!p.Extension() || strings.EqualFold(p.Schema.ID, q.Schema.ID))
}

// namesComputed reports whether the filter names a computed attribute.
func (c *config) namesComputed(e filter.Expr) bool {
	switch x := e.(type) {
	case *filter.Compare:
		return c.isComputed(x.Path)
	case *filter.ValuePath:
		return c.isComputed(x.Path)
	case *filter.Logical:
		return c.namesComputed(x.Left) || c.namesComputed(x.Right)
	case *filter.Not:
		return c.namesComputed(x.X)
	}
	return false
}

// kit is one check's view of the Store: the config, the Store and the ids it assigned. A Store may keep the
// id the kit gives Create (a fixture's, such as "Ada-01") or assign its own; the checks name users by their
// fixture ids and translate.
type kit struct {
	*config
	s   scim.Store
	mu  sync.Mutex
	ids map[string]string            // fixture id → the Store's id
	fix map[string]map[string]string // tenant → the Store's id → fixture id
}

func (c *config) newKit(s scim.Store) *kit {
	return &kit{config: c, s: s, ids: map[string]string{}, fix: map[string]map[string]string{}}
}

// record notes that the Store created the fixture fid as got.
func (k *kit) record(ctx context.Context, fid string, got *scim.User) {
	if got == nil || got.ID == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	tenant := tenantOf(ctx)
	k.ids[fid] = got.ID
	if k.fix[tenant] == nil {
		k.fix[tenant] = map[string]string{}
	}
	k.fix[tenant][got.ID] = fid
}

// id returns the Store's id of the fixture fid, or fid itself when the Store never created it (an unknown
// id the checks make up).
func (k *kit) id(fid string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if id, ok := k.ids[fid]; ok {
		return id
	}
	return fid
}

// names returns the fixture ids of users the Store returned in ctx's tenant (its own id, marked, for a user
// the kit did not create there).
func (k *kit) names(ctx context.Context, users []*scim.User) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	fix := k.fix[tenantOf(ctx)]
	out := make([]string, len(users))
	for i, u := range users {
		switch {
		case u == nil:
			out[i] = "<nil user>"
		case fix[u.ID] != "":
			out[i] = fix[u.ID]
		default:
			out[i] = "<id " + u.ID + ">"
		}
	}
	return out
}

// create creates the fixture u and fails the test if the Store refuses it.
func (k *kit) create(t *testing.T, ctx context.Context, u *scim.User) *scim.User {
	t.Helper()
	fid := u.ID
	got := mustCreate(t, k.s, ctx, u)
	if got.ID == "" {
		t.Fatalf("Create(user id %q) %s returned a user without an ID: a Store must keep the handler's ID or assign its own", fid, where(ctx))
	}
	k.record(ctx, fid, got)
	return got
}

// get gets the fixture fid and fails the test if the Store cannot.
func (k *kit) get(t *testing.T, ctx context.Context, fid string) *scim.User {
	t.Helper()
	return mustGet(t, k.s, ctx, k.id(fid))
}

// replace replaces the fixture u (its fixture id translated) and fails the test if the Store refuses it.
func (k *kit) replace(t *testing.T, ctx context.Context, u *scim.User, version string) *scim.User {
	t.Helper()
	return mustReplace(t, k.s, ctx, k.mine(u), version)
}

// mine returns u with the Store's id in place of its fixture id.
func (k *kit) mine(u *scim.User) *scim.User {
	u.ID = k.id(u.ID)
	return u
}

// checkUser fails the test unless got equals the fixture want as the Store must return it: with the
// Store's id and the Options' defaults.
func (k *kit) checkUser(t *testing.T, call string, got, want *scim.User) {
	t.Helper()
	checkUser(t, call, got, k.adopt(got, k.expect(want)))
}

// adopt returns want with the Options' derived attributes as got has them (unchanged without any): the
// Store's own form of them is what it returns.
func (c *config) adopt(got, want *scim.User) *scim.User {
	if len(c.derived) == 0 || got == nil {
		return want
	}
	from, doc := docOf(got), docOf(want)
	for _, p := range c.derived {
		if v, ok := document.Container(from, p, false)[p.Attr.Name]; ok {
			document.Container(doc, p, true)[p.Attr.Name] = v
		} else if dst := document.Container(doc, p, false); dst != nil {
			delete(dst, p.Attr.Name)
		}
	}
	out := fromDoc(doc)
	out.Schemas, out.PasswordHash = want.Schemas, want.PasswordHash
	return out
}

// expect returns a copy of the fixture u as the Store returns it: the Store's id, the defaults.
func (k *kit) expect(u *scim.User) *scim.User {
	out := k.withDefaults(u)
	out.ID = k.id(u.ID)
	return out
}

// declared cuts a fixture down to the declared attributes, as the handler gives users to a Store: through
// the schema's own projection of the canonical JSON form, and back.
func (c *config) declared(u *scim.User) *scim.User {
	if c.rt == c.full && !c.passwords {
		u.PasswordHash = ""
		return u
	}
	hash := u.PasswordHash
	doc := project.Apply(c.rt, c.keep, docOf(u))
	out := fromDoc(doc)
	out.Schemas = nil
	if c.passwords {
		out.PasswordHash = hash
	}
	return out
}

// withDefaults returns a copy of u with the Options' defaults in place of unassigned attributes.
func (c *config) withDefaults(u *scim.User) *scim.User {
	cp := *u
	if len(c.defaults) == 0 {
		return &cp
	}
	doc := docOf(u)
	for name, v := range c.defaults {
		p, _ := c.rt.Resolve(name)
		cont := document.Container(doc, p, true)
		if cont[p.Attr.Name] == nil {
			cont[p.Attr.Name] = v
		}
	}
	out := fromDoc(doc)
	out.Schemas, out.PasswordHash = u.Schemas, u.PasswordHash
	return out
}

// docOf returns the canonical JSON form of u as generic values, numbers as json.Number.
func docOf(u *scim.User) map[string]any {
	b, err := json.Marshal(u)
	if err != nil {
		panic(err) // a User always marshals
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		panic(err)
	}
	return m
}

func fromDoc(doc map[string]any) *scim.User {
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	var u scim.User
	if err := json.Unmarshal(b, &u); err != nil {
		panic(err)
	}
	return &u
}

// withExt assigns values to the host's extension attributes of u, different for every seed; seeds of the
// population (below 100) leave one user in four without them, so that pr and unassigned values are checked.
func (c *config) withExt(u *scim.User, seed int) *scim.User {
	if len(c.hostExt) == 0 || seed < 100 && seed%4 == 3 {
		return u
	}
	for _, p := range c.hostExt {
		v := extValue(p.Attr, seed)
		if p.Attr.MultiValued {
			v = []any{v, extValue(p.Attr, seed+1)}
		}
		if u.Extensions == nil {
			u.Extensions = map[string]scim.Attributes{}
		}
		if u.Extensions[p.Schema.ID] == nil {
			u.Extensions[p.Schema.ID] = scim.Attributes{}
		}
		u.Extensions[p.Schema.ID][p.Attr.Name] = v
	}
	return u
}

// extStrings are the population's values of string extension attributes: values differing only in case,
// a shared prefix, a non-ASCII letter.
var extStrings = []string{"Alpha-1", "beta-2", "ALPHA-1", "Gamma-3", "été-4"}

// extValue returns a value of attribute a's type, in canonical form, for the seed.
func extValue(a *schema.Attribute, seed int) any {
	if len(a.CanonicalValues) > 0 && a.Type == schema.String {
		return a.CanonicalValues[seed%len(a.CanonicalValues)]
	}
	switch a.Type {
	case schema.Boolean:
		return seed%2 == 0
	case schema.Integer:
		return json.Number(strconv.Itoa(seed*7%10 - 3))
	case schema.Decimal:
		return json.Number(strconv.Itoa(seed*7%10-3) + ".5")
	case schema.DateTime:
		return at(time.Duration(seed%5) * time.Hour).Format(time.RFC3339Nano)
	case schema.Binary:
		return base64.StdEncoding.EncodeToString([]byte(fmt.Sprint(a.Name, seed)))
	case schema.Reference:
		return fmt.Sprintf("https://example.com/ref/%d", seed%5)
	case schema.Complex:
		m := map[string]any{}
		for _, s := range a.SubAttributes {
			m[s.Name] = extValue(s, seed)
		}
		return m
	}
	if seed >= 100 {
		return fmt.Sprintf("%s-%d ✓", a.Name, seed)
	}
	return extStrings[seed%len(extStrings)]
}

// extFilters are filters on the host's extension attributes, by type, for the filter checks.
func (c *config) extFilters() []string {
	var out []string
	for _, p := range c.hostExt {
		name := p.String()
		a := p.Attr
		if a.Type == schema.Complex {
			out = append(out, name+" pr")
			for _, s := range a.SubAttributes {
				if s.Type == schema.String {
					out = append(out, fmt.Sprintf(`%s.%s eq "alpha-1"`, name, s.Name), fmt.Sprintf(`%s.%s co "A"`, name, s.Name))
				}
			}
			continue
		}
		switch a.Type {
		case schema.String, schema.Reference:
			out = append(out, operators(name, stringOps, `"alpha-1"`, `"ALPHA-1"`, `"Alpha"`, `"-"`, `"été-4"`, `"zzz"`)...)
		case schema.Boolean:
			out = append(out, name+" pr", name+" eq true", name+" eq false", name+" ne true", "not ("+name+" pr)")
		case schema.Integer, schema.Decimal:
			out = append(out, operators(name, dateOps, "0", "4", "-3")...)
		case schema.DateTime:
			out = append(out, operators(name, dateOps, dateTimes[:4]...)...)
		default:
			out = append(out, name+" pr")
		}
		out = append(out, `userName sw "a" and `+name+` pr`)
	}
	return out
}

// extSortPaths are the host's extension attributes that sortBy can name.
func (c *config) extSortPaths() []string {
	var out []string
	for _, p := range c.hostExt {
		if p.Attr.Type != schema.Complex && p.Attr.Type != schema.Binary {
			out = append(out, p.String())
		}
	}
	return out
}

// placeholder is how the checks' filters name a user's id: {id:Ada-01}, replaced by the id the Store gave it.
var placeholder = regexp.MustCompile(`\{id:([^}]+)\}`)

// parse parses a filter of the checks against the declaration, with {id:…} placeholders replaced. It
// reports false for a filter that names an undeclared attribute, which the check skips; a filter that does
// not parse against the full User schema either is a bug in the kit.
func (k *kit) parse(t *testing.T, f string) (filter.Expr, bool) {
	t.Helper()
	f = placeholder.ReplaceAllStringFunc(f, func(m string) string {
		b, _ := json.Marshal(k.id(placeholder.FindStringSubmatch(m)[1]))
		return string(b[1 : len(b)-1])
	})
	e, err := filter.Parse(k.rt, f)
	if err == nil {
		return e, !k.namesComputed(e)
	}
	if _, ferr := filter.Parse(k.full, f); ferr != nil {
		t.Fatalf("scimtest: filter %q does not parse: %v", f, err)
	}
	return nil, false
}

// mustParse parses a filter every declaration can answer.
func (k *kit) mustParse(t *testing.T, f string) filter.Expr {
	t.Helper()
	e, ok := k.parse(t, f)
	if !ok {
		t.Fatalf("scimtest: filter %q does not parse against the declaration", f)
	}
	return e
}

// path resolves a sortBy path of the checks against the declaration; false skips it.
func (k *kit) path(p string) (schema.Path, bool) {
	sp, ok := k.rt.Resolve(p)
	return sp, ok && !k.isComputed(sp)
}
