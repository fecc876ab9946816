package scimtest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/scimkit/scim"
)

// parallel is how many goroutines race for one userName or one version.
const parallel = 64

// race runs f(0..n-1) in n goroutines released at once and returns their errors by index.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner checks that exactly one of errs is nil and every other errors.Is one of losing, and returns the
// winner's index.
func oneWinner(t *testing.T, errs []error, what string, losing ...error) int {
	t.Helper()
	winner := -1
	var winners []int
	var bad []string
	for i, err := range errs {
		switch {
		case err == nil:
			winners = append(winners, i)
			winner = i
		case !slices.ContainsFunc(losing, func(l error) bool { return errors.Is(err, l) }):
			bad = append(bad, fmt.Sprintf("#%d: %q", i, err))
		}
	}
	names := make([]string, len(losing))
	for i, l := range losing {
		names[i] = sentinel(l)
	}
	if len(bad) > 0 {
		t.Errorf("%d parallel %s: %d failed with errors other than %s: %s", len(errs), what, len(bad), strings.Join(names, " or "), strings.Join(bad, "; "))
	}
	if len(winners) != 1 {
		t.Fatalf("%d parallel %s: %d succeeded (goroutines %v); want exactly one, the others failing with %s: the Store must "+
			"enforce this atomically (a unique index, a transaction, a compare-and-swap on the version), not check then write",
			len(errs), what, len(winners), winners, strings.Join(names, " or "))
	}
	return winner
}

var concurrencyChecks = []check{
	{"64 parallel Creates of one userName in different cases: exactly one succeeds, the others get ErrConflict", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		const name = "concurrent.user@example.com"
		errs := race(parallel, func(i int) error {
			got, err := k.s.Create(ctx, k.minimalUser(fmt.Sprintf("C-%02d", i), caseVariant(name, i)))
			if err == nil {
				k.record(ctx, fmt.Sprintf("C-%02d", i), got)
			}
			return err
		})
		w := oneWinner(t, errs, fmt.Sprintf("Creates of userName %q in %d spellings %s", name, parallel, where(ctx)), scim.ErrConflict)
		page := mustList(t, k.s, ctx, all(k.mustParse(t, `userName eq "`+name+`"`)))
		if ids := k.names(ctx, page.Users); len(ids) != 1 || ids[0] != fmt.Sprintf("C-%02d", w) {
			t.Fatalf("List(filter userName eq %q) after the race = ids %q; want only the winner, C-%02d", name, ids, w)
		}
		if page := mustList(t, k.s, ctx, all(nil)); page.TotalResults != 1 {
			t.Fatalf("List(all) after the race = TotalResults %d, ids %q; want 1: a refused Create stores nothing", page.TotalResults, k.names(ctx, page.Users))
		}
	}},
	{"parallel Creates of different userNames all succeed", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		errs := race(parallel, func(i int) error {
			_, err := k.s.Create(ctx, k.minimalUser(fmt.Sprintf("D-%02d", i), fmt.Sprintf("distinct%02d@example.com", i)))
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("Create(userName %q) racing %d Creates of other userNames %s: %v; want success", fmt.Sprintf("distinct%02d@example.com", i), parallel-1, where(ctx), err)
			}
		}
		if page := mustList(t, k.s, ctx, all(nil)); page.TotalResults != parallel || len(page.Users) != parallel {
			t.Fatalf("List(all) after %d parallel Creates = %d users, TotalResults %d; want %d", parallel, len(page.Users), page.TotalResults, parallel)
		}
	}},
	{"64 parallel Replaces with the same version: exactly one succeeds, the others get ErrVersionMismatch", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		v := k.create(t, ctx, k.minimalUser("R-1", "racer")).Meta.Version
		results := make([]*scim.User, parallel)
		errs := race(parallel, func(i int) error {
			u := k.minimalUser("R-1", fmt.Sprintf("writer-%02d", i)) // userName: the one attribute every declaration has
			u.Meta.Version = v
			var err error
			results[i], err = k.s.Replace(ctx, k.mine(u), v)
			return err
		})
		w := oneWinner(t, errs, fmt.Sprintf("Replaces of user R-1 with version %q %s", v, where(ctx)), scim.ErrVersionMismatch)
		got := k.get(t, ctx, "R-1")
		if got.UserName != fmt.Sprintf("writer-%02d", w) || got.Meta.Version != results[w].Meta.Version {
			t.Fatalf("Get(%q) after the race = userName %q, version %q; want the winner's, %q and %q", "R-1",
				got.UserName, got.Meta.Version, fmt.Sprintf("writer-%02d", w), results[w].Meta.Version)
		}
	}},
	{"64 parallel Replaces renaming different users to one userName: exactly one succeeds, the others get ErrConflict", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		for i := range parallel {
			k.create(t, ctx, k.minimalUser(fmt.Sprintf("N-%02d", i), fmt.Sprintf("name%02d", i)))
		}
		const name = "wanted.name@example.com"
		errs := race(parallel, func(i int) error {
			_, err := k.s.Replace(ctx, k.mine(k.minimalUser(fmt.Sprintf("N-%02d", i), caseVariant(name, i))), "")
			return err
		})
		w := oneWinner(t, errs, fmt.Sprintf("Replaces renaming users N-00..N-%02d to userName %q in %d spellings %s", parallel-1, name, parallel, where(ctx)), scim.ErrConflict)
		page := mustList(t, k.s, ctx, all(k.mustParse(t, `userName eq "`+name+`"`)))
		if ids := k.names(ctx, page.Users); len(ids) != 1 || ids[0] != fmt.Sprintf("N-%02d", w) {
			t.Fatalf("List(filter userName eq %q) after the race = ids %q; want only the winner, N-%02d", name, ids, w)
		}
	}},
	{"parallel Deletes with the same version: exactly one succeeds", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		v := k.create(t, ctx, k.minimalUser("X-1", "deleted")).Meta.Version
		errs := race(parallel, func(int) error { return k.s.Delete(ctx, k.id("X-1"), v) })
		oneWinner(t, errs, fmt.Sprintf("Deletes of user X-1 with version %q %s", v, where(ctx)), scim.ErrNotFound, scim.ErrVersionMismatch)
	}},
	{"List, ListCursor and Get answer correctly while users are written", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		const writers, readers, rounds = 4, 4, 40
		s := k.s
		cl, _ := s.(scim.CursorLister)
		var mu sync.Mutex
		var problems []string
		report := func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			if len(problems) < 20 {
				problems = append(problems, fmt.Sprintf(format, args...))
			}
		}
		live := make([][]string, writers) // each writer's users still there at the end
		done := make(chan struct{})
		var wg, wwg sync.WaitGroup
		for w := range writers {
			wwg.Go(func() {
				for i := range rounds {
					id := fmt.Sprintf("W-%d-%02d", w, i)
					u := k.minimalUser(id, fmt.Sprintf("w%d.%02d@example.com", w, i))
					created, err := s.Create(ctx, u)
					if err != nil {
						report("Create(%q): %v", id, err)
						continue
					}
					k.record(ctx, id, created)
					next := k.minimalUser(created.ID, fmt.Sprintf("W%d.%02d@example.com", w, i))
					if _, err := s.Replace(ctx, next, created.Meta.Version); err != nil {
						report("Replace(%q, version %q) by its only writer: %v", id, created.Meta.Version, err)
					}
					if i%2 == 1 {
						if err := s.Delete(ctx, created.ID, ""); err != nil {
							report("Delete(%q): %v", id, err)
							continue
						}
					} else {
						live[w] = append(live[w], id)
					}
				}
			})
		}
		f, ok := k.parse(t, `userName sw "w" and displayName ne "nobody"`)
		if !ok {
			f = k.mustParse(t, `userName sw "w" and not (userName eq "nobody")`)
		}
		byName, _ := k.path("userName")
		for r := range readers {
			wg.Go(func() {
				for n := 0; ; n++ {
					select {
					case <-done:
						return
					default:
					}
					q := scim.Query{Filter: f, StartIndex: 1 + n%3, Count: 5}
					if r%2 == 1 {
						q.SortBy, q.Descending = byName, n%2 == 0
					}
					page, err := s.List(ctx, q)
					switch {
					case err != nil:
						report("List(%s): %v", describeQuery(q), err)
					case page == nil:
						report("List(%s) returned a nil Page", describeQuery(q))
					case len(page.Users) > q.Count || page.TotalResults < len(page.Users) || slices.Contains(page.Users, nil):
						report("List(%s) = %d users %q, TotalResults %d: more than count, more than TotalResults, or a nil user",
							describeQuery(q), len(page.Users), idsOf(page.Users), page.TotalResults)
					}
					id := k.id(fmt.Sprintf("W-%d-%02d", n%writers, n%rounds))
					if u, err := s.Get(ctx, id); err != nil && !errors.Is(err, scim.ErrNotFound) {
						report("Get(%q): %v; want the user or ErrNotFound", id, err)
					} else if err == nil && (u == nil || u.ID != id) {
						report("Get(%q) returned %v", id, u)
					}
					if cl != nil && r == 0 {
						cursor := ""
						for range 2 * writers * rounds {
							page, err := cl.ListCursor(ctx, scim.Query{Filter: f, Count: 7}, cursor)
							if err != nil {
								report("ListCursor(count 7, cursor %q): %v", cursor, err)
								break
							}
							if cursor = page.NextCursor; cursor == "" {
								break
							}
						}
					}
				}
			})
		}
		wwg.Wait()
		close(done)
		wg.Wait()
		if len(problems) > 0 {
			t.Fatalf("while %d goroutines created, replaced and deleted users %s and %d listed and read them:\n\t%s",
				writers, where(ctx), readers, strings.Join(problems, "\n\t"))
		}
		var want []string
		for _, ids := range live {
			want = append(want, ids...)
		}
		got := k.names(ctx, mustList(t, s, ctx, all(nil)).Users)
		if !sameSet(got, want) || len(got) != len(want) {
			t.Fatalf("List(all) %s after the concurrent writes = ids %q; want %q (missing %q, unexpected %q)",
				where(ctx), got, want, minus(want, got), minus(got, want))
		}
	}},
}
