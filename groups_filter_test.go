package scim_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// Filters on the users' groups answered alike by every store of the matrix: memstore answers them from
// its membership index (a scim.GroupFilterer), the slice store's List is a Collector that sees no groups, so
// the handler answers them through the GroupStore. Both under the docs' declaration, which does not list
// groups.
func TestGroupFiltersEveryStore(t *testing.T) {
	groupStores(t, func(t *testing.T, k groupKind) {
		s, _ := k.serve(t, scim.WithUserSchema(entraOnly))
		ids := map[string]string{}
		for i := range 6 {
			ids[fmt.Sprintf("u%d", i)] = s.createUser(fmt.Sprintf("u%d@x", i))
		}
		members := func(names ...string) string {
			var ms []string
			for _, n := range names {
				ms = append(ms, `{"value":"`+ids[n]+`"}`)
			}
			return strings.Join(ms, ",")
		}
		g1 := s.createGroup(`{"displayName":"One","members":[` + members("u0", "u1", "u2") + `]}`)
		g2 := s.createGroup(`{"displayName":"Two","members":[` + members("u2", "u3") + `]}`)
		for _, c := range []struct {
			filter string
			want   []string
		}{
			{`groups.value eq "` + g1 + `"`, []string{"u0", "u1", "u2"}},
			{`groups eq "` + g2 + `"`, []string{"u2", "u3"}},
			{`groups[value eq "` + g1 + `"]`, []string{"u0", "u1", "u2"}},
			{`groups.value eq "no-such-group"`, nil},
			{`groups pr`, []string{"u0", "u1", "u2", "u3"}},
			{`groups.value pr`, []string{"u0", "u1", "u2", "u3"}},
			{`not (groups pr)`, []string{"u4", "u5"}},
			{`groups.value eq "` + g1 + `" and groups.value eq "` + g2 + `"`, []string{"u2"}},
			{`groups.value eq "` + g1 + `" or groups.value eq "` + g2 + `"`, []string{"u0", "u1", "u2", "u3"}},
			{`groups.value eq "` + g1 + `" and userName sw "u1"`, []string{"u1"}},
			{`userName sw "u1" and groups.value eq "` + g1 + `"`, []string{"u1"}},
			{`not (groups.value eq "` + g1 + `") and userName sw "u"`, []string{"u3", "u4", "u5"}},
			{`groups.display eq "two"`, []string{"u2", "u3"}},
			{`groups[display sw "o" and value eq "` + g1 + `"]`, []string{"u0", "u1", "u2"}},
			{`userName eq "u4@x" or groups pr`, []string{"u0", "u1", "u2", "u3", "u4"}},
			{`not (groups pr) and userName eq "u5@x"`, []string{"u5"}},
			{`not (groups pr or userName eq "u5@x")`, []string{"u4"}},
			{`groups pr and not (groups.value eq "` + g2 + `")`, []string{"u0", "u1"}},
		} {
			r := s.do("GET", "/Users?filter="+url.QueryEscape(c.filter), "")
			require.Equal(t, 200, r.Status, "%s: %s", c.filter, r.Raw)
			var want []string
			for _, n := range c.want {
				want = append(want, n+"@x")
			}
			got := userNames(t, r.Body)
			slices.Sort(got)
			require.Equal(t, append([]string{}, want...), got, c.filter)
			require.Equal(t, float64(len(want)), r.Body["totalResults"], c.filter)

			// POST /.search at the root answers it alike (users first; no group has a userName).
			r = s.do("POST", "/.search", fmt.Sprintf(`{"filter":%q}`, c.filter))
			require.Equal(t, 200, r.Status, "%s: %s", c.filter, r.Raw)
			got = userNames(t, r.Body)
			slices.Sort(got)
			require.Equal(t, append([]string{}, want...), got, "POST /.search "+c.filter)
		}

		// Sorted: by userName, and by the groups' display names (each user's first value).
		r := s.do("GET", "/Users?filter="+url.QueryEscape(`groups pr`)+"&sortBy=userName&sortOrder=descending&count=3", "")
		require.Equal(t, []string{"u3@x", "u2@x", "u1@x"}, userNames(t, r.Body))
		require.Equal(t, 4.0, r.Body["totalResults"])
		r = s.do("GET", "/Users?filter="+url.QueryEscape(`userName sw "u"`)+"&sortBy=groups.display", "")
		require.Equal(t, 200, r.Status, "%s", r.Raw)
		require.Equal(t, 6.0, r.Body["totalResults"])
		require.Equal(t, []string{"One", "One", "One", "Two"}, func() []string {
			var out []string
			for _, u := range resources(t, r.Body)[:4] {
				out = append(out, asList(u["groups"])[0]["display"].(string))
			}
			return out
		}(), "users in a group first, by their first group's display")

		// The groups attribute is served under the declaration that does not list it.
		u := s.get(ids["u2"])
		require.Len(t, asList(u["groups"]), 2)
		require.Equal(t, g1, asList(u["groups"])[0]["value"])
	})
}

// TestMemberPaging pages a group of many members as docs/groups.md recommends, under the README's
// declaration (no groups listed): every member once, totalResults exact on every page.
func TestMemberPaging(t *testing.T) {
	groupStores(t, func(t *testing.T, k groupKind) {
		s, store := k.serve(t, scim.WithUserSchema(entraOnly), scim.WithLimits(scim.Limits{MaxMembersReturned: 10}))
		ctx := single()
		var want []string
		for i := range 45 {
			u, err := store.Create(ctx, &scim.User{ID: fmt.Sprintf("pm-%02d", i), UserName: fmt.Sprintf("pm%02d@x", i)})
			require.NoError(t, err)
			want = append(want, u.ID)
		}
		s.createUser("outsider@x")
		g := s.createGroup(`{"displayName":"Many"}`)
		require.Equal(t, 204, s.do("PATCH", "/Groups/"+g, patchOp(memberOps("add", want...))).Status)

		var got []string
		for start := 1; start <= 45; start += 10 {
			r := s.do("GET", enc(`/Users?filter=groups.value eq "`+g+`"`)+fmt.Sprintf("&startIndex=%d&count=10", start), "")
			require.Equal(t, 200, r.Status, "%s", r.Raw)
			require.Equal(t, 45.0, r.Body["totalResults"], "startIndex %d", start)
			require.Equal(t, float64(min(10, 46-start)), r.Body["itemsPerPage"], "startIndex %d", start)
			for _, u := range resources(t, r.Body) {
				got = append(got, u["id"].(string))
			}
		}
		slices.Sort(got)
		require.Equal(t, want, got, "every member once")

		r := s.do("GET", enc(`/Users?filter=groups.value eq "`+g+`"`)+"&count=0", "")
		require.Equal(t, 45.0, r.Body["totalResults"])
		require.Empty(t, resources(t, r.Body))
		r = s.do("GET", enc(`/Users?filter=groups.value eq "`+g+`"`)+"&startIndex=46", "")
		require.Equal(t, 45.0, r.Body["totalResults"])
		require.Empty(t, resources(t, r.Body))
	})
}

// TestGroupFiltersBounded: a groups filter that needs users examined one by one holds to Limits.MaxScan (400
// tooMany past it) on every store, while a group's members alone page from the membership index whatever
// their number.
func TestGroupFiltersBounded(t *testing.T) {
	groupStores(t, func(t *testing.T, k groupKind) {
		s, _ := k.serve(t, scim.WithLimits(scim.Limits{MaxScan: 5}))
		var ids []string
		for i := range 8 {
			ids = append(ids, s.createUser(fmt.Sprintf("b%d@x", i)))
		}
		g := s.createGroup(`{"displayName":"Seven"}`)
		require.Equal(t, 204, s.do("PATCH", "/Groups/"+g, patchOp(memberOps("add", ids[:7]...))).Status)
		small := s.createGroup(`{"displayName":"Two","members":[{"value":"` + ids[0] + `"},{"value":"` + ids[7] + `"}]}`)

		r := s.do("GET", enc(`/Users?filter=groups.value eq "`+g+`"&count=3`), "")
		require.Equal(t, 200, r.Status, "%s", r.Raw)
		require.Equal(t, 7.0, r.Body["totalResults"])

		for _, f := range []string{
			`not (groups pr)`,
			`groups pr`,
			`groups.display eq "Seven"`,
			`groups.value eq "` + g + `" and userName sw "b"`,
		} {
			requireError(t, s.do("GET", "/Users?filter="+url.QueryEscape(f), ""), 400, "tooMany")
			requireError(t, s.do("POST", "/.search", fmt.Sprintf(`{"filter":%q}`, f)), 400, "tooMany")
		}
		// A small group's members are few enough to examine.
		r = s.do("GET", "/Users?filter="+url.QueryEscape(`groups.value eq "`+small+`" and userName eq "b7@x"`), "")
		require.Equal(t, 200, r.Status, "%s", r.Raw)
		require.Equal(t, []string{"b7@x"}, userNames(t, r.Body))
	})
}

// TestGroupFiltersCursor: cursor pages of a groups filter on a Store that answers it (memstore); a clear
// 400 where the handler would have to answer it (the slice store), never a wrong page.
func TestGroupFiltersCursor(t *testing.T) {
	groupStores(t, func(t *testing.T, k groupKind) {
		s := serveStoreAt(t, k.open(t)) // unwrapped: the counting wrapper has no cursors
		var ids []string
		for i := range 5 {
			ids = append(ids, s.createUser(fmt.Sprintf("c%d@x", i)))
		}
		g := s.createGroup(`{"displayName":"G","members":[{"value":"` + ids[1] + `"},{"value":"` + ids[3] + `"},{"value":"` + ids[4] + `"}]}`)
		path := enc(`/Users?filter=groups.value eq "`+g+`"`) + "&count=2&cursor="
		if k.name == "slice" {
			requireError(t, s.do("GET", path, ""), 400, "invalidValue")
			return
		}
		var names []string
		cursor := ""
		for range 5 {
			r := s.do("GET", path+url.QueryEscape(cursor), "")
			require.Equal(t, 200, r.Status, "%s", r.Raw)
			require.Equal(t, 3.0, r.Body["totalResults"])
			names = append(names, userNames(t, r.Body)...)
			next, ok := r.Body["nextCursor"].(string)
			if !ok {
				break
			}
			cursor = next
		}
		require.Equal(t, []string{"c1@x", "c3@x", "c4@x"}, names)
		r := s.do("GET", "/Users?filter="+url.QueryEscape(`not (groups pr)`)+"&count=10&cursor=", "")
		require.Equal(t, []string{"c0@x", "c2@x"}, userNames(t, r.Body))
	})
}

// TestUserDeletionGroupEvents: deleting a user reports, besides UserDeleted, a GroupMembersRemoved for each
// group it was in, with the group's new version: a hook that mirrors teams sees the member go.
func TestUserDeletionGroupEvents(t *testing.T) {
	groupStores(t, func(t *testing.T, k groupKind) {
		log := newEventLog()
		s, _ := k.serve(t, scim.WithEvents(log.hook))
		u1, u2 := s.createUser("a@x"), s.createUser("b@x")
		g1 := s.createGroup(`{"displayName":"G1","members":[{"value":"` + u1 + `"},{"value":"` + u2 + `"}]}`)
		g2 := s.createGroup(`{"displayName":"G2","members":[{"value":"` + u1 + `"}]}`)
		g3 := s.createGroup(`{"displayName":"G3","members":[{"value":"` + u2 + `"}]}`)
		for range 5 {
			log.next(t)
		}
		require.Equal(t, 204, s.do("DELETE", "/Users/"+u1, "").Status)
		// Different resources' events are delivered in parallel: wait for three, then look at them.
		got := log.wait(t, 3)
		slices.SortStableFunc(got, func(a, b scim.Event) int { return strings.Compare(a.Resource, b.Resource) }) // Group, Group, User
		got = append(got[2:], got[:2]...)
		require.Equal(t, scim.UserDeleted, got[0].Type)
		require.Equal(t, u1, got[0].UserID)
		removed := map[string]scim.Event{}
		for _, e := range got[1:] {
			require.Equal(t, scim.GroupMembersRemoved, e.Type)
			require.Equal(t, "Group", e.Resource)
			require.Equal(t, []string{u1}, e.Removed)
			removed[e.GroupID] = e
		}
		require.ElementsMatch(t, []string{g1, g2}, []string{got[1].GroupID, got[2].GroupID}, "G3 never had the user")
		for _, g := range []string{g1, g2} {
			etag := s.do("GET", "/Groups/"+g, "").Header.Get("ETag")
			require.Equal(t, `W/"`+removed[g].Version+`"`, etag, "the event carries the version the deletion made")
			require.NotNil(t, removed[g].Group)
		}
		require.Equal(t, "G1", removed[g1].Group.DisplayName)
		_ = g3

		// A user in no group: its deletion alone.
		u3 := s.createUser("c@x")
		log.next(t)
		require.Equal(t, 204, s.do("DELETE", "/Users/"+u3, "").Status)
		require.Equal(t, scim.UserDeleted, log.next(t).Type)
		log.none(t)

		// With If-Match too.
		r := s.do("GET", "/Users/"+u2, "")
		require.Equal(t, 204, s.do("DELETE", "/Users/"+u2, "", "If-Match", r.Header.Get("ETag")).Status)
		var types []scim.EventType
		for _, e := range log.wait(t, 3) {
			types = append(types, e.Type)
		}
		require.ElementsMatch(t, []scim.EventType{scim.UserDeleted, scim.GroupMembersRemoved, scim.GroupMembersRemoved}, types)
	})
}

// wait waits for n more events and returns the last n delivered, in delivery order, and checks that no
// other follows.
func (l *eventLog) wait(t *testing.T, n int) []scim.Event {
	t.Helper()
	for range n {
		select {
		case <-l.ch:
		case <-time.After(5 * time.Second):
			t.Fatal("no event delivered")
		}
	}
	l.none(t)
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events[len(l.events)-n:])
}
