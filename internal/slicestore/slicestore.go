// Package slicestore is a Store and GroupStore written as docs/stores.md tells a newcomer to write one: every
// tenant's users and groups in slices behind one mutex, List a scim.Collector over the users in creation
// order, with cursors (scim.CursorLister) in that order, ids the handler's. It is not a scim.GroupFilterer: its List sees users
// without their groups, so the handler resolves filters and sortBy on groups itself. The tests of the root
// module and of scimtest run over it, as the stand-in for a host's Store.
package slicestore

import (
	"cmp"
	"context"
	"iter"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
)

// Store is the Store and GroupStore. The zero value is ready to use.
type Store struct {
	mu      sync.Mutex
	tenants map[string]*tenant
	seq     int64 // the last version or position given out
	cursors *scim.CursorSealer
}

func (s *Store) sealer() *scim.CursorSealer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cursors == nil {
		s.cursors, _ = scim.NewCursorSealer(scim.NewCursorKey()) // a fresh 32-byte key: no error
	}
	return s.cursors
}

type tenant struct {
	users  []*scim.User // creation order
	seqs   map[string]int64
	groups []*group // creation order
}

type group struct {
	g       scim.Group // without members
	members map[string]bool
}

// New returns an empty Store.
func New() *Store { return &Store{} }

var (
	_ scim.Store        = (*Store)(nil)
	_ scim.GroupStore   = (*Store)(nil)
	_ scim.CursorLister = (*Store)(nil)
)

// tenant returns the tenant of ctx, created when create is set (nil otherwise when it has nothing).
func (s *Store) tenant(ctx context.Context, create bool) (*tenant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name, err := scim.Tenant(ctx)
	if err != nil {
		return nil, err
	}
	t := s.tenants[name]
	if t == nil && create {
		if s.tenants == nil {
			s.tenants = map[string]*tenant{}
		}
		t = &tenant{}
		s.tenants[name] = t
	}
	if t == nil {
		t = &tenant{}
	}
	return t, nil
}

func (s *Store) next() string {
	s.seq++
	return strconv.FormatInt(s.seq, 10)
}

func (t *tenant) user(id string) int {
	return slices.IndexFunc(t.users, func(u *scim.User) bool { return u.ID == id })
}

func (t *tenant) taken(userName, except string) bool {
	key := filter.Fold(userName)
	return slices.ContainsFunc(t.users, func(u *scim.User) bool { return u.ID != except && filter.Fold(u.UserName) == key })
}

// Create implements scim.Store.
func (s *Store) Create(ctx context.Context, u *scim.User) (*scim.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tenant(ctx, true)
	if err != nil {
		return nil, err
	}
	if t.taken(u.UserName, "") {
		return nil, scim.ErrConflict
	}
	u.Meta.Version = s.next()
	if t.seqs == nil {
		t.seqs = map[string]int64{}
	}
	t.seqs[u.ID] = s.seq
	t.users = append(t.users, u)
	return u, nil
}

// Get implements scim.Store.
func (s *Store) Get(ctx context.Context, id string) (*scim.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tenant(ctx, false)
	if err != nil {
		return nil, err
	}
	if i := t.user(id); i >= 0 {
		return t.users[i], nil
	}
	return nil, scim.ErrNotFound
}

// Replace implements scim.Store.
func (s *Store) Replace(ctx context.Context, u *scim.User, version string) (*scim.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tenant(ctx, false)
	if err != nil {
		return nil, err
	}
	i := t.user(u.ID)
	switch {
	case i < 0:
		return nil, scim.ErrNotFound
	case version != "" && version != t.users[i].Meta.Version:
		return nil, scim.ErrVersionMismatch
	case t.taken(u.UserName, u.ID):
		return nil, scim.ErrConflict
	}
	u.Meta.Version = s.next()
	t.users[i] = u
	return u, nil
}

// Delete implements scim.Store; the user's memberships go with it, and each group it leaves changes.
func (s *Store) Delete(ctx context.Context, id, version string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tenant(ctx, false)
	if err != nil {
		return err
	}
	i := t.user(id)
	switch {
	case i < 0:
		return scim.ErrNotFound
	case version != "" && version != t.users[i].Meta.Version:
		return scim.ErrVersionMismatch
	}
	t.users = slices.Delete(t.users, i, i+1)
	delete(t.seqs, id)
	for _, g := range t.groups {
		if g.members[id] {
			delete(g.members, id)
			g.g.Meta.Version, g.g.Meta.LastModified = s.next(), time.Now().UTC()
		}
	}
	return nil
}

// List implements scim.Store: a Collector over the tenant's users in creation order.
func (s *Store) List(ctx context.Context, q scim.Query) (*scim.Page, error) {
	s.mu.Lock()
	t, err := s.tenant(ctx, false)
	var users []*scim.User
	if err == nil {
		users = slices.Clone(t.users)
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	c := scim.NewCollector(ctx, q)
	for _, u := range users {
		if err := c.Add(u); err != nil {
			return nil, err
		}
	}
	return c.Page(), nil
}

// ListCursor implements scim.CursorLister: the matches after the cursor's position, in creation order, the
// position sealed by a scim.CursorSealer.
func (s *Store) ListCursor(ctx context.Context, q scim.Query, cursor string) (*scim.Page, error) {
	name, err := scim.Tenant(ctx)
	if err != nil {
		return nil, err
	}
	var after int64
	if cursor != "" {
		if after, err = s.sealer().Open(name, cursor); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	t, err := s.tenant(ctx, false)
	var users []*scim.User
	var seqs []int64
	if err == nil {
		users = slices.Clone(t.users)
		for _, u := range users {
			seqs = append(seqs, t.seqs[u.ID])
		}
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if q.Filter != nil && q.MaxScan > 0 && len(users) > q.MaxScan {
		return nil, scim.ErrTooMany
	}
	page := &scim.Page{Users: []*scim.User{}}
	for i, u := range users {
		if !q.Matches(u) {
			continue
		}
		page.TotalResults++
		switch {
		case seqs[i] <= after:
		case len(page.Users) < q.Count:
			page.Users = append(page.Users, u)
		case page.NextCursor == "" && q.Count > 0:
			page.NextCursor = s.sealer().Seal(name, seqs[slices.Index(users, page.Users[len(page.Users)-1])])
		}
	}
	return page, nil
}

func (t *tenant) group(id string) int {
	return slices.IndexFunc(t.groups, func(g *group) bool { return g.g.ID == id })
}

func (t *tenant) nameTaken(name, except string) bool {
	key := filter.Fold(name)
	return slices.ContainsFunc(t.groups, func(g *group) bool { return g.g.ID != except && filter.Fold(g.g.DisplayName) == key })
}

// unknown returns the error of the first id that is no user of the tenant.
func (t *tenant) unknown(ids []string) error {
	for _, id := range ids {
		if t.user(id) < 0 {
			return &scim.UnknownMemberError{ID: id}
		}
	}
	return nil
}

// view returns a copy of g with its members loaded as maxMembers says (GetGroup).
func (t *tenant) view(g *group, maxMembers int) *scim.Group {
	c := g.g
	switch {
	case maxMembers <= 0:
	case len(g.members) > maxMembers:
		c.MembersOmitted = true
	case len(g.members) > 0:
		c.Members = t.memberList(g)
	}
	return &c
}

// memberList is the group's members, typed and with their display (displayName, or else userName).
func (t *tenant) memberList(g *group) []scim.Member {
	var out []scim.Member
	for _, id := range t.ids(g) {
		m := scim.Member{Value: id, Type: "User"}
		if i := t.user(id); i >= 0 {
			m.Display = cmp.Or(t.users[i].DisplayName, t.users[i].UserName)
		}
		out = append(out, m)
	}
	return out
}

// ids returns the group's member ids in the order their users were created: MemberIDs' stable order.
func (t *tenant) ids(g *group) []string {
	ids := make([]string, 0, len(g.members))
	for id := range g.members {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return cmp.Compare(t.seqs[a], t.seqs[b]) })
	return ids
}

// CreateGroup implements scim.GroupStore.
func (s *Store) CreateGroup(ctx context.Context, in *scim.Group) (*scim.Group, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tenant(ctx, true)
	if err != nil {
		return nil, err
	}
	if t.nameTaken(in.DisplayName, "") {
		return nil, scim.ErrConflict
	}
	ids := make([]string, len(in.Members))
	for i, m := range in.Members {
		ids[i] = m.Value
	}
	if err := t.unknown(ids); err != nil {
		return nil, err
	}
	g := &group{g: *in, members: map[string]bool{}}
	g.g.Members = nil
	g.g.Meta.Version = s.next()
	for _, id := range ids {
		g.members[id] = true
	}
	t.groups = append(t.groups, g)
	return t.view(g, 0), nil
}

// GetGroup implements scim.GroupStore.
func (s *Store) GetGroup(ctx context.Context, id string, read scim.GroupRead) (*scim.Group, error) {
	maxMembers := read.MaxMembers
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tenant(ctx, false)
	if err != nil {
		return nil, err
	}
	if i := t.group(id); i >= 0 {
		return t.view(t.groups[i], maxMembers), nil
	}
	return nil, scim.ErrNotFound
}

// UpdateGroup implements scim.GroupStore: an update that changes nothing keeps the version.
func (s *Store) UpdateGroup(ctx context.Context, id string, u scim.GroupUpdate, version string) (*scim.Group, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tenant(ctx, false)
	if err != nil {
		return nil, err
	}
	i := t.group(id)
	if i < 0 {
		return nil, scim.ErrNotFound
	}
	g := t.groups[i]
	if version != "" && version != g.g.Meta.Version {
		return nil, scim.ErrVersionMismatch
	}
	if err := t.unknown(u.Add); err != nil {
		return nil, err
	}
	changed := false
	next := g.g
	if n := u.Group; n != nil && (n.DisplayName != g.g.DisplayName || n.ExternalID != g.g.ExternalID) {
		if t.nameTaken(n.DisplayName, id) {
			return nil, scim.ErrConflict
		}
		next.DisplayName, next.ExternalID, next.Meta.LastModified = n.DisplayName, n.ExternalID, n.Meta.LastModified
		changed = true
	}
	for _, m := range u.Add {
		if !g.members[m] {
			g.members[m], changed = true, true
		}
	}
	for _, m := range u.Remove {
		if g.members[m] {
			delete(g.members, m)
			changed = true
		}
	}
	if changed {
		if u.Group == nil {
			next.Meta.LastModified = time.Now().UTC()
		}
		next.Meta.Version = s.next()
		g.g = next
	}
	return t.view(g, 0), nil
}

// DeleteGroup implements scim.GroupStore.
func (s *Store) DeleteGroup(ctx context.Context, id, version string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tenant(ctx, false)
	if err != nil {
		return err
	}
	i := t.group(id)
	switch {
	case i < 0:
		return scim.ErrNotFound
	case version != "" && version != t.groups[i].g.Meta.Version:
		return scim.ErrVersionMismatch
	}
	t.groups = slices.Delete(t.groups, i, i+1)
	return nil
}

// ListGroups implements scim.GroupStore: every group handed to a scim.GroupCollector, with its members when
// the filter compares them, and the page's groups loaded as read says.
func (s *Store) ListGroups(ctx context.Context, q scim.Query, read scim.GroupRead) (*scim.GroupPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tenant(ctx, false)
	if err != nil {
		return nil, err
	}
	c := scim.NewGroupCollector(ctx, q)
	load := 0
	if c.NeedsMembers() {
		load = math.MaxInt
	}
	for _, g := range t.groups {
		if err := c.Add(t.view(g, load)); err != nil {
			return nil, err
		}
	}
	page := c.Page()
	for i, g := range page.Groups {
		page.Groups[i] = t.view(t.groups[t.group(g.ID)], read.MaxMembers)
	}
	return page, nil
}

// MemberIDs implements scim.GroupStore, in the order of the ids.
func (s *Store) MemberIDs(ctx context.Context, id string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		s.mu.Lock()
		t, err := s.tenant(ctx, false)
		var ids []string
		if err == nil {
			if i := t.group(id); i >= 0 {
				ids = t.ids(t.groups[i])
			} else {
				err = scim.ErrNotFound
			}
		}
		s.mu.Unlock()
		if err != nil {
			yield("", err)
			return
		}
		for _, m := range ids {
			if !yield(m, nil) {
				return
			}
		}
	}
}

// GroupsOf implements scim.GroupStore, each user's groups in their creation order.
func (s *Store) GroupsOf(ctx context.Context, userIDs []string) (map[string][]scim.GroupRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tenant(ctx, false)
	if err != nil {
		return nil, err
	}
	out := map[string][]scim.GroupRef{}
	for _, id := range userIDs {
		for _, g := range t.groups {
			if g.members[id] {
				out[id] = append(out[id], scim.GroupRef{Value: g.g.ID, Display: g.g.DisplayName, Type: "direct"})
			}
		}
	}
	return out, nil
}
