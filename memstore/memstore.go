// Package memstore is a scim.Store, scim.GroupStore and scim.CursorLister that keeps everything in memory:
// for tests, demos and small deployments. It is written against the root package's exported Store contract
// only, as a host's Store is, so what it does a host's Store can do too.
package memstore

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/listing"
)

// Store is a scim.Store that keeps users (and groups: it is a scim.GroupStore) in memory, partitioned by
// tenant. It is safe for concurrent use; lookups by id, userName (without case) and externalId are map
// lookups, and filters that pin one of them with "eq" (alone or inside an "and") use those indexes instead
// of scanning. Data is lost when the process exits: use it for tests, demos and small deployments.
type Store struct {
	mu      sync.RWMutex // guards the map only: each tenant has its own lock
	tenants map[string]*memTenant
	seq     atomic.Int64 // creation order, for stable listing
	cursors *scim.CursorSealer
}

// memTenant is one tenant's users. Its own lock keeps one tenant's long scans from delaying another's
// writes (a writer on a shared lock would wait for every reader of every tenant).
type memTenant struct {
	mu           sync.RWMutex
	byID         map[string]*memEntry
	byUserName   map[string]*memEntry   // folded userName
	byExternalID map[string][]*memEntry // externalId is not unique
	order        []*memEntry            // by seq: creation order
	groups       memGroups              // the tenant's groups and memberships (groups.go)
}

// memEntry is one user. A user of the shape identity providers provision (memUser's attributes only) is
// kept compact, in a third of the heap a User takes, and rebuilt on every read; any other user is kept as
// it was given. A rebuilt user costs a read one allocation of a User, which the response encoding no
// longer spends (the handler encodes from a copy on its stack): GET stayed below its former allocations.
type memEntry struct {
	user    *scim.User // the user as given, when it does not fit memUser; else nil
	c       *memUser   // the compact form, when it fits
	seq     int64
	version int64
}

// memUser is a User with only the attributes Entra ID and Okta send by default: userName, externalId,
// displayName, active, name, emails, and the store's meta. Name, Active and Emails are the given user's
// values, shared and never modified, as Store users are.
type memUser struct {
	id, userName, externalID, displayName string
	name                                  *scim.Name
	active                                *bool
	emails                                []scim.MultiValue
	resourceType                          string
	created, lastModified                 time.Time
}

// newMemEntry makes the entry of u at version v, compact when u fits memUser.
func newMemEntry(u *scim.User, seq, v int64) *memEntry {
	e := &memEntry{seq: seq, version: v}
	e.set(u)
	return e
}

// set makes u the entry's user (its version already set).
func (e *memEntry) set(u *scim.User) {
	e.user, e.c = u, nil
	rest := *u // what memUser does not keep must be zero for u to fit it
	rest.ID, rest.UserName, rest.ExternalID, rest.DisplayName = "", "", "", ""
	rest.Name, rest.Active, rest.Emails = nil, nil, nil
	rest.Meta.ResourceType, rest.Meta.Created, rest.Meta.LastModified = "", time.Time{}, time.Time{}
	if rest.Meta.Version == strconv.FormatInt(e.version, 10) { // the store's own: made again on read
		rest.Meta.Version = ""
	}
	if !isZero(&rest) {
		return
	}
	emails := u.Emails
	if len(emails) > 0 { // a copy of its own, with the repeated type names shared
		emails = slices.Clone(emails)
		for i := range emails {
			emails[i].Type = intern(emails[i].Type)
		}
	}
	e.user, e.c = nil, &memUser{
		id: u.ID, userName: u.UserName, externalID: u.ExternalID, displayName: u.DisplayName,
		name: u.Name, active: u.Active, emails: emails, resourceType: intern(u.Meta.ResourceType),
		created: u.Meta.Created, lastModified: u.Meta.LastModified,
	}
}

// isZero reports whether u has no attribute at all (nil and empty slices told apart, as a Store returns
// what it was given). By reflection, so that a field added to scim.User needs no line here to keep the
// compact form from dropping it (about 0.2 µs a write, against a Create's tens); TestIsZeroNamesEveryField
// sets each field in turn.
func isZero(u *scim.User) bool { return reflect.ValueOf(u).Elem().IsZero() }

// intern returns the shared copy of the strings most users repeat (type names, the resource type).
func intern(s string) string {
	switch s {
	case "work":
		return "work"
	case "home":
		return "home"
	case "other":
		return "other"
	case "mobile":
		return "mobile"
	case "User":
		return "User"
	}
	return s
}

// get returns the entry's user: the one given, or a new one rebuilt from the compact form.
func (e *memEntry) get() *scim.User {
	if e.user != nil {
		return e.user
	}
	u := new(scim.User)
	e.fill(u)
	return u
}

// view returns the entry's user for a read that keeps nothing (a filter's match): the one given, or the
// compact form rebuilt into scratch.
func (e *memEntry) view(scratch *scim.User) *scim.User {
	if e.user != nil {
		return e.user
	}
	*scratch = scim.User{}
	e.fill(scratch)
	return scratch
}

func (e *memEntry) fill(u *scim.User) {
	c := e.c
	u.ID, u.UserName, u.ExternalID, u.DisplayName = c.id, c.userName, c.externalID, c.displayName
	u.Name, u.Active, u.Emails = c.name, c.active, c.emails
	u.Meta = scim.Meta{ResourceType: c.resourceType, Created: c.created, LastModified: c.lastModified,
		Version: strconv.FormatInt(e.version, 10)}
}

// The attributes the store's indexes and member lists read, without rebuilding a user.
func (e *memEntry) id() string {
	if e.user != nil {
		return e.user.ID
	}
	return e.c.id
}

func (e *memEntry) userName() string {
	if e.user != nil {
		return e.user.UserName
	}
	return e.c.userName
}

func (e *memEntry) externalID() string {
	if e.user != nil {
		return e.user.ExternalID
	}
	return e.c.externalID
}

func (e *memEntry) displayName() string {
	if e.user != nil {
		return e.user.DisplayName
	}
	return e.c.displayName
}

// versionString is the entry's version as Meta.Version has it.
func (e *memEntry) versionString() string { return strconv.FormatInt(e.version, 10) }

// New returns an empty Store.
func New() *Store {
	sealer, _ := scim.NewCursorSealer(scim.NewCursorKey()) // a 32-byte key: cannot fail
	return &Store{tenants: map[string]*memTenant{}, cursors: sealer}
}

// tenant returns the tenant of ctx (made if create), or nil; ErrNoTenant when ctx carries none. Tenants are never removed from the map, so the
// pointer stays valid without the store's lock.
func (s *Store) tenant(ctx context.Context, create bool) (*memTenant, error) {
	name, err := scim.Tenant(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	t := s.tenants[name]
	s.mu.RUnlock()
	if t != nil || !create {
		return t, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t = s.tenants[name]; t == nil {
		t = &memTenant{
			byID:         map[string]*memEntry{},
			byUserName:   map[string]*memEntry{},
			byExternalID: map[string][]*memEntry{},
		}
		s.tenants[name] = t
	}
	return t, nil
}

// Create implements scim.Store.
func (s *Store) Create(ctx context.Context, u *scim.User) (*scim.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := s.tenant(ctx, true)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, taken := t.byUserName[filter.Fold(u.UserName)]; taken {
		return nil, scim.ErrConflict
	}
	if _, taken := t.byID[u.ID]; taken {
		return nil, scim.ErrConflict
	}
	u.Meta.Version = "1"
	e := newMemEntry(u, s.seq.Add(1), 1) // under t.mu: t.order stays sorted by seq
	t.byID[u.ID] = e
	t.index(e)
	t.order = append(t.order, e)
	return u, nil
}

// Get implements scim.Store.
func (s *Store) Get(ctx context.Context, id string) (*scim.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := s.tenant(ctx, false)
	if err != nil {
		return nil, err
	}
	if t != nil {
		t.mu.RLock()
		defer t.mu.RUnlock()
		if e := t.byID[id]; e != nil {
			return e.get(), nil
		}
	}
	return nil, scim.ErrNotFound
}

// Replace implements scim.Store.
func (s *Store) Replace(ctx context.Context, u *scim.User, version string) (*scim.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := s.tenant(ctx, false)
	if err != nil {
		return nil, err
	}
	var e *memEntry
	if t != nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		e = t.byID[u.ID]
	}
	if e == nil {
		return nil, scim.ErrNotFound
	}
	if version != "" && version != e.versionString() {
		return nil, scim.ErrVersionMismatch
	}
	if other, taken := t.byUserName[filter.Fold(u.UserName)]; taken && other != e {
		return nil, scim.ErrConflict
	}
	t.unindex(e)
	e.version++
	u.Meta.Version = strconv.FormatInt(e.version, 10)
	e.set(u)
	t.index(e)
	return u, nil
}

// Delete implements scim.Store.
func (s *Store) Delete(ctx context.Context, id, version string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t, err := s.tenant(ctx, false)
	if err != nil {
		return err
	}
	var e *memEntry
	if t != nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		e = t.byID[id]
	}
	if e == nil {
		return scim.ErrNotFound
	}
	if version != "" && version != e.versionString() {
		return scim.ErrVersionMismatch
	}
	t.unindex(e)
	delete(t.byID, id)
	t.groups.dropUser(id) // a deleted user is nobody's member (GroupStore's integrity rule)
	if i, found := slices.BinarySearchFunc(t.order, e.seq, func(x *memEntry, seq int64) int {
		return cmp.Compare(x.seq, seq)
	}); found {
		t.order = slices.Delete(t.order, i, i+1)
	}
	return nil
}

func (t *memTenant) index(e *memEntry) {
	t.byUserName[filter.Fold(e.userName())] = e
	if x := e.externalID(); x != "" {
		t.byExternalID[x] = append(t.byExternalID[x], e)
	}
}

func (t *memTenant) unindex(e *memEntry) {
	delete(t.byUserName, filter.Fold(e.userName()))
	if x := e.externalID(); x != "" {
		list := slices.DeleteFunc(t.byExternalID[x], func(o *memEntry) bool { return o == e })
		if len(list) == 0 {
			delete(t.byExternalID, x)
		} else {
			t.byExternalID[x] = list
		}
	}
}

// List implements scim.Store.
func (s *Store) List(ctx context.Context, q scim.Query) (*scim.Page, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := s.tenant(ctx, false)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return &scim.Page{Users: []*scim.User{}}, nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if listing.Names(q.Filter, "groups") || listing.SortsBy(q.SortBy, "groups") { // groups.value eq "…": from the membership index
		return t.listByGroups(ctx, q)
	}
	if q.Filter == nil && q.SortBy.Attr == nil { // the common page of everything: no conversion at all
		entries := listing.Page(t.order, q.StartIndex, q.Count)
		users := make([]*scim.User, len(entries))
		for i, e := range entries {
			users[i] = e.get()
		}
		return &scim.Page{Users: users, TotalResults: len(t.order)}, nil
	}
	candidates, indexed := t.lookup(q.Filter)
	if !indexed {
		candidates = t.order
	}
	if _, exact := q.Filter.(*filter.Compare); exact && indexed && q.SortBy.Attr == nil {
		// The index answered the whole filter (userName eq ..., Entra's lookup): nothing to re-check.
		entries := listing.Page(candidates, q.StartIndex, q.Count)
		users := make([]*scim.User, len(entries))
		for i, e := range entries {
			users[i] = e.get()
		}
		return &scim.Page{Users: users, TotalResults: len(candidates)}, nil
	}
	// Streamed over the entries: only the page (or, sorted, a heap as deep as the page) is kept, and past
	// q.MaxScan users the query is refused rather than run over the whole tenant (here known up front).
	if q.MaxScan > 0 && len(candidates) > q.MaxScan {
		return nil, scim.ErrTooMany
	}
	c := scim.NewCollector(ctx, q)
	var scratch scim.User // a compact user is rebuilt here to be matched, and again to be kept only if it is
	for _, e := range candidates {
		if err := c.AddView(e.view(&scratch), e.get); err != nil {
			return nil, err
		}
	}
	return c.Page(), nil
}

// lookup returns, in creation order, the entries that can match e when e pins an indexed attribute with
// "eq" (alone, or as one side of an "and"); it reports false when e needs a scan.
func (t *memTenant) lookup(e filter.Expr) ([]*memEntry, bool) {
	return lookupEq(e, t.lookup, func(attr, v string) ([]*memEntry, bool) {
		var out []*memEntry
		switch attr {
		case "id":
			if x := t.byID[v]; x != nil {
				out = append(out, x)
			}
		case "userName":
			if x := t.byUserName[filter.Fold(v)]; x != nil {
				out = append(out, x)
			}
		case "externalId":
			out = slices.Clone(t.byExternalID[v])
			slices.SortFunc(out, func(a, b *memEntry) int { return cmp.Compare(a.seq, b.seq) })
		default:
			return nil, false
		}
		return out, true
	})
}

// lookupEq is the shape of the Store's index lookups, for users and groups alike: e pins a core attribute
// with `eq "v"`, alone or as one side of an "and" (whose sides are looked up with self), and find answers
// that attribute from an index (false: not indexed).
func lookupEq[E any](e filter.Expr, self func(filter.Expr) ([]E, bool), find func(attr, v string) ([]E, bool)) ([]E, bool) {
	switch e := e.(type) {
	case *filter.Logical:
		if e.Op != filter.And {
			return nil, false
		}
		if c, ok := self(e.Left); ok {
			return c, true
		}
		return self(e.Right)
	case *filter.Compare:
		v, ok := e.Value.(string)
		if e.Op != filter.Eq || !ok || e.Path.Sub != nil || e.Path.Schema == nil || e.Path.Extension() {
			return nil, false
		}
		return find(e.Path.Attr.Name, v)
	}
	return nil, false
}

var _ scim.Store = (*Store)(nil)

// ListCursor implements scim.CursorLister: the cursor is the creation sequence number of the last user of the
// previous page (sealed: scim.CursorSealer), so a page starts where the last one ended whatever was created or
// deleted in between.
func (s *Store) ListCursor(ctx context.Context, q scim.Query, cursor string) (*scim.Page, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name, err := scim.Tenant(ctx)
	if err != nil {
		return nil, err
	}
	var after int64
	if cursor != "" {
		if after, err = s.cursors.Open(name, cursor); err != nil {
			return nil, err
		}
	}
	page := &scim.Page{Users: []*scim.User{}}
	t, err := s.tenant(ctx, false)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return page, nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	candidates, indexed := t.lookup(q.Filter)
	if !indexed {
		candidates = t.order
	}
	groups := listing.Names(q.Filter, "groups") // matched with each user's groups filled in, as List matches them
	if gid, ok := listing.PinnedValue(q.Filter, "groups"); ok && !indexed {
		candidates = t.memberEntries(gid)
	}
	// Both are in creation order: skip to the first entry after the cursor.
	start, _ := slices.BinarySearchFunc(candidates, after+1, func(e *memEntry, seq int64) int { return cmp.Compare(e.seq, seq) })
	if q.Filter == nil || indexed && isCompare(q.Filter) || groups && isGroupPin(q.Filter) { // every candidate matches: no scan
		page.TotalResults = len(candidates)
		for _, e := range candidates[start:min(start+max(q.Count, 0), len(candidates))] {
			page.Users = append(page.Users, e.get())
		}
		if n := len(page.Users); n > 0 && start+n < len(candidates) {
			page.NextCursor = s.cursors.Seal(name, candidates[start+n-1].seq)
		}
		return page, nil
	}
	if q.MaxScan > 0 && len(candidates) > q.MaxScan { // each would be examined: refused before any is
		return nil, scim.ErrTooMany
	}
	var last int64
	var scratch scim.User // a compact user is rebuilt here to be matched
	for i, e := range candidates {
		if i%64 == 63 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		u := e.view(&scratch)
		if groups {
			c := *u
			c.Groups = t.groupRefs(e.id())
			u = &c
		}
		if !q.Matches(u) {
			continue
		}
		page.TotalResults++
		if i < start {
			continue
		}
		switch {
		case len(page.Users) < q.Count:
			page.Users = append(page.Users, e.get())
			last = e.seq
		case page.NextCursor == "" && q.Count > 0:
			page.NextCursor = s.cursors.Seal(name, last) // a match exists past this page
		}
	}
	return page, nil
}

// isCompare reports whether e is a single comparison: one an index lookup answers whole.
func isCompare(e filter.Expr) bool {
	_, ok := e.(*filter.Compare)
	return ok
}

var _ scim.CursorLister = (*Store)(nil)
