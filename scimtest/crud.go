package scimtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
)

var roundTripChecks = []check{
	{"Create returns the user it was given, every attribute unchanged", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		for variant := range 2 {
			id := fmt.Sprintf("Full-%d", variant)
			got := mustCreate(t, s, ctx, fullUser(id, "bjensen"+id, variant))
			checkUser(t, fmt.Sprintf("Create(%q) %s", id, where(ctx)), got, fullUser(id, "bjensen"+id, variant))
		}
	}},
	{"Get returns every attribute as created, including password, active=false and millisecond times in UTC", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		for variant := range 2 {
			id := fmt.Sprintf("Full-%d", variant)
			mustCreate(t, s, ctx, fullUser(id, "bjensen"+id, variant))
		}
		for variant := range 2 {
			id := fmt.Sprintf("Full-%d", variant)
			got := mustGet(t, s, ctx, id)
			checkUser(t, fmt.Sprintf("Get(%q) %s after Create", id, where(ctx)), got, fullUser(id, "bjensen"+id, variant))
		}
	}},
	{"a user with only id, userName and meta comes back with nothing else assigned", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		mustCreate(t, s, ctx, minimalUser("Min-1", "minimal"))
		checkUser(t, fmt.Sprintf("Get(%q) %s", "Min-1", where(ctx)), mustGet(t, s, ctx, "Min-1"), minimalUser("Min-1", "minimal"))
	}},
	{"Replace stores every attribute of the new user", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		created := mustCreate(t, s, ctx, fullUser("Full-1", "bjensen", 0))
		next := fullUser("Full-1", "bjensen", 1)
		next.Meta.Version = created.Meta.Version // as the handler passes it: the user it read, changed
		got := mustReplace(t, s, ctx, next, created.Meta.Version)
		call := fmt.Sprintf("Replace(%q, version %q) %s", "Full-1", created.Meta.Version, where(ctx))
		checkUser(t, call, got, fullUser("Full-1", "bjensen", 1))
		checkUser(t, fmt.Sprintf("Get(%q) after %s", "Full-1", call), mustGet(t, s, ctx, "Full-1"), fullUser("Full-1", "bjensen", 1))
		// And back: every value changes again, active goes from false to true.
		next = fullUser("Full-1", "bjensen", 0)
		mustReplace(t, s, ctx, next, "")
		checkUser(t, fmt.Sprintf("Get(%q) after a second Replace", "Full-1"), mustGet(t, s, ctx, "Full-1"), fullUser("Full-1", "bjensen", 0))
	}},
	{"Replace removes the attributes the new user leaves unassigned", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		mustCreate(t, s, ctx, fullUser("Full-1", "bjensen", 0))
		mustReplace(t, s, ctx, minimalUser("Full-1", "bjensen"), "")
		checkUser(t, fmt.Sprintf("Get(%q) after Replace by a user with only id, userName and meta", "Full-1"),
			mustGet(t, s, ctx, "Full-1"), minimalUser("Full-1", "bjensen"))
	}},
	{"users returned earlier do not change when the user is replaced or deleted", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		created := mustCreate(t, s, ctx, fullUser("Full-1", "bjensen", 0))
		createdVersion := created.Meta.Version
		read := mustGet(t, s, ctx, "Full-1")
		readVersion := read.Meta.Version
		mustReplace(t, s, ctx, fullUser("Full-1", "bjensen", 1), "")
		why := "the handler may still be encoding a user the Store returned while another request writes: " +
			"a write must store new values, never modify users already returned"
		checkUser(t, "the user Create returned, after a Replace ("+why+")", created, fullUser("Full-1", "bjensen", 0))
		checkUser(t, "the user Get returned, after a Replace ("+why+")", read, fullUser("Full-1", "bjensen", 0))
		if created.Meta.Version != createdVersion || read.Meta.Version != readVersion {
			t.Fatalf("a Replace changed Meta.Version of users returned earlier (Create's from %q to %q, Get's from %q to %q): %s",
				createdVersion, created.Meta.Version, readVersion, read.Meta.Version, why)
		}
		read = mustGet(t, s, ctx, "Full-1")
		if err := s.Delete(ctx, "Full-1", ""); err != nil {
			t.Fatalf("Delete(%q, version \"\") %s: unexpected error %v", "Full-1", where(ctx), err)
		}
		checkUser(t, "the user Get returned, after a Delete ("+why+")", read, fullUser("Full-1", "bjensen", 1))
	}},
	{"Delete removes the user from Get and List and frees its userName", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		mustCreate(t, s, ctx, minimalUser("Del-1", "deleted"))
		mustCreate(t, s, ctx, minimalUser("Keep-2", "kept"))
		if err := s.Delete(ctx, "Del-1", ""); err != nil {
			t.Fatalf("Delete(%q, version \"\") %s: unexpected error %v; want success", "Del-1", where(ctx), err)
		}
		_, err := s.Get(ctx, "Del-1")
		wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Get(%q) after Delete(%q)", "Del-1", "Del-1"), "the user was deleted")
		page := mustList(t, s, ctx, scim.Query{StartIndex: 1, Count: 100})
		if ids := idsOf(page.Users); len(ids) != 1 || ids[0] != "Keep-2" || page.TotalResults != 1 {
			t.Fatalf("List(all) after Delete(%q) = ids %q, TotalResults %d; want [Keep-2], TotalResults 1", "Del-1", ids, page.TotalResults)
		}
		again := minimalUser("Del-3", "DELETED")
		if _, err := s.Create(ctx, again); err != nil {
			t.Fatalf("Create(%s) after Delete of the user with userName \"deleted\": %v; want success: a deleted user's userName is free again", desc(minimalUser("Del-3", "DELETED")), err)
		}
	}},
	{"List returns complete users", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		mustCreate(t, s, ctx, fullUser("Full-0", "bjensen0", 0))
		mustCreate(t, s, ctx, fullUser("Full-1", "bjensen1", 1))
		mustCreate(t, s, ctx, minimalUser("Min-2", "minimal"))
		want := map[string]*scim.User{
			"Full-0": fullUser("Full-0", "bjensen0", 0), "Full-1": fullUser("Full-1", "bjensen1", 1),
			"Min-2": minimalUser("Min-2", "minimal"),
		}
		page := mustList(t, s, ctx, scim.Query{StartIndex: 1, Count: 100})
		if len(page.Users) != len(want) {
			t.Fatalf("List(all) %s returned %d users %q; want the %d created", where(ctx), len(page.Users), idsOf(page.Users), len(want))
		}
		for _, u := range page.Users {
			w := want[u.ID]
			if w == nil {
				t.Fatalf("List(all) %s returned a user with id %q; want only the users created, %q", where(ctx), u.ID, []string{"Full-0", "Full-1", "Min-2"})
			}
			checkUser(t, fmt.Sprintf("List(all) %s", where(ctx)), u, w)
		}
		for _, f := range []string{`userName eq "bjensen1"`, `emails[type eq "work"]`} {
			page := mustList(t, s, ctx, scim.Query{Filter: parse(t, f), StartIndex: 1, Count: 100})
			for _, u := range page.Users {
				if w := want[u.ID]; w != nil {
					checkUser(t, fmt.Sprintf("List(filter %s) %s", f, where(ctx)), u, w)
				}
			}
		}
	}},
}

var versionChecks = []check{
	{"Create sets Meta.Version and Get returns it", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		created := mustCreate(t, s, ctx, minimalUser("V-1", "versioned"))
		got := mustGet(t, s, ctx, "V-1")
		if got.Meta.Version != created.Meta.Version {
			t.Fatalf("Get(%q) returned Meta.Version %q; want %q, the version Create returned", "V-1", got.Meta.Version, created.Meta.Version)
		}
	}},
	{"Replace sets a new Meta.Version every time, and Get returns it", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		created := mustCreate(t, s, ctx, minimalUser("V-1", "versioned"))
		seen := []string{created.Meta.Version}
		version := created.Meta.Version
		for i := range 3 {
			u := minimalUser("V-1", "versioned")
			u.DisplayName = fmt.Sprint("change ", i)
			u.Meta.Version = version // as the handler passes it
			got := mustReplace(t, s, ctx, u, version)
			for _, old := range seen {
				if got.Meta.Version == old {
					t.Fatalf("Replace(%q, version %q) returned Meta.Version %q, which the user had before (versions so far %q); "+
						"want a new version on every write, so that clients holding an old one get ErrVersionMismatch",
						"V-1", version, got.Meta.Version, seen)
				}
			}
			if read := mustGet(t, s, ctx, "V-1"); read.Meta.Version != got.Meta.Version {
				t.Fatalf("Get(%q) after Replace returned Meta.Version %q; want %q, the version Replace returned", "V-1", read.Meta.Version, got.Meta.Version)
			}
			seen = append(seen, got.Meta.Version)
			version = got.Meta.Version
		}
	}},
	{"Replace with a stale version fails with ErrVersionMismatch and changes nothing", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		created := mustCreate(t, s, ctx, minimalUser("V-1", "versioned"))
		stale := created.Meta.Version
		current := mustReplace(t, s, ctx, minimalUser("V-1", "versioned"), stale).Meta.Version
		u := minimalUser("V-1", "versioned")
		u.DisplayName = "lost update"
		_, err := s.Replace(ctx, u, stale)
		wantErr(t, err, scim.ErrVersionMismatch, fmt.Sprintf("Replace(%q, version %q) %s", "V-1", stale, where(ctx)),
			fmt.Sprintf("the user's version is now %q", current))
		got := mustGet(t, s, ctx, "V-1")
		checkUser(t, fmt.Sprintf("Get(%q) after a Replace refused with ErrVersionMismatch", "V-1"), got, minimalUser("V-1", "versioned"))
		if got.Meta.Version != current {
			t.Fatalf("Get(%q) after a refused Replace returned Meta.Version %q; want %q, unchanged", "V-1", got.Meta.Version, current)
		}
	}},
	{"Replace with version \"\" replaces whatever the current version", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		mustCreate(t, s, ctx, minimalUser("V-1", "versioned"))
		mustReplace(t, s, ctx, minimalUser("V-1", "versioned"), "")
		u := minimalUser("V-1", "versioned")
		u.DisplayName = "unconditional"
		mustReplace(t, s, ctx, u, "")
		want := minimalUser("V-1", "versioned")
		want.DisplayName = "unconditional"
		checkUser(t, fmt.Sprintf("Get(%q) after Replace with version \"\"", "V-1"), mustGet(t, s, ctx, "V-1"), want)
	}},
	{"Delete with a stale version fails with ErrVersionMismatch and deletes nothing", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		stale := mustCreate(t, s, ctx, minimalUser("V-1", "versioned")).Meta.Version
		current := mustReplace(t, s, ctx, minimalUser("V-1", "versioned"), "").Meta.Version
		err := s.Delete(ctx, "V-1", stale)
		wantErr(t, err, scim.ErrVersionMismatch, fmt.Sprintf("Delete(%q, version %q) %s", "V-1", stale, where(ctx)),
			fmt.Sprintf("the user's version is now %q", current))
		mustGet(t, s, ctx, "V-1")
	}},
	{"Delete with the current version, or with \"\", deletes", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		v := mustCreate(t, s, ctx, minimalUser("V-1", "one")).Meta.Version
		mustCreate(t, s, ctx, minimalUser("V-2", "two"))
		mustReplace(t, s, ctx, minimalUser("V-2", "two"), "")
		if err := s.Delete(ctx, "V-1", v); err != nil {
			t.Fatalf("Delete(%q, version %q) with the current version %s: %v; want success", "V-1", v, where(ctx), err)
		}
		if err := s.Delete(ctx, "V-2", ""); err != nil {
			t.Fatalf("Delete(%q, version \"\") %s: %v; want success: \"\" deletes whatever the version", "V-2", where(ctx), err)
		}
		for _, id := range []string{"V-1", "V-2"} {
			_, err := s.Get(ctx, id)
			wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Get(%q) after Delete", id), "the user was deleted")
		}
	}},
}

var notFoundChecks = []check{
	{"Get, Replace and Delete of an unknown id fail with ErrNotFound", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		mustCreate(t, s, ctx, minimalUser("Known-1", "known"))
		for _, id := range []string{"Unknown-1", "known-1", "KNOWN-1"} { // ids are caseExact
			why := fmt.Sprintf("no user has id %q (the only user's id is \"Known-1\", and ids are compared with case)", id)
			_, err := s.Get(ctx, id)
			wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Get(%q) %s", id, where(ctx)), why)
			for _, version := range []string{"", "1", "W/\"1\""} {
				_, err = s.Replace(ctx, minimalUser(id, "someone-else"), version)
				wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Replace(%s, version %q) %s", desc(minimalUser(id, "someone-else")), version, where(ctx)), why)
				err = s.Delete(ctx, id, version)
				wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Delete(%q, version %q) %s", id, version, where(ctx)), why)
			}
		}
		page := mustList(t, s, ctx, scim.Query{StartIndex: 1, Count: 10})
		if ids := idsOf(page.Users); len(ids) != 1 || ids[0] != "Known-1" {
			t.Fatalf("List(all) after Replace of unknown ids = %q; want [Known-1]: Replace of an unknown id must not create it", ids)
		}
	}},
	{"Get, Replace and Delete of a deleted user fail with ErrNotFound", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		v := mustCreate(t, s, ctx, minimalUser("Gone-1", "gone")).Meta.Version
		if err := s.Delete(ctx, "Gone-1", ""); err != nil {
			t.Fatalf("Delete(%q) %s: %v", "Gone-1", where(ctx), err)
		}
		why := "the user was deleted"
		_, err := s.Get(ctx, "Gone-1")
		wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Get(%q) after Delete", "Gone-1"), why)
		_, err = s.Replace(ctx, minimalUser("Gone-1", "gone"), v)
		wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Replace(%q, version %q) after Delete", "Gone-1", v), why)
		_, err = s.Replace(ctx, minimalUser("Gone-1", "gone"), "")
		wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Replace(%q, version \"\") after Delete", "Gone-1"), why)
		err = s.Delete(ctx, "Gone-1", "")
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
	{"Create fails with ErrConflict when the tenant has the userName in any case, and stores nothing", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		mustCreate(t, s, ctx, minimalUser("U-1", "bjensen@example.com"))
		for i, name := range []string{"bjensen@example.com", "BJENSEN@EXAMPLE.COM", "BJensen@Example.com"} {
			u := minimalUser(fmt.Sprintf("U-dup-%d", i), name)
			_, err := s.Create(ctx, u)
			wantErr(t, err, scim.ErrConflict, fmt.Sprintf("Create(%s) %s", desc(minimalUser(fmt.Sprintf("U-dup-%d", i), name)), where(ctx)),
				`user "U-1" of the same tenant has userName "bjensen@example.com", and userNames are compared without case`)
			if _, err := s.Get(ctx, fmt.Sprintf("U-dup-%d", i)); !errors.Is(err, scim.ErrNotFound) {
				t.Fatalf("Get(%q) after its Create failed with ErrConflict = error %v; want ErrNotFound: a refused Create must store nothing", fmt.Sprintf("U-dup-%d", i), err)
			}
		}
		if page := mustList(t, s, ctx, scim.Query{StartIndex: 1, Count: 10}); page.TotalResults != 1 {
			t.Fatalf("List(all) after refused Creates = TotalResults %d, ids %q; want 1 user, U-1", page.TotalResults, idsOf(page.Users))
		}
	}},
	{"userName comparison folds non-ASCII letters too, as filter.Fold does", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		mustCreate(t, s, ctx, minimalUser("U-1", "Élodie.Ørsted@example.com"))
		_, err := s.Create(ctx, minimalUser("U-2", "élodie.ørsted@EXAMPLE.com"))
		wantErr(t, err, scim.ErrConflict, fmt.Sprintf("Create(%s) %s", desc(minimalUser("U-2", "élodie.ørsted@EXAMPLE.com")), where(ctx)),
			`user "U-1" has userName "Élodie.Ørsted@example.com": the same without case, as filter.Fold folds it; `+
				`an ASCII-only lower(), such as SQLite's, misses this`)
	}},
	{"userName uniqueness and userName eq agree with filter.Fold's key: look-alikes conflict and find each other, distinct keys do not", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
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
			mustCreate(t, s, ctx, minimalUser(id, first))
			_, err := s.Create(ctx, minimalUser(id+"-dup", second))
			wantErr(t, err, scim.ErrConflict, fmt.Sprintf("Create(%s) %s", desc(minimalUser(id+"-dup", second)), where(ctx)),
				fmt.Sprintf("user %q has userName %q, and filter.Fold gives both the key %q", id, first, filter.Fold(first)))
			for _, name := range []string{first, second} {
				page := mustList(t, s, ctx, scim.Query{Filter: parse(t, `userName eq "`+name+`"`), StartIndex: 1, Count: 10})
				if got := idsOf(page.Users); len(got) != 1 || got[0] != id {
					t.Fatalf(`List(userName eq %q) %s = ids %q; want [%q]: filters compare userName by filter.Fold's key, as uniqueness does`, name, where(ctx), got, id)
				}
			}
		}
		// Different keys: a store folding more (accents, inner spaces) would refuse the second.
		for i, pair := range [][2]string{{"resume", "résumé"}, {"admin-x", "admin x"}, {"dotless-ı", "dotless-i"}} {
			for j, name := range pair {
				id := fmt.Sprintf("D-%d-%d", i, j)
				if _, err := s.Create(ctx, minimalUser(id, name)); err != nil {
					t.Fatalf("Create(%s) %s = error %v; want success: filter.Fold keys %q and %q differ, so these are two identities",
						desc(minimalUser(id, name)), where(ctx), err, filter.Fold(pair[0]), filter.Fold(pair[1]))
				}
			}
		}
	}},
	{"Replace fails with ErrConflict when renaming onto another user's userName in another case, and changes nothing", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		mustCreate(t, s, ctx, minimalUser("U-1", "bjensen@example.com"))
		v := mustCreate(t, s, ctx, minimalUser("U-2", "jsmith@example.com")).Meta.Version
		for _, version := range []string{v, ""} {
			u := minimalUser("U-2", "BJensen@Example.COM")
			_, err := s.Replace(ctx, u, version)
			wantErr(t, err, scim.ErrConflict, fmt.Sprintf("Replace(%s, version %q) %s", desc(minimalUser("U-2", "BJensen@Example.COM")), version, where(ctx)),
				`user "U-1" of the same tenant has userName "bjensen@example.com", and userNames are compared without case`)
		}
		got := mustGet(t, s, ctx, "U-2")
		checkUser(t, fmt.Sprintf("Get(%q) after its Replace failed with ErrConflict", "U-2"), got, minimalUser("U-2", "jsmith@example.com"))
		if got.Meta.Version != v {
			t.Fatalf("Get(%q) after a refused Replace returned Meta.Version %q; want %q, unchanged", "U-2", got.Meta.Version, v)
		}
		if _, err := s.Create(ctx, minimalUser("U-3", "JSMITH@example.com")); !errors.Is(err, scim.ErrConflict) {
			t.Fatalf("Create(userName %q) after the refused rename of U-2 = error %v; want ErrConflict: U-2 still has userName \"jsmith@example.com\"", "JSMITH@example.com", err)
		}
	}},
	{"Replace may change the case of the user's own userName", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		mustCreate(t, s, ctx, minimalUser("U-1", "bjensen@example.com"))
		got := mustReplace(t, s, ctx, minimalUser("U-1", "BJensen@Example.com"), "")
		checkUser(t, fmt.Sprintf("Replace(%q) renaming to another case of its own userName", "U-1"), got, minimalUser("U-1", "BJensen@Example.com"))
		checkUser(t, fmt.Sprintf("Get(%q) after Replace renaming to another case of its own userName", "U-1"), mustGet(t, s, ctx, "U-1"), minimalUser("U-1", "BJensen@Example.com"))
		_, err := s.Create(ctx, minimalUser("U-2", "bjensen@example.com"))
		wantErr(t, err, scim.ErrConflict, fmt.Sprintf("Create(%s) after U-1 was renamed to \"BJensen@Example.com\"", desc(minimalUser("U-2", "bjensen@example.com"))),
			"the name is still taken, in another case")
	}},
	{"a userName freed by a rename can be taken, and the new one cannot", func(t *testing.T, s scim.Store) {
		ctx := inTenant(t, tenantA)
		mustCreate(t, s, ctx, minimalUser("U-1", "old@example.com"))
		mustReplace(t, s, ctx, minimalUser("U-1", "new@example.com"), "")
		if _, err := s.Create(ctx, minimalUser("U-2", "OLD@example.com")); err != nil {
			t.Fatalf("Create(userName %q) after U-1 was renamed from \"old@example.com\" to \"new@example.com\": %v; want success, the old name is free", "OLD@example.com", err)
		}
		_, err := s.Create(ctx, minimalUser("U-3", "New@Example.com"))
		wantErr(t, err, scim.ErrConflict, fmt.Sprintf("Create(%s) after U-1 was renamed to \"new@example.com\"", desc(minimalUser("U-3", "New@Example.com"))), "U-1 has that userName now")
	}},
}

var tenantChecks = []check{
	{"the same userName is allowed in another tenant", func(t *testing.T, s scim.Store) {
		a, b, none := inTenant(t, tenantA), inTenant(t, tenantB), inTenant(t, "")
		mustCreate(t, s, a, minimalUser("A-1", "bjensen@example.com"))
		if _, err := s.Create(b, minimalUser("B-1", "BJENSEN@example.com")); err != nil {
			t.Fatalf("Create(%s) %s: %v; want success: userName is unique within a tenant, and only tenant %q has it", desc(minimalUser("B-1", "BJENSEN@example.com")), where(b), err, tenantA)
		}
		if _, err := s.Create(none, minimalUser("N-1", "bjensen@example.com")); err != nil {
			t.Fatalf("Create(%s) in tenant \"\": %v; want success: \"\" is a tenant like any other", desc(minimalUser("N-1", "bjensen@example.com")), err)
		}
		_, err := s.Create(b, minimalUser("B-2", "bjensen@EXAMPLE.com"))
		wantErr(t, err, scim.ErrConflict, fmt.Sprintf("Create(%s) %s", desc(minimalUser("B-2", "bjensen@EXAMPLE.com")), where(b)), "user B-1 of this tenant has the userName")
	}},
	{"Get, Replace and Delete never reach another tenant's user", func(t *testing.T, s scim.Store) {
		a := inTenant(t, tenantA)
		v := mustCreate(t, s, a, fullUser("A-1", "bjensen@example.com", 0)).Meta.Version
		for _, tenant := range []string{tenantB, "", "SCIMTEST-A"} { // tenants are compared exactly
			ctx := inTenant(t, tenant)
			why := fmt.Sprintf("user A-1 belongs to tenant %q, and every method only sees the context's tenant", tenantA)
			_, err := s.Get(ctx, "A-1")
			wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Get(%q) %s", "A-1", where(ctx)), why)
			_, err = s.Replace(ctx, minimalUser("A-1", "hijacked"), v)
			wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Replace(%q, version %q) %s", "A-1", v, where(ctx)), why)
			_, err = s.Replace(ctx, minimalUser("A-1", "hijacked"), "")
			wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Replace(%q, version \"\") %s", "A-1", where(ctx)), why)
			err = s.Delete(ctx, "A-1", v)
			wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Delete(%q, version %q) %s", "A-1", v, where(ctx)), why)
			err = s.Delete(ctx, "A-1", "")
			wantErr(t, err, scim.ErrNotFound, fmt.Sprintf("Delete(%q, version \"\") %s", "A-1", where(ctx)), why)
		}
		got := mustGet(t, s, a, "A-1")
		checkUser(t, fmt.Sprintf("Get(%q) %s after other tenants tried to replace and delete it", "A-1", where(a)), got, fullUser("A-1", "bjensen@example.com", 0))
		if got.Meta.Version != v {
			t.Fatalf("Get(%q) %s returned Meta.Version %q after other tenants' refused writes; want %q, unchanged", "A-1", where(a), got.Meta.Version, v)
		}
	}},
	{"List only ever returns the context's tenant's users", func(t *testing.T, s scim.Store) {
		tenants := map[string][]string{tenantA: {"A-1", "A-2"}, tenantB: {"B-1"}, "": {"N-1", "N-2", "N-3"}}
		for _, tenant := range []string{tenantA, tenantB, ""} {
			for _, id := range tenants[tenant] {
				mustCreate(t, s, inTenant(t, tenant), minimalUser(id, "user-"+id[2:]))
			}
		}
		for _, tenant := range []string{tenantA, tenantB, "", "scimtest-c"} {
			ctx := inTenant(t, tenant)
			want := tenants[tenant]
			if want == nil {
				want = []string{}
			}
			for _, f := range []string{"", `userName sw "user"`, `id eq "A-1" or id eq "B-1" or id eq "N-1"`} {
				var q scim.Query
				q.StartIndex, q.Count = 1, 100
				if f != "" {
					q.Filter = parse(t, f)
				}
				page := mustList(t, s, ctx, q)
				got := idsOf(page.Users)
				wantHere := want
				if f != "" && f[0] == 'i' {
					wantHere = intersect(want, []string{"A-1", "B-1", "N-1"})
				}
				if !sameSet(got, wantHere) || page.TotalResults != len(wantHere) {
					t.Fatalf("List(%s) %s = ids %q, TotalResults %d; want ids %q, TotalResults %d: List must only see the context's tenant",
						describeQuery(q), where(ctx), got, page.TotalResults, wantHere, len(wantHere))
				}
			}
		}
	}},
}

var contextChecks = []check{
	{"every method fails when the context is cancelled, and changes nothing", func(t *testing.T, s scim.Store) {
		live := inTenant(t, tenantA)
		v := mustCreate(t, s, live, minimalUser("C-1", "cancel")).Meta.Version
		ctx, cancel := context.WithCancel(live)
		cancel()
		why := "the context was cancelled before the call: a Store passes ctx to its database, or checks ctx.Err()"
		notCanceled := func(call string, err error) {
			if !errors.Is(err, context.Canceled) {
				t.Logf("note: %s with a cancelled context returned %q; it should wrap ctx.Err() (context.Canceled)", call, err)
			}
		}
		if _, err := s.Create(ctx, minimalUser("C-2", "created-anyway")); err == nil {
			t.Errorf("Create(%s) with a cancelled context succeeded; want an error: %s", desc(minimalUser("C-2", "created-anyway")), why)
		} else {
			notCanceled("Create", err)
		}
		if _, err := s.Get(ctx, "C-1"); err == nil {
			t.Errorf("Get(%q) with a cancelled context succeeded; want an error: %s", "C-1", why)
		} else {
			notCanceled("Get", err)
		}
		if _, err := s.Replace(ctx, minimalUser("C-1", "replaced-anyway"), v); err == nil {
			t.Errorf("Replace(%q, version %q) with a cancelled context succeeded; want an error: %s", "C-1", v, why)
		} else {
			notCanceled("Replace", err)
		}
		if err := s.Delete(ctx, "C-1", v); err == nil {
			t.Errorf("Delete(%q, version %q) with a cancelled context succeeded; want an error: %s", "C-1", v, why)
		} else {
			notCanceled("Delete", err)
		}
		if _, err := s.List(ctx, scim.Query{StartIndex: 1, Count: 10}); err == nil {
			t.Errorf("List(all) with a cancelled context succeeded; want an error: %s", why)
		} else {
			notCanceled("List", err)
		}
		if cl, ok := s.(scim.CursorLister); ok {
			if _, err := cl.ListCursor(ctx, scim.Query{Count: 10}, ""); err == nil {
				t.Errorf("ListCursor(count 10, cursor \"\") with a cancelled context succeeded; want an error: %s", why)
			} else {
				notCanceled("ListCursor", err)
			}
		}
		got := mustGet(t, s, live, "C-1")
		checkUser(t, fmt.Sprintf("Get(%q) with a live context after cancelled Replace and Delete", "C-1"), got, minimalUser("C-1", "cancel"))
		if got.Meta.Version != v {
			t.Errorf("Get(%q) after a cancelled Replace returned Meta.Version %q; want %q, unchanged", "C-1", got.Meta.Version, v)
		}
		if _, err := s.Get(live, "C-2"); !errors.Is(err, scim.ErrNotFound) {
			t.Errorf("Get(%q) after its Create with a cancelled context = error %v; want ErrNotFound: a failed Create stores nothing", "C-2", err)
		}
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
