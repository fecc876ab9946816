package scimtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
)

// cursorLister returns s as a scim.CursorLister, or skips the test: cursor pagination is optional.
func cursorLister(t *testing.T, s scim.Store) scim.CursorLister {
	t.Helper()
	cl, ok := s.(scim.CursorLister)
	if !ok {
		t.Skipf("the Store (%T) does not implement scim.CursorLister, the optional cursor pagination (RFC 9865): not checked", s)
	}
	return cl
}

func describeCursor(q scim.Query, cursor string) string {
	f := ""
	if q.Filter != nil {
		f = "filter " + filter.String(q.Filter) + ", "
	}
	return fmt.Sprintf("ListCursor(%scount %d, cursor %q)", f, q.Count, cursor)
}

// walk pages through q with ListCursor from the first page until NextCursor is "", calling between (if
// set) after every page that has a next one. It returns the ids in the order the pages gave them. When
// total is not negative every page must report it as TotalResults, and the page that brings the users
// seen to total must be the last.
func walk(t *testing.T, k *kit, cl scim.CursorLister, ctx context.Context, q scim.Query, total int, between func(page int, seen []string)) []string {
	t.Helper()
	var seen []string
	cursor := ""
	for n := 1; ; n++ {
		if n > 2*popCount+4 {
			t.Fatalf("%s %s: still a NextCursor after %d pages of %d, having returned ids %q; want NextCursor \"\" once every match was returned",
				describeCursor(q, cursor), where(ctx), n-1, q.Count, seen)
		}
		call := fmt.Sprintf("%s %s (page %d)", describeCursor(q, cursor), where(ctx), n)
		page, err := cl.ListCursor(ctx, q, cursor)
		if err != nil {
			t.Fatalf("%s: unexpected error %v", call, err)
		}
		if page == nil {
			t.Fatalf("%s returned a nil Page and no error", call)
		}
		ids := k.names(ctx, page.Users)
		if len(ids) > q.Count {
			t.Fatalf("%s returned %d users %q; want at most count, %d", call, len(ids), ids, q.Count)
		}
		if total >= 0 && page.TotalResults != total {
			t.Fatalf("%s returned TotalResults %d; want %d, the number of matches, on every page", call, page.TotalResults, total)
		}
		seen = append(seen, ids...)
		if page.NextCursor == "" {
			return seen
		}
		if len(ids) == 0 {
			t.Fatalf("%s returned no users but NextCursor %q; want NextCursor \"\" when there is nothing more", call, page.NextCursor)
		}
		if total >= 0 && len(seen) >= total {
			t.Fatalf("%s returned the last of the %d matches (ids so far %q) with NextCursor %q; want NextCursor \"\" on the last page",
				call, total, seen, page.NextCursor)
		}
		if between != nil {
			between(n, slices.Clone(seen))
		}
		cursor = page.NextCursor
	}
}

var cursorChecks = []check{
	{"ListCursor pages of 3 return every user once, in List order, with NextCursor \"\" on the last page", func(t *testing.T, k *kit) {
		cl := cursorLister(t, k.s)
		p := populate(t, k)
		for _, f := range []string{"", `emails pr`, `active eq true`, `userName eq "nobody"`, `emails[type eq "work"] or externalId pr`} {
			q := scim.Query{Count: 3}
			lq := all(nil)
			if f != "" {
				e, ok := k.parse(t, f)
				if !ok {
					continue // undeclared
				}
				q.Filter, lq.Filter = e, e
			}
			want := p.names(scim.ApplyQuery(p.order, lq).Users)
			got := walk(t, k, cl, p.ctx, q, len(want), nil)
			if !slices.Equal(got, want) {
				t.Errorf("ListCursor pages of %d (filter %q) %s joined = ids %q; want %q, every match once, in the order List gives them",
					q.Count, f, where(p.ctx), got, want)
			}
		}
		// Pages of 1 and of the whole result.
		for _, count := range []int{1, popCount, popCount + 1} {
			want := p.names(p.order)
			if got := walk(t, k, cl, p.ctx, scim.Query{Count: count}, popCount, nil); !slices.Equal(got, want) {
				t.Errorf("ListCursor pages of %d %s joined = ids %q; want %q, every user once, in List order", count, where(p.ctx), got, want)
			}
		}
	}},
	{"ListCursor rejects a cursor it did not make with ErrInvalidCursor", func(t *testing.T, k *kit) {
		cl := cursorLister(t, k.s)
		p := populate(t, k)
		for _, c := range []string{"not-a-cursor", "%%%", strings.Repeat("Z", 40), "\x00"} {
			_, err := cl.ListCursor(p.ctx, scim.Query{Count: 3}, c)
			wantErr(t, err, scim.ErrInvalidCursor, describeCursor(scim.Query{Count: 3}, c)+" "+where(p.ctx),
				"the Store never made that cursor (the handler answers 400 invalidCursor)")
		}
	}},
	{"a cursor made in one tenant reveals nothing of another", func(t *testing.T, k *kit) {
		cl := cursorLister(t, k.s)
		p := populate(t, k)
		q := scim.Query{Count: 3}
		page, err := cl.ListCursor(p.ctx, q, "")
		if err != nil || page == nil || page.NextCursor == "" {
			t.Fatalf("%s %s = page %v, error %v; want a first page with a NextCursor", describeCursor(q, ""), where(p.ctx), page, err)
		}
		b := inTenant(t, k.tenantB)
		other, err := cl.ListCursor(b, q, page.NextCursor)
		if err != nil {
			if !errors.Is(err, scim.ErrInvalidCursor) {
				t.Fatalf("%s %s, with a cursor made %s: error %q; want a page of this tenant's users, or an error that errors.Is scim.ErrInvalidCursor",
					describeCursor(q, page.NextCursor), where(b), where(p.ctx), err)
			}
			return
		}
		for _, id := range k.names(b, other.Users) {
			if !strings.HasPrefix(id, "b-") {
				t.Fatalf("%s %s, with a cursor made %s, returned user %q; want only users of %q (or ErrInvalidCursor)",
					describeCursor(q, page.NextCursor), where(b), where(p.ctx), id, k.tenantB)
			}
		}
	}},
	{"ListCursor pages stay correct while users are created, replaced and deleted between them", func(t *testing.T, k *kit) {
		cl := cursorLister(t, k.s)
		p := populate(t, k)
		full := p.names(p.order)
		deleted := map[string]bool{}
		var created, gone []string // gone: deleted before any page returned them
		seenSoFar := []string{}
		del := func(id string) {
			if err := k.s.Delete(p.ctx, k.id(id), ""); err != nil {
				t.Fatalf("Delete(%q) %s between cursor pages: %v", id, where(p.ctx), err)
			}
			deleted[id] = true
			if !slices.Contains(seenSoFar, id) {
				gone = append(gone, id)
			}
		}
		replace := func(id string) {
			u := k.fixture(id)
			u.DisplayName = "replaced between pages"
			u = k.declared(u) // without displayName if undeclared
			k.replace(t, p.ctx, u, "")
		}
		var log []string
		between := func(page int, seen []string) {
			seenSoFar = seen
			switch page {
			case 1:
				// The user the cursor points after, an unseen one, and a new one.
				last := seen[len(seen)-1]
				del(last)
				unseen := minus(full, seen)
				del(unseen[len(unseen)/2])
				replace(unseen[0])
				replace(seen[0])
				k.create(t, p.ctx, k.minimalUser("New-1", "new.one@example.com"))
				created = append(created, "New-1")
				log = append(log, fmt.Sprintf("after page 1: deleted %q and %q, replaced %q and %q, created New-1",
					last, unseen[len(unseen)/2], unseen[0], seen[0]))
			case 2:
				unseen := minus(minus(full, seen), keys(deleted))
				del(unseen[len(unseen)-1])
				replace(seen[len(seen)-1])
				k.create(t, p.ctx, k.minimalUser("New-2", "new.two@example.com"))
				created = append(created, "New-2")
				log = append(log, fmt.Sprintf("after page 2: deleted %q, replaced %q, created New-2", unseen[len(unseen)-1], seen[len(seen)-1]))
			}
		}
		got := walk(t, k, cl, p.ctx, scim.Query{Count: 3}, -1, between)
		call := fmt.Sprintf("ListCursor pages of 3 %s (%s)", where(p.ctx), strings.Join(log, "; "))
		for i, id := range got {
			if slices.Contains(got[:i], id) {
				t.Errorf("%s returned user %q twice: ids %q; want every user at most once", call, id, got)
			}
		}
		for _, id := range full {
			if !deleted[id] && !slices.Contains(got, id) {
				t.Errorf("%s skipped user %q, which existed throughout: ids %q; want every user that existed throughout", call, id, got)
			}
		}
		for _, id := range gone {
			if slices.Contains(got, id) {
				t.Errorf("%s returned user %q on a page read after the user was deleted: ids %q", call, id, got)
			}
		}
		for _, id := range got {
			if !slices.Contains(full, id) && !slices.Contains(created, id) {
				t.Errorf("%s returned user %q, which the tenant never had", call, id)
			}
		}
	}},
}

func keys(m map[string]bool) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}
