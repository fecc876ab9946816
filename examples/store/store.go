// Package store is the example Store of docs/stores.md: the simplest correct scim.Store, the kind a host app
// writes in an afternoon before moving to its own database. It keeps every tenant's users in one slice in
// creation order behind one mutex, and answers List with scim.ApplyQuery. It passes scimtest.TestStore
// (see store_test.go), which is how to check a Store of your own.
//
// What it shows:
//   - every method reads the tenant from the context and only touches that tenant's users;
//   - userName is unique within a tenant, compared as filter.Fold folds it, checked in the same critical
//     section as the write (a database does this with a unique index on (tenant, lower(userName)));
//   - every write sets a new Meta.Version, and Replace and Delete refuse a stale one ("" means any);
//   - a Store may keep the *scim.User it is given and return it as is: the handler never modifies either,
//     so a write replaces the pointer and never changes a user already returned;
//   - a cancelled context stops every method.
//
// It scans the slice for every call: fine for a few thousand users, not for more. memstore.Store is the
// indexed version, and sqlstore the persistent one.
package store

import (
	"context"
	"slices"
	"strconv"
	"sync"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
)

// Store is an in-memory scim.Store. The zero value is ready to use.
type Store struct {
	mu       sync.Mutex
	users    []entry // every tenant's users, in creation order: List's stable order
	versions int64   // the last version given out
}

type entry struct {
	tenant string
	user   *scim.User
}

// New returns an empty Store.
func New() *Store { return new(Store) }

// Create implements scim.Store.
func (s *Store) Create(ctx context.Context, u *scim.User) (*scim.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tenant, err := scim.Tenant(ctx) // scim.ErrNoTenant: never act on the tenant "" by accident
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.taken(tenant, u.UserName, "") {
		return nil, scim.ErrConflict
	}
	u.Meta.Version = s.newVersion()
	s.users = append(s.users, entry{tenant, u})
	return u, nil
}

// Get implements scim.Store.
func (s *Store) Get(ctx context.Context, id string) (*scim.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tenant, err := scim.Tenant(ctx) // scim.ErrNoTenant: never act on the tenant "" by accident
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(tenant, id)
	if i < 0 {
		return nil, scim.ErrNotFound
	}
	return s.users[i].user, nil
}

// Replace implements scim.Store.
func (s *Store) Replace(ctx context.Context, u *scim.User, version string) (*scim.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tenant, err := scim.Tenant(ctx) // scim.ErrNoTenant: never act on the tenant "" by accident
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(tenant, u.ID)
	switch {
	case i < 0:
		return nil, scim.ErrNotFound
	case version != "" && version != s.users[i].user.Meta.Version:
		return nil, scim.ErrVersionMismatch
	case s.taken(tenant, u.UserName, u.ID):
		return nil, scim.ErrConflict
	}
	u.Meta.Version = s.newVersion()
	s.users[i].user = u // a new pointer: the user returned before stays as it was
	return u, nil
}

// Delete implements scim.Store.
func (s *Store) Delete(ctx context.Context, id, version string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tenant, err := scim.Tenant(ctx) // scim.ErrNoTenant: never act on the tenant "" by accident
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(tenant, id)
	switch {
	case i < 0:
		return scim.ErrNotFound
	case version != "" && version != s.users[i].user.Meta.Version:
		return scim.ErrVersionMismatch
	}
	s.users = slices.Delete(s.users, i, i+1) // keeps the others in creation order
	return nil
}

// List implements scim.Store: the tenant's users in creation order, filtered, sorted and paged by
// scim.ApplyQuery.
func (s *Store) List(ctx context.Context, q scim.Query) (*scim.Page, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tenant, err := scim.Tenant(ctx) // scim.ErrNoTenant: never act on the tenant "" by accident
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	var users []*scim.User
	for _, e := range s.users {
		if e.tenant == tenant {
			users = append(users, e.user)
		}
	}
	s.mu.Unlock()
	return scim.ApplyQuery(users, q), nil // the users are never modified, so no lock is needed here
}

// find returns the index of the tenant's user with the id, or -1.
func (s *Store) find(tenant, id string) int {
	return slices.IndexFunc(s.users, func(e entry) bool { return e.tenant == tenant && e.user.ID == id })
}

// taken reports whether a user of the tenant other than the one with id except has the userName, compared
// as the library compares attributes that are not caseExact.
func (s *Store) taken(tenant, userName, except string) bool {
	name := filter.Fold(userName)
	return slices.ContainsFunc(s.users, func(e entry) bool {
		return e.tenant == tenant && e.user.ID != except && filter.Fold(e.user.UserName) == name
	})
}

func (s *Store) newVersion() string {
	s.versions++
	return strconv.FormatInt(s.versions, 10)
}

var _ scim.Store = (*Store)(nil)
