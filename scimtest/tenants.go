package scimtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimkit/scim"
)

var tenantChecks = []check{
	{"the same userName is allowed in another tenant", func(t *testing.T, k *kit) {
		a, b := inTenant(t, k.tenantA), inTenant(t, k.tenantB)
		k.create(t, a, k.minimalUser("A-1", "bjensen@example.com"))
		if got, err := k.s.Create(b, k.minimalUser("B-1", "BJENSEN@example.com")); err != nil {
			t.Fatalf("Create(%s) %s: %v; want success: userName is unique within a tenant, and only tenant %q has it", desc(k.minimalUser("B-1", "BJENSEN@example.com")), where(b), err, k.tenantA)
		} else {
			k.record(b, "B-1", got)
		}
		if !k.hostTenants {
			none := inTenant(t, "")
			if _, err := k.s.Create(none, k.minimalUser("N-1", "bjensen@example.com")); err != nil {
				t.Fatalf("Create(%s) in tenant \"\": %v; want success: \"\" is a tenant like any other", desc(k.minimalUser("N-1", "bjensen@example.com")), err)
			}
		}
		_, err := k.s.Create(b, k.minimalUser("B-2", "bjensen@EXAMPLE.com"))
		wantErr(t, err, scim.ErrConflict, fmt.Sprintf("Create(%s) %s", desc(k.minimalUser("B-2", "bjensen@EXAMPLE.com")), where(b)), "user B-1 of this tenant has the userName")
	}},
	{"Get, Replace and Delete never reach another tenant's user", func(t *testing.T, k *kit) {
		a := inTenant(t, k.tenantA)
		v := k.create(t, a, k.fullUser("A-1", "bjensen@example.com", 0)).Meta.Version
		for _, tenant := range k.strangers() {
			ctx := inTenant(t, tenant)
			why := fmt.Sprintf("user A-1 belongs to tenant %q, and every method only sees the context's tenant (compared exactly)", k.tenantA)
			_, err := k.s.Get(ctx, k.id("A-1"))
			wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Get(%q) %s", "A-1", where(ctx)), why)
			_, err = k.s.Replace(ctx, k.mine(k.minimalUser("A-1", "hijacked")), v)
			wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Replace(%q, version %q) %s", "A-1", v, where(ctx)), why)
			_, err = k.s.Replace(ctx, k.mine(k.minimalUser("A-1", "hijacked")), "")
			wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Replace(%q, version \"\") %s", "A-1", where(ctx)), why)
			err = k.s.Delete(ctx, k.id("A-1"), v)
			wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Delete(%q, version %q) %s", "A-1", v, where(ctx)), why)
			err = k.s.Delete(ctx, k.id("A-1"), "")
			wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Delete(%q, version \"\") %s", "A-1", where(ctx)), why)
		}
		got := k.get(t, a, "A-1")
		k.checkUser(t, fmt.Sprintf("Get(%q) %s after other tenants tried to replace and delete it", "A-1", where(a)), got, k.fullUser("A-1", "bjensen@example.com", 0))
		if got.Meta.Version != v {
			t.Fatalf("Get(%q) %s returned Meta.Version %q after other tenants' refused writes; want %q, unchanged", "A-1", where(a), got.Meta.Version, v)
		}
	}},
	{"List only ever returns the context's tenant's users", func(t *testing.T, k *kit) {
		tenants := map[string][]string{k.tenantA: {"A-1", "A-2"}, k.tenantB: {"B-1"}}
		if !k.hostTenants {
			tenants[""] = []string{"N-1", "N-2", "N-3"}
		}
		for _, tenant := range k.tenants() {
			for _, id := range tenants[tenant] {
				k.create(t, inTenant(t, tenant), k.minimalUser(id, "user-"+id[2:]))
			}
		}
		for _, tenant := range append(k.tenants(), k.strangers()[1:]...) {
			ctx := inTenant(t, tenant)
			want := tenants[tenant]
			if want == nil {
				want = []string{}
			}
			for _, f := range []string{"", `userName sw "user"`, `id eq "{id:A-1}" or id eq "{id:B-1}" or id eq "{id:N-1}"`} {
				var q scim.Query
				q.StartIndex, q.Count = 1, 100
				if f != "" {
					q.Filter = k.mustParse(t, f)
				}
				page := mustList(t, k.s, ctx, q)
				got := k.names(ctx, page.Users)
				wantHere := want
				if f != "" && f[0] == 'i' { // this tenant's users with one of those ids (a Store's ids may repeat across tenants)
					wantHere = []string{}
					for _, id := range want {
						if slices.Contains([]string{k.id("A-1"), k.id("B-1"), k.id("N-1")}, k.id(id)) {
							wantHere = append(wantHere, id)
						}
					}
				}
				if !sameSet(got, wantHere) || page.TotalResults != len(wantHere) {
					t.Fatalf("List(%s) %s = ids %q, TotalResults %d; want ids %q, TotalResults %d: List must only see the context's tenant",
						describeQuery(q), where(ctx), got, page.TotalResults, wantHere, len(wantHere))
				}
			}
		}
	}},
}

// tenants are the tenants the checks create users in: the two of the Options, and "" with the kit's own.
func (c *config) tenants() []string {
	if c.hostTenants {
		return []string{c.tenantA, c.tenantB}
	}
	return []string{c.tenantA, c.tenantB, ""}
}

// strangers are tenants that must never see tenantA's users: tenantB first, then (with the kit's own tenants)
// "" and a tenant that has no users, and tenantA's upper-case spelling when it differs (tenants compare
// exactly).
func (c *config) strangers() []string {
	out := []string{c.tenantB}
	if !c.hostTenants {
		out = append(out, "", "scimtest-c")
	}
	if up := strings.ToUpper(c.tenantA); up != c.tenantA {
		out = append(out, up)
	}
	return out
}

var contextChecks = []check{
	{"every method fails when the context is cancelled, and changes nothing", func(t *testing.T, k *kit) {
		live := inTenant(t, k.tenantA)
		v := k.create(t, live, k.minimalUser("C-1", "cancel")).Meta.Version
		ctx, cancel := context.WithCancel(live)
		cancel()
		why := "the context was cancelled before the call: a Store passes ctx to its database, or checks ctx.Err()"
		notCanceled := func(call string, err error) {
			if !errors.Is(err, context.Canceled) {
				t.Logf("note: %s with a cancelled context returned %q; it should wrap ctx.Err() (context.Canceled)", call, err)
			}
		}
		if _, err := k.s.Create(ctx, k.minimalUser("C-2", "created-anyway")); err == nil {
			t.Errorf("Create(%s) with a cancelled context succeeded; want an error: %s", desc(k.minimalUser("C-2", "created-anyway")), why)
		} else {
			notCanceled("Create", err)
		}
		if _, err := k.s.Get(ctx, k.id("C-1")); err == nil {
			t.Errorf("Get(%q) with a cancelled context succeeded; want an error: %s", "C-1", why)
		} else {
			notCanceled("Get", err)
		}
		if _, err := k.s.Replace(ctx, k.mine(k.minimalUser("C-1", "replaced-anyway")), v); err == nil {
			t.Errorf("Replace(%q, version %q) with a cancelled context succeeded; want an error: %s", "C-1", v, why)
		} else {
			notCanceled("Replace", err)
		}
		if err := k.s.Delete(ctx, k.id("C-1"), v); err == nil {
			t.Errorf("Delete(%q, version %q) with a cancelled context succeeded; want an error: %s", "C-1", v, why)
		} else {
			notCanceled("Delete", err)
		}
		if _, err := k.s.List(ctx, scim.Query{StartIndex: 1, Count: 10}); err == nil {
			t.Errorf("List(all) with a cancelled context succeeded; want an error: %s", why)
		} else {
			notCanceled("List", err)
		}
		if cl, ok := k.s.(scim.CursorLister); ok {
			if _, err := cl.ListCursor(ctx, scim.Query{Count: 10}, ""); err == nil {
				t.Errorf("ListCursor(count 10, cursor \"\") with a cancelled context succeeded; want an error: %s", why)
			} else {
				notCanceled("ListCursor", err)
			}
		}
		got := k.get(t, live, "C-1")
		k.checkUser(t, fmt.Sprintf("Get(%q) with a live context after cancelled Replace and Delete", "C-1"), got, k.minimalUser("C-1", "cancel"))
		if got.Meta.Version != v {
			t.Errorf("Get(%q) after a cancelled Replace returned Meta.Version %q; want %q, unchanged", "C-1", got.Meta.Version, v)
		}
		if _, err := k.s.Get(live, k.id("C-2")); !errors.Is(err, scim.ErrNotFound) {
			t.Errorf("Get(%q) after its Create with a cancelled context = error %v; want ErrNotFound: a failed Create stores nothing", "C-2", err)
		}
	}},
	{"every method fails when the context carries no tenant, and changes nothing", func(t *testing.T, k *kit) {
		live := inTenant(t, k.tenantA)
		v := k.create(t, live, k.minimalUser("N-1", "no-tenant")).Meta.Version
		ctx := t.Context() // no tenant at all: scim.Tenant returns scim.ErrNoTenant
		why := "the context carries no tenant: a Store reads it with scim.Tenant and returns its error (scim.ErrNoTenant), " +
			"rather than acting on the tenant \"\""
		noTenant := func(call string, err error) {
			if err == nil {
				t.Errorf("%s with a context without a tenant succeeded; want an error: %s", call, why)
			} else if !errors.Is(err, scim.ErrNoTenant) {
				t.Logf("note: %s with a context without a tenant returned %q; it should wrap scim.ErrNoTenant", call, err)
			}
		}
		_, err := k.s.Create(ctx, k.minimalUser("N-2", "created-anyway"))
		noTenant(fmt.Sprintf("Create(%s)", desc(k.minimalUser("N-2", "created-anyway"))), err)
		_, err = k.s.Get(ctx, k.id("N-1"))
		noTenant(fmt.Sprintf("Get(%q)", "N-1"), err)
		_, err = k.s.Replace(ctx, k.mine(k.minimalUser("N-1", "replaced-anyway")), v)
		noTenant(fmt.Sprintf("Replace(%q, version %q)", "N-1", v), err)
		noTenant(fmt.Sprintf("Delete(%q, version %q)", "N-1", v), k.s.Delete(ctx, k.id("N-1"), v))
		_, err = k.s.List(ctx, scim.Query{StartIndex: 1, Count: 10})
		noTenant("List(all)", err)
		if cl, ok := k.s.(scim.CursorLister); ok {
			_, err = cl.ListCursor(ctx, scim.Query{Count: 10}, "")
			noTenant("ListCursor(count 10, cursor \"\")", err)
		}
		if gs, ok := k.s.(scim.GroupStore); ok {
			_, err = gs.CreateGroup(ctx, &scim.Group{ID: "N-G", DisplayName: "no-tenant"})
			noTenant("CreateGroup(displayName \"no-tenant\")", err)
			_, err = gs.ListGroups(ctx, scim.Query{StartIndex: 1, Count: 10}, scim.GroupRead{})
			noTenant("ListGroups(all)", err)
		}
		got := k.get(t, live, "N-1")
		k.checkUser(t, fmt.Sprintf("Get(%q) after Replace and Delete without a tenant", "N-1"), got, k.minimalUser("N-1", "no-tenant"))
		if got.Meta.Version != v {
			t.Errorf("Get(%q) after a Replace without a tenant returned Meta.Version %q; want %q, unchanged", "N-1", got.Meta.Version, v)
		}
		for _, tenant := range append([]string{k.tenantA}, k.strangers()...) {
			page := mustList(t, k.s, inTenant(t, tenant), scim.Query{StartIndex: 1, Count: 10})
			for _, u := range page.Users {
				if u.UserName == "created-anyway" {
					t.Errorf("List(all) in tenant %q returned the user created with a context without a tenant; a failed Create stores nothing", tenant)
				}
			}
		}
	}},
}
