package scimtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
)

var roundTripChecks = []check{
	{"Create returns the user it was given, every attribute unchanged", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		for variant := range 2 {
			id := fmt.Sprintf("Full-%d", variant)
			got := k.create(t, ctx, k.fullUser(id, "bjensen"+id, variant))
			k.checkUser(t, fmt.Sprintf("Create(%q) %s", id, where(ctx)), got, k.fullUser(id, "bjensen"+id, variant))
		}
	}},
	{"Get returns every attribute as created, including active=false, millisecond times in UTC and a password hash if kept", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		for variant := range 2 {
			id := fmt.Sprintf("Full-%d", variant)
			k.create(t, ctx, k.fullUser(id, "bjensen"+id, variant))
		}
		for variant := range 2 {
			id := fmt.Sprintf("Full-%d", variant)
			got := k.get(t, ctx, id)
			k.checkUser(t, fmt.Sprintf("Get(%q) %s after Create", id, where(ctx)), got, k.fullUser(id, "bjensen"+id, variant))
		}
	}},
	{"a user with only id, userName and meta comes back with nothing else assigned", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.create(t, ctx, k.minimalUser("Min-1", "minimal"))
		k.checkUser(t, fmt.Sprintf("Get(%q) %s", "Min-1", where(ctx)), k.get(t, ctx, "Min-1"), k.minimalUser("Min-1", "minimal"))
	}},
	{"Replace stores every attribute of the new user", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		created := k.create(t, ctx, k.fullUser("Full-1", "bjensen", 0))
		next := k.fullUser("Full-1", "bjensen", 1)
		next.Meta.Version = created.Meta.Version // as the handler passes it: the user it read, changed
		got := k.replace(t, ctx, next, created.Meta.Version)
		call := fmt.Sprintf("Replace(%q, version %q) %s", "Full-1", created.Meta.Version, where(ctx))
		k.checkUser(t, call, got, k.fullUser("Full-1", "bjensen", 1))
		k.checkUser(t, fmt.Sprintf("Get(%q) after %s", "Full-1", call), k.get(t, ctx, "Full-1"), k.fullUser("Full-1", "bjensen", 1))
		// And back: every value changes again, active goes from false to true.
		next = k.fullUser("Full-1", "bjensen", 0)
		k.replace(t, ctx, next, "")
		k.checkUser(t, fmt.Sprintf("Get(%q) after a second Replace", "Full-1"), k.get(t, ctx, "Full-1"), k.fullUser("Full-1", "bjensen", 0))
	}},
	{"Replace removes the attributes the new user leaves unassigned", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.create(t, ctx, k.fullUser("Full-1", "bjensen", 0))
		k.replace(t, ctx, k.minimalUser("Full-1", "bjensen"), "")
		k.checkUser(t, fmt.Sprintf("Get(%q) after Replace by a user with only id, userName and meta", "Full-1"),
			k.get(t, ctx, "Full-1"), k.minimalUser("Full-1", "bjensen"))
	}},
	{"users returned earlier do not change when the user is replaced or deleted", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		created := k.create(t, ctx, k.fullUser("Full-1", "bjensen", 0))
		createdVersion := created.Meta.Version
		read := k.get(t, ctx, "Full-1")
		readVersion := read.Meta.Version
		k.replace(t, ctx, k.fullUser("Full-1", "bjensen", 1), "")
		why := "the handler may still be encoding a user the Store returned while another request writes: " +
			"a write must store new values, never modify users already returned"
		k.checkUser(t, "the user Create returned, after a Replace ("+why+")", created, k.fullUser("Full-1", "bjensen", 0))
		k.checkUser(t, "the user Get returned, after a Replace ("+why+")", read, k.fullUser("Full-1", "bjensen", 0))
		if created.Meta.Version != createdVersion || read.Meta.Version != readVersion {
			t.Fatalf("a Replace changed Meta.Version of users returned earlier (Create's from %q to %q, Get's from %q to %q): %s",
				createdVersion, created.Meta.Version, readVersion, read.Meta.Version, why)
		}
		read = k.get(t, ctx, "Full-1")
		if err := k.s.Delete(ctx, k.id("Full-1"), ""); err != nil {
			t.Fatalf("Delete(%q, version \"\") %s: unexpected error %v", "Full-1", where(ctx), err)
		}
		k.checkUser(t, "the user Get returned, after a Delete ("+why+")", read, k.fullUser("Full-1", "bjensen", 1))
	}},
	{"Delete removes the user from Get and List and frees its userName", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.create(t, ctx, k.minimalUser("Del-1", "deleted"))
		k.create(t, ctx, k.minimalUser("Keep-2", "kept"))
		if err := k.s.Delete(ctx, k.id("Del-1"), ""); err != nil {
			t.Fatalf("Delete(%q, version \"\") %s: unexpected error %v; want success", "Del-1", where(ctx), err)
		}
		_, err := k.s.Get(ctx, k.id("Del-1"))
		wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Get(%q) after Delete(%q)", "Del-1", "Del-1"), "the user was deleted")
		page := mustList(t, k.s, ctx, scim.Query{StartIndex: 1, Count: 100})
		if ids := k.names(ctx, page.Users); len(ids) != 1 || ids[0] != "Keep-2" || page.TotalResults != 1 {
			t.Fatalf("List(all) after Delete(%q) = ids %q, TotalResults %d; want [Keep-2], TotalResults 1", "Del-1", ids, page.TotalResults)
		}
		again := k.minimalUser("Del-3", "DELETED")
		if _, err := k.s.Create(ctx, again); err != nil {
			t.Fatalf("Create(%s) after Delete of the user with userName \"deleted\": %v; want success: a deleted user's userName is free again", desc(k.minimalUser("Del-3", "DELETED")), err)
		}
	}},
	{"List returns complete users", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.create(t, ctx, k.fullUser("Full-0", "bjensen0", 0))
		k.create(t, ctx, k.fullUser("Full-1", "bjensen1", 1))
		k.create(t, ctx, k.minimalUser("Min-2", "minimal"))
		want := map[string]*scim.User{
			"Full-0": k.fullUser("Full-0", "bjensen0", 0), "Full-1": k.fullUser("Full-1", "bjensen1", 1),
			"Min-2": k.minimalUser("Min-2", "minimal"),
		}
		page := mustList(t, k.s, ctx, scim.Query{StartIndex: 1, Count: 100})
		if len(page.Users) != len(want) {
			t.Fatalf("List(all) %s returned %d users %q; want the %d created", where(ctx), len(page.Users), k.names(ctx, page.Users), len(want))
		}
		for i, u := range page.Users {
			w := want[k.names(ctx, page.Users)[i]]
			if w == nil {
				t.Fatalf("List(all) %s returned a user with id %q; want only the users created, %q", where(ctx), u.ID, []string{"Full-0", "Full-1", "Min-2"})
			}
			k.checkUser(t, fmt.Sprintf("List(all) %s", where(ctx)), u, w)
		}
		for _, f := range []string{`userName eq "bjensen1"`, `emails[type eq "work"]`} {
			e, ok := k.parse(t, f)
			if !ok {
				continue // an undeclared attribute
			}
			page := mustList(t, k.s, ctx, scim.Query{Filter: e, StartIndex: 1, Count: 100})
			for i, u := range page.Users {
				if w := want[k.names(ctx, page.Users)[i]]; w != nil {
					k.checkUser(t, fmt.Sprintf("List(filter %s) %s", f, where(ctx)), u, w)
				}
			}
		}
	}},
}

var versionChecks = []check{
	{"Create sets Meta.Version and Get returns it", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		created := k.create(t, ctx, k.minimalUser("V-1", "versioned"))
		got := k.get(t, ctx, "V-1")
		if got.Meta.Version != created.Meta.Version {
			t.Fatalf("Get(%q) returned Meta.Version %q; want %q, the version Create returned", "V-1", got.Meta.Version, created.Meta.Version)
		}
	}},
	{"Replace sets a new Meta.Version every time, and Get returns it", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		created := k.create(t, ctx, k.minimalUser("V-1", "versioned"))
		seen := []string{created.Meta.Version}
		version := created.Meta.Version
		for i := range 3 {
			u := k.minimalUser("V-1", "versioned")
			u.DisplayName = fmt.Sprint("change ", i)
			u = k.declared(u)        // without displayName if undeclared
			u.Meta.Version = version // as the handler passes it
			got := k.replace(t, ctx, u, version)
			for _, old := range seen {
				if got.Meta.Version == old {
					t.Fatalf("Replace(%q, version %q) returned Meta.Version %q, which the user had before (versions so far %q); "+
						"want a new version on every write, so that clients holding an old one get ErrVersionMismatch",
						"V-1", version, got.Meta.Version, seen)
				}
			}
			if read := k.get(t, ctx, "V-1"); read.Meta.Version != got.Meta.Version {
				t.Fatalf("Get(%q) after Replace returned Meta.Version %q; want %q, the version Replace returned", "V-1", read.Meta.Version, got.Meta.Version)
			}
			seen = append(seen, got.Meta.Version)
			version = got.Meta.Version
		}
	}},
	{"Replace with a stale version fails with ErrVersionMismatch and changes nothing", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		created := k.create(t, ctx, k.minimalUser("V-1", "versioned"))
		stale := created.Meta.Version
		current := k.replace(t, ctx, k.minimalUser("V-1", "versioned"), stale).Meta.Version
		u := k.minimalUser("V-1", "versioned")
		u.DisplayName = "lost update"
		u = k.declared(u) // without displayName if undeclared
		_, err := k.s.Replace(ctx, k.mine(u), stale)
		wantErr(t, err, scim.ErrVersionMismatch, fmt.Sprintf("Replace(%q, version %q) %s", "V-1", stale, where(ctx)),
			fmt.Sprintf("the user's version is now %q", current))
		got := k.get(t, ctx, "V-1")
		k.checkUser(t, fmt.Sprintf("Get(%q) after a Replace refused with ErrVersionMismatch", "V-1"), got, k.minimalUser("V-1", "versioned"))
		if got.Meta.Version != current {
			t.Fatalf("Get(%q) after a refused Replace returned Meta.Version %q; want %q, unchanged", "V-1", got.Meta.Version, current)
		}
	}},
	{"Replace with version \"\" replaces whatever the current version", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.create(t, ctx, k.minimalUser("V-1", "versioned"))
		k.replace(t, ctx, k.minimalUser("V-1", "versioned"), "")
		u := k.minimalUser("V-1", "versioned")
		u.DisplayName = "unconditional"
		u = k.declared(u) // without displayName if undeclared
		k.replace(t, ctx, u, "")
		want := k.minimalUser("V-1", "versioned")
		want.DisplayName = "unconditional"
		want = k.declared(want) // without displayName if undeclared
		k.checkUser(t, fmt.Sprintf("Get(%q) after Replace with version \"\"", "V-1"), k.get(t, ctx, "V-1"), want)
	}},
	{"Delete with a stale version fails with ErrVersionMismatch and deletes nothing", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		stale := k.create(t, ctx, k.minimalUser("V-1", "versioned")).Meta.Version
		current := k.replace(t, ctx, k.minimalUser("V-1", "versioned"), "").Meta.Version
		err := k.s.Delete(ctx, k.id("V-1"), stale)
		wantErr(t, err, scim.ErrVersionMismatch, fmt.Sprintf("Delete(%q, version %q) %s", "V-1", stale, where(ctx)),
			fmt.Sprintf("the user's version is now %q", current))
		k.get(t, ctx, "V-1")
	}},
	{"Delete with the current version, or with \"\", deletes", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		v := k.create(t, ctx, k.minimalUser("V-1", "one")).Meta.Version
		k.create(t, ctx, k.minimalUser("V-2", "two"))
		k.replace(t, ctx, k.minimalUser("V-2", "two"), "")
		if err := k.s.Delete(ctx, k.id("V-1"), v); err != nil {
			t.Fatalf("Delete(%q, version %q) with the current version %s: %v; want success", "V-1", v, where(ctx), err)
		}
		if err := k.s.Delete(ctx, k.id("V-2"), ""); err != nil {
			t.Fatalf("Delete(%q, version \"\") %s: %v; want success: \"\" deletes whatever the version", "V-2", where(ctx), err)
		}
		for _, id := range []string{"V-1", "V-2"} {
			_, err := k.s.Get(ctx, k.id(id))
			wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Get(%q) after Delete", id), "the user was deleted")
		}
	}},
}

var notFoundChecks = []check{
	{"Get, Replace and Delete of an unknown id fail with ErrNotFound", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		known := k.create(t, ctx, k.minimalUser("Known-1", "known")).ID
		// ids are caseExact; a Store's own ids (integers, say) also meet one it never assigned.
		unknown := []string{"Unknown-1", known + "0"}
		for _, id := range []string{strings.ToLower(known), strings.ToUpper(known)} {
			if id != known && !slices.Contains(unknown, id) {
				unknown = append(unknown, id)
			}
		}
		for _, id := range unknown {
			why := fmt.Sprintf("no user has id %q (the only user's id is %q, and ids are compared with case)", id, known)
			_, err := k.s.Get(ctx, k.id(id))
			wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Get(%q) %s", id, where(ctx)), why)
			for _, version := range []string{"", "1", "W/\"1\""} {
				_, err = k.s.Replace(ctx, k.mine(k.minimalUser(id, "someone-else")), version)
				wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Replace(%s, version %q) %s", desc(k.minimalUser(id, "someone-else")), version, where(ctx)), why)
				err = k.s.Delete(ctx, k.id(id), version)
				wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Delete(%q, version %q) %s", id, version, where(ctx)), why)
			}
		}
		page := mustList(t, k.s, ctx, scim.Query{StartIndex: 1, Count: 10})
		if ids := k.names(ctx, page.Users); len(ids) != 1 || ids[0] != "Known-1" {
			t.Fatalf("List(all) after Replace of unknown ids = %q; want [Known-1]: Replace of an unknown id must not create it", ids)
		}
	}},
	{"Get, Replace and Delete of a deleted user fail with ErrNotFound", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		v := k.create(t, ctx, k.minimalUser("Gone-1", "gone")).Meta.Version
		if err := k.s.Delete(ctx, k.id("Gone-1"), ""); err != nil {
			t.Fatalf("Delete(%q) %s: %v", "Gone-1", where(ctx), err)
		}
		// A Store assigning its own ids must not hand the deleted user's id to the next user (SQLite's
		// INTEGER PRIMARY KEY without AUTOINCREMENT does): a client still holding it would reach someone else.
		if next := k.create(t, ctx, k.minimalUser("Gone-2", "next")); next.ID == k.id("Gone-1") {
			t.Fatalf("Create(user id %q) after Delete(%q) returned id %q, the deleted user's: ids are never reused, "+
				"since clients (Entra ID) keep the ids of users they deleted", "Gone-2", k.id("Gone-1"), next.ID)
		}
		why := "the user was deleted"
		_, err := k.s.Get(ctx, k.id("Gone-1"))
		wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Get(%q) after Delete", "Gone-1"), why)
		_, err = k.s.Replace(ctx, k.mine(k.minimalUser("Gone-1", "gone")), v)
		wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Replace(%q, version %q) after Delete", "Gone-1", v), why)
		_, err = k.s.Replace(ctx, k.mine(k.minimalUser("Gone-1", "gone")), "")
		wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Replace(%q, version \"\") after Delete", "Gone-1"), why)
		err = k.s.Delete(ctx, k.id("Gone-1"), "")
		wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Delete(%q) a second time", "Gone-1"), why)
	}},
}

// caseVariant returns s with the case of its letters flipped where the bits of n say so: 64 different
// spellings of one userName, compared without case.
func caseVariant(s string, n int) string {
	out := []rune(s)
	bit := 0
	for i, r := range out {
		var flipped rune
		switch {
		case 'a' <= r && r <= 'z':
			flipped = r - 'a' + 'A'
		case 'A' <= r && r <= 'Z':
			flipped = r - 'A' + 'a'
		default:
			continue
		}
		if n>>bit&1 == 1 {
			out[i] = flipped
		}
		bit++
	}
	return string(out)
}

var uniquenessChecks = []check{
	{"Create fails with ErrConflict when the tenant has the userName in any case, and stores nothing", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.create(t, ctx, k.minimalUser("U-1", "bjensen@example.com"))
		for i, name := range []string{"bjensen@example.com", "BJENSEN@EXAMPLE.COM", "BJensen@Example.com"} {
			u := k.minimalUser(fmt.Sprintf("U-dup-%d", i), name)
			_, err := k.s.Create(ctx, u)
			wantErr(t, err, scim.ErrConflict, fmt.Sprintf("Create(%s) %s", desc(k.minimalUser(fmt.Sprintf("U-dup-%d", i), name)), where(ctx)),
				`user "U-1" of the same tenant has userName "bjensen@example.com", and userNames are compared without case`)
			if _, err := k.s.Get(ctx, k.id(fmt.Sprintf("U-dup-%d", i))); !errors.Is(err, scim.ErrNotFound) {
				t.Fatalf("Get(%q) after its Create failed with ErrConflict = error %v; want ErrNotFound: a refused Create must store nothing", fmt.Sprintf("U-dup-%d", i), err)
			}
		}
		if page := mustList(t, k.s, ctx, scim.Query{StartIndex: 1, Count: 10}); page.TotalResults != 1 {
			t.Fatalf("List(all) after refused Creates = TotalResults %d, ids %q; want 1 user, U-1", page.TotalResults, k.names(ctx, page.Users))
		}
	}},
	{"userName comparison folds non-ASCII letters too, as filter.Fold does", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.create(t, ctx, k.minimalUser("U-1", "Élodie.Ørsted@example.com"))
		_, err := k.s.Create(ctx, k.minimalUser("U-2", "élodie.ørsted@EXAMPLE.com"))
		wantErr(t, err, scim.ErrConflict, fmt.Sprintf("Create(%s) %s", desc(k.minimalUser("U-2", "élodie.ørsted@EXAMPLE.com")), where(ctx)),
			`user "U-1" has userName "Élodie.Ørsted@example.com": the same without case, as filter.Fold folds it; `+
				`an ASCII-only lower(), such as SQLite's, misses this`)
	}},
	{"userName uniqueness and userName eq agree with filter.Fold's key: look-alikes conflict and find each other, distinct keys do not", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		// Each pair has one key (full case folding, compatibility normalisation, NFC/NFD, surrounding spaces).
		same := [][2]string{
			{"ΣΊΣΥΦΟΣ", "σίσυφος"},
			{"straße", "STRASSE"},
			{"Ａdmin", "admin"},
			{"caf\u00e9", "cafe\u0301"},
			{"trailing ", "trailing"},
		}
		for i, pair := range same {
			first, second := unquote(pair[0]), unquote(pair[1])
			id := fmt.Sprintf("U-%d", i)
			k.create(t, ctx, k.minimalUser(id, first))
			_, err := k.s.Create(ctx, k.minimalUser(id+"-dup", second))
			wantErr(t, err, scim.ErrConflict, fmt.Sprintf("Create(%s) %s", desc(k.minimalUser(id+"-dup", second)), where(ctx)),
				fmt.Sprintf("user %q has userName %q, and filter.Fold gives both the key %q", id, first, filter.Fold(first)))
			for _, name := range []string{first, second} {
				page := mustList(t, k.s, ctx, scim.Query{Filter: k.mustParse(t, `userName eq "`+name+`"`), StartIndex: 1, Count: 10})
				if got := k.names(ctx, page.Users); len(got) != 1 || got[0] != id {
					t.Fatalf(`List(userName eq %q) %s = ids %q; want [%q]: filters compare userName by filter.Fold's key, as uniqueness does`, name, where(ctx), got, id)
				}
			}
		}
		// Different keys: a store folding more (accents, inner spaces) would refuse the second.
		for i, pair := range [][2]string{{"resume", "résumé"}, {"admin-x", "admin x"}, {"dotless-ı", "dotless-i"}} {
			for j, name := range pair {
				id := fmt.Sprintf("D-%d-%d", i, j)
				if _, err := k.s.Create(ctx, k.minimalUser(id, name)); err != nil {
					t.Fatalf("Create(%s) %s = error %v; want success: filter.Fold keys %q and %q differ, so these are two identities",
						desc(k.minimalUser(id, name)), where(ctx), err, filter.Fold(pair[0]), filter.Fold(pair[1]))
				}
			}
		}
	}},
	{"Replace fails with ErrConflict when renaming onto another user's userName in another case, and changes nothing", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.create(t, ctx, k.minimalUser("U-1", "bjensen@example.com"))
		v := k.create(t, ctx, k.minimalUser("U-2", "jsmith@example.com")).Meta.Version
		for _, version := range []string{v, ""} {
			u := k.minimalUser("U-2", "BJensen@Example.COM")
			_, err := k.s.Replace(ctx, k.mine(u), version)
			wantErr(t, err, scim.ErrConflict, fmt.Sprintf("Replace(%s, version %q) %s", desc(k.minimalUser("U-2", "BJensen@Example.COM")), version, where(ctx)),
				`user "U-1" of the same tenant has userName "bjensen@example.com", and userNames are compared without case`)
		}
		got := k.get(t, ctx, "U-2")
		k.checkUser(t, fmt.Sprintf("Get(%q) after its Replace failed with ErrConflict", "U-2"), got, k.minimalUser("U-2", "jsmith@example.com"))
		if got.Meta.Version != v {
			t.Fatalf("Get(%q) after a refused Replace returned Meta.Version %q; want %q, unchanged", "U-2", got.Meta.Version, v)
		}
		if _, err := k.s.Create(ctx, k.minimalUser("U-3", "JSMITH@example.com")); !errors.Is(err, scim.ErrConflict) {
			t.Fatalf("Create(userName %q) after the refused rename of U-2 = error %v; want ErrConflict: U-2 still has userName \"jsmith@example.com\"", "JSMITH@example.com", err)
		}
	}},
	{"Replace may change the case of the user's own userName", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.create(t, ctx, k.minimalUser("U-1", "bjensen@example.com"))
		got := k.replace(t, ctx, k.minimalUser("U-1", "BJensen@Example.com"), "")
		k.checkUser(t, fmt.Sprintf("Replace(%q) renaming to another case of its own userName", "U-1"), got, k.minimalUser("U-1", "BJensen@Example.com"))
		k.checkUser(t, fmt.Sprintf("Get(%q) after Replace renaming to another case of its own userName", "U-1"), k.get(t, ctx, "U-1"), k.minimalUser("U-1", "BJensen@Example.com"))
		_, err := k.s.Create(ctx, k.minimalUser("U-2", "bjensen@example.com"))
		wantErr(t, err, scim.ErrConflict, fmt.Sprintf("Create(%s) after U-1 was renamed to \"BJensen@Example.com\"", desc(k.minimalUser("U-2", "bjensen@example.com"))),
			"the name is still taken, in another case")
	}},
	{"a userName freed by a rename can be taken, and the new one cannot", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.create(t, ctx, k.minimalUser("U-1", "old@example.com"))
		k.replace(t, ctx, k.minimalUser("U-1", "new@example.com"), "")
		if _, err := k.s.Create(ctx, k.minimalUser("U-2", "OLD@example.com")); err != nil {
			t.Fatalf("Create(userName %q) after U-1 was renamed from \"old@example.com\" to \"new@example.com\": %v; want success, the old name is free", "OLD@example.com", err)
		}
		_, err := k.s.Create(ctx, k.minimalUser("U-3", "New@Example.com"))
		wantErr(t, err, scim.ErrConflict, fmt.Sprintf("Create(%s) after U-1 was renamed to \"new@example.com\"", desc(k.minimalUser("U-3", "New@Example.com"))), "U-1 has that userName now")
	}},
}

func idsOf(users []*scim.User) []string {
	ids := make([]string, len(users))
	for i, u := range users {
		if u == nil {
			ids[i] = "<nil user>"
			continue
		}
		ids[i] = u.ID
	}
	return ids
}

// unquote decodes the JSON escapes of s, so that tables can spell NFC and NFD forms apart.
func unquote(s string) string {
	var out string
	if err := json.Unmarshal([]byte(`"`+s+`"`), &out); err != nil {
		panic(err)
	}
	return out
}
