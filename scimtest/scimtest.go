package scimtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// TestStore checks that the Store made by newStore behaves as the handler needs: every declared attribute
// of a User round-trips, userName is unique without case within a tenant, tenants are isolated, versions are
// checked, List answers every filter, sort and page as scim.ApplyQuery does, cursor pages (if the Store is a
// scim.CursorLister) stay correct while users change, uniqueness and versions hold under concurrent writes,
// a cancelled context stops every method, and, when the Store is a scim.GroupStore, that groups keep their
// contract (membership deltas, displayName unique without case, members that are users of the tenant,
// versions, memberships removed with their user or group, members omitted above GroupRead.MaxMembers, filters).
//
// opts (at most one) says what the host declared and how it names tenants; without it the kit checks every
// core and enterprise attribute in its own tenants. A Store may keep the ids the kit gives Create or assign
// its own: the kit follows the ids Create returns.
//
// A preflight checks the basic contract first (Create returns an ID and a version, Get finds the user by that
// ID with its times, Replace changes the version, List returns the user) and stops the run with one message
// when it fails, since every other check builds on it. Then each requirement is a subtest of t, run one after
// the other (never in parallel), and each calls newStore for a fresh, empty Store: newStore may reset one
// shared database, and may register clean-up with t.Cleanup on the subtest's t it is given. Failures name
// the method, what it was given, what it returned and what was expected.
func TestStore(t *testing.T, newStore func(t *testing.T) scim.Store, opts ...Options) {
	t.Helper()
	if len(opts) > 1 {
		t.Fatalf("scimtest: TestStore takes at most one Options, got %d", len(opts))
	}
	var o Options
	if len(opts) == 1 {
		o = opts[0]
	}
	c := newConfig(t, o)
	var probe sync.Once
	fresh := func(t *testing.T) *kit {
		t.Helper()
		s := newStore(t)
		if s == nil {
			t.Fatal("newStore returned a nil Store")
		}
		probe.Do(func() { // before the first check: a GroupStore's users' groups are the handler's to compute
			if _, ok := s.(scim.GroupStore); ok {
				c.computeGroups()
			}
		})
		return c.newKit(s)
	}
	if !t.Run("preflight", func(t *testing.T) { preflight(t, fresh(t)) }) {
		t.Fatal("scimtest: the Store fails the basic contract above (preflight); no other check was run")
	}
	groups := []struct {
		name  string
		tests []check
	}{
		{"round trip", roundTripChecks},
		{"versions", versionChecks},
		{"not found", notFoundChecks},
		{"userName uniqueness", uniquenessChecks},
		{"tenants", tenantChecks},
		{"filter", filterChecks},
		{"sort", sortChecks},
		{"pagination", paginationChecks},
		{"cursor pagination", cursorChecks},
		{"concurrency", concurrencyChecks},
		{"context", contextChecks},
		{"groups", groupChecks},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			if g.name == "groups" {
				if _, ok := fresh(t).s.(scim.GroupStore); !ok {
					t.Skip("the Store is not a scim.GroupStore")
				}
			}
			for _, ch := range g.tests {
				t.Run(ch.name, func(t *testing.T) { ch.run(t, fresh(t)) })
			}
		})
	}
}

// check is one requirement: its name reads as the requirement, run checks it against a fresh Store.
type check struct {
	name string
	run  func(t *testing.T, k *kit)
}

func inTenant(t *testing.T, tenant string) context.Context {
	return scim.ContextWithTenant(t.Context(), tenant)
}

// where describes the tenant of ctx for messages.
func where(ctx context.Context) string {
	return fmt.Sprintf("in tenant %q", tenantOf(ctx))
}

// desc describes a user given to a method.
func desc(u *scim.User) string {
	return fmt.Sprintf("user id %q userName %q", u.ID, u.UserName)
}

// sentinel names the library's sentinel errors in messages.
func sentinel(err error) string {
	switch err {
	case scim.ErrNotFound:
		return "scim.ErrNotFound"
	case scim.ErrConflict:
		return "scim.ErrConflict"
	case scim.ErrVersionMismatch:
		return "scim.ErrVersionMismatch"
	case scim.ErrInvalidCursor:
		return "scim.ErrInvalidCursor"
	}
	return fmt.Sprint(err)
}

// mustCreate creates u and fails the test if the Store refuses it.
func mustCreate(t *testing.T, s scim.Store, ctx context.Context, u *scim.User) *scim.User {
	t.Helper()
	d := desc(u)
	got, err := s.Create(ctx, u)
	if err != nil {
		t.Fatalf("Create(%s) %s: unexpected error %v; want the created user", d, where(ctx), err)
	}
	if got == nil {
		t.Fatalf("Create(%s) %s returned a nil user and no error; want the created user", d, where(ctx))
	}
	if got.Meta.Version == "" {
		t.Fatalf("Create(%s) %s returned Meta.Version \"\"; want the Store to set a version", d, where(ctx))
	}
	return got
}

// mustGet gets the user with id and fails the test if the Store cannot.
func mustGet(t *testing.T, s scim.Store, ctx context.Context, id string) *scim.User {
	t.Helper()
	got, err := s.Get(ctx, id)
	if err != nil {
		t.Fatalf("Get(%q) %s: unexpected error %v; want the user", id, where(ctx), err)
	}
	if got == nil {
		t.Fatalf("Get(%q) %s returned a nil user and no error; want the user", id, where(ctx))
	}
	return got
}

// mustReplace replaces the user and fails the test if the Store refuses it.
func mustReplace(t *testing.T, s scim.Store, ctx context.Context, u *scim.User, version string) *scim.User {
	t.Helper()
	d := desc(u)
	got, err := s.Replace(ctx, u, version)
	if err != nil {
		t.Fatalf("Replace(%s, version %q) %s: unexpected error %v; want the replaced user", d, version, where(ctx), err)
	}
	if got == nil {
		t.Fatalf("Replace(%s, version %q) %s returned a nil user and no error; want the replaced user", d, version, where(ctx))
	}
	if got.Meta.Version == "" {
		t.Fatalf("Replace(%s, version %q) %s returned Meta.Version \"\"; want the Store to set a new version", d, version, where(ctx))
	}
	return got
}

// mustList lists and fails the test if the Store cannot.
func mustList(t *testing.T, s scim.Store, ctx context.Context, q scim.Query) *scim.Page {
	t.Helper()
	page, err := s.List(ctx, q)
	if err != nil {
		t.Fatalf("List(%s) %s: unexpected error %v", describeQuery(q), where(ctx), err)
	}
	if page == nil {
		t.Fatalf("List(%s) %s returned a nil Page and no error", describeQuery(q), where(ctx))
	}
	return page
}

// wantErr fails the test unless errors.Is(err, want). call names the method and its arguments, why says
// what made want the right answer.
func wantErr(t *testing.T, err, want error, call, why string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s succeeded; want an error that errors.Is %s: %s", call, sentinel(want), why)
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s returned error %q; want an error that errors.Is %s (wrap it, or return it as is): %s",
			call, err, sentinel(want), why)
	}
}

// checkUser fails the test unless got, returned by call, equals want in every attribute except Meta.Version,
// Meta.ResourceType and Meta.Location.
func checkUser(t *testing.T, call string, got, want *scim.User) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s returned a nil user; want user %q", call, want.ID)
	}
	checkTime(t, call, "Meta.Created", got.Meta.Created, want.Meta.Created)
	checkTime(t, call, "Meta.LastModified", got.Meta.LastModified, want.Meta.LastModified)
	g, w := *got, *want // shallow copies: a returned user may be shared with the Store, never modify it
	g.Meta.Version, w.Meta.Version = "", ""
	// The handler fills resourceType and location on output, so a Store need not keep them (scim.Meta).
	g.Meta.ResourceType, w.Meta.ResourceType = "", ""
	g.Meta.Location, w.Meta.Location = "", ""
	g.Meta.Created, g.Meta.LastModified = w.Meta.Created, w.Meta.LastModified // reported above
	require.Equal(t, &w, &g, "%s returned user %q with other content than was stored (Meta.Version aside): "+
		"expected is what the Store was given, actual is what it returned; every attribute, sub-attribute and "+
		"element must come back as it was given, and nothing unassigned may become assigned", call, want.ID)
}

// checkTime reports a time that did not survive the Store exactly (to the nanosecond given, which the
// handler truncates to milliseconds) or that came back in another location than UTC.
func checkTime(t *testing.T, call, field string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s returned %s %s; want %s: the Store must keep times exactly (the handler gives them at "+
			"millisecond precision)", call, field, got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
		return
	}
	if got.Location() != time.UTC {
		t.Errorf("%s returned %s in location %q; want UTC, as the Store was given it (return t.UTC())",
			call, field, got.Location())
	}
}

// tenantOf is the tenant of a context the kit made (inTenant), for its own bookkeeping and messages.
func tenantOf(ctx context.Context) string {
	t, err := scim.Tenant(ctx)
	if err != nil {
		return "<no tenant>"
	}
	return t
}
