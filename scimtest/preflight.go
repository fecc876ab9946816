package scimtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/scimkit/scim"
)

// preflight checks the contract every other check builds on, and says in one message what is broken: a Store
// that loses ids or versions would otherwise fail sixty checks with sixty confusing messages.
func preflight(t *testing.T, k *kit) {
	ctx := inTenant(t, k.tenantA)
	given := func() *scim.User {
		u := k.minimalUser("Pre-1", "preflight@example.com")
		u.Meta.LastModified = t0.Add(time.Hour + 876*time.Millisecond)
		return u
	}
	created, err := k.s.Create(ctx, given())
	switch {
	case err != nil:
		t.Fatalf("Create(user id \"Pre-1\", userName \"preflight@example.com\") %s, into an empty Store, failed: %v; "+
			"every check needs Create to work", where(ctx), err)
	case created == nil:
		t.Fatalf("Create %s returned a nil user and no error; want the created user", where(ctx))
	case created.ID == "":
		t.Fatalf("Create returned a user without an ID: a Store must keep the handler's ID or assign its own " +
			"(and return it in the user)")
	case created.Meta.Version == "":
		t.Fatalf("Create returned a user without Meta.Version: a Store must set a version on every write " +
			"(the handler's ETags and If-Match depend on it)")
	}
	id := created.ID
	got, err := k.s.Get(ctx, id)
	switch {
	case err != nil:
		t.Fatalf("Get(%q), the ID Create returned, %s failed: %v; a Store must find a user by the ID its Create returned", id, where(ctx), err)
	case got == nil:
		t.Fatalf("Get(%q) returned a nil user and no error", id)
	case got.ID != id:
		t.Fatalf("Get(%q) returned a user with ID %q; want the ID Create returned, %q", id, got.ID, id)
	case got.UserName != "preflight@example.com":
		t.Fatalf("Get(%q) returned userName %q; want %q, as created", id, got.UserName, "preflight@example.com")
	case got.Meta.Version != created.Meta.Version:
		t.Fatalf("Get(%q) returned Meta.Version %q; want %q, the version Create returned", id, got.Meta.Version, created.Meta.Version)
	}
	want := given()
	for _, tm := range []struct {
		field     string
		got, want time.Time
	}{{"Meta.Created", got.Meta.Created, want.Meta.Created}, {"Meta.LastModified", got.Meta.LastModified, want.Meta.LastModified}} {
		if !tm.got.Equal(tm.want) {
			t.Fatalf("Get(%q) returned %s %s; want %s, as given to Create: a Store must keep times to the millisecond "+
				"(a column of seconds, or a zone lost on the way, changes them)", id, tm.field,
				tm.got.Format(time.RFC3339Nano), tm.want.Format(time.RFC3339Nano))
		}
	}
	next := given()
	next.ID = id
	next.UserName = "preflight.renamed@example.com"
	next.Meta.Version = created.Meta.Version
	replaced, err := k.s.Replace(ctx, next, created.Meta.Version)
	switch {
	case err != nil:
		t.Fatalf("Replace(user id %q, version %q), the ID and version Create returned, %s failed: %v", id, created.Meta.Version, where(ctx), err)
	case replaced == nil:
		t.Fatalf("Replace(user id %q) returned a nil user and no error", id)
	case replaced.ID != id:
		t.Fatalf("Replace(user id %q) returned a user with ID %q; a user's ID never changes", id, replaced.ID)
	case replaced.Meta.Version == "" || replaced.Meta.Version == created.Meta.Version:
		t.Fatalf("Replace(user id %q) returned Meta.Version %q, Create's was %q; want a new version on every write", id,
			replaced.Meta.Version, created.Meta.Version)
	}
	if got, err := k.s.Get(ctx, id); err != nil || got == nil || got.Meta.Version != replaced.Meta.Version || got.UserName != next.UserName {
		t.Fatalf("Get(%q) after Replace = %v, error %v; want userName %q and Meta.Version %q, as Replace returned", id,
			describeUser(got), err, next.UserName, replaced.Meta.Version)
	}
	page, err := k.s.List(ctx, scim.Query{StartIndex: 1, Count: 10})
	switch {
	case err != nil:
		t.Fatalf("List(all) %s failed: %v", where(ctx), err)
	case page == nil:
		t.Fatalf("List(all) %s returned a nil Page and no error", where(ctx))
	case page.TotalResults != 1 || len(page.Users) != 1 || page.Users[0] == nil || page.Users[0].ID != id:
		ids := make([]string, len(page.Users))
		for i, u := range page.Users {
			ids[i] = describeUser(u)
		}
		t.Fatalf("List(all) %s, holding one user with ID %q, returned TotalResults %d and users %v; want that user alone, with the ID Create returned",
			where(ctx), id, page.TotalResults, ids)
	}
}

func describeUser(u *scim.User) string {
	if u == nil {
		return "<nil>"
	}
	return fmt.Sprintf("{ID %q, userName %q, version %q}", u.ID, u.UserName, u.Meta.Version)
}
