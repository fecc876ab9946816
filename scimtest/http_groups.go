package scimtest

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// Conformance of the users' groups attribute (RFC 7643 §4.1.2) when the Store keeps groups: filters on it
// are answered from the memberships, whether the Store's List answers them (a scim.GroupFilterer) or the
// handler does through the GroupStore. Skipped for a Store that is no scim.GroupStore.

var groupReqs = []requirement{
	{"RFC7643 §4.1.2", "LIB", "GroupMemberPaging",
		"a group's members page as users: `groups.value eq \"<id>\"` with `startIndex` and `count` returns every member once " +
			"over the pages and the exact `totalResults` on each (when the Store keeps groups)",
		checkGroupMemberPaging},
	{"RFC7643 §4.1.2", "LIB", "GroupFilters",
		"filters on `groups` select by membership: `groups pr`, `not (groups pr)`, `groups.display`, and with other terms " +
			"through `and`, `or` and `not` (when the Store keeps groups)",
		checkGroupFilters},
}

// confGroup creates a group with the members (user ids) and returns its id; it skips the test when the
// Store keeps no groups.
func confGroup(t *testing.T, s *server, name string, members ...string) string {
	t.Helper()
	if _, ok := s.Store.(scim.GroupStore); !ok {
		t.Skip("the Store is not a scim.GroupStore")
	}
	ms := make([]string, len(members))
	for i, m := range members {
		ms[i] = `{"value":` + confJSON(m) + `}`
	}
	r := s.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":`+confJSON(name)+
		`,"members":[`+strings.Join(ms, ",")+`]}`)
	require.Equal(t, 201, r.Status, "%s", r.Raw)
	return r.Body["id"].(string)
}

// checkGroupMemberPaging checks RFC7643 §4.1.2 LIB: a group's members page as users: `groups.value eq "<id>"` with `startIndex` and `count` returns every member once over the pages and the exact `totalResults` on each (when the Store keeps groups).
func checkGroupMemberPaging(t *testing.T, s *server) {
	if _, ok := s.Store.(scim.GroupStore); !ok {
		t.Skip("the Store is not a scim.GroupStore")
	}
	var members []string
	for i := range 23 {
		members = append(members, s.user(fmt.Sprintf("member%02d@example.com", i)))
	}
	s.user("outsider@example.com")
	g := confGroup(t, s, "Paged", members...)
	confGroup(t, s, "Other", members[0], members[5])
	f := "filter=" + url.QueryEscape(`groups.value eq "`+g+`"`)
	var got []string
	for start := 1; start <= 23; start += 5 {
		page := s.list(f + fmt.Sprintf("&startIndex=%d&count=5", start))
		require.Equal(t, 23.0, page["totalResults"], "startIndex %d", start)
		require.Equal(t, float64(min(5, 24-start)), page["itemsPerPage"], "startIndex %d", start)
		require.Equal(t, float64(start), page["startIndex"])
		for _, u := range confResources(t, page) {
			got = append(got, u["id"].(string))
		}
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(members))
	require.Equal(t, want, got, "every member once, no one else")
	page := s.list(f + "&count=0")
	require.Equal(t, 23.0, page["totalResults"])
	require.Empty(t, confResources(t, page))
	// The same pages through POST /Users/.search.
	r := s.do("POST", "/Users/.search", confJSON(map[string]any{"filter": `groups eq "` + g + `"`, "startIndex": 21, "count": 5}))
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.Equal(t, 23.0, r.Body["totalResults"])
	require.Len(t, confResources(t, r.Body), 3)
}

// checkGroupFilters checks RFC7643 §4.1.2 LIB: filters on `groups` select by membership: `groups pr`, `not (groups pr)`, `groups.display`, and with other terms through `and`, `or` and `not` (when the Store keeps groups).
func checkGroupFilters(t *testing.T, s *server) {
	if _, ok := s.Store.(scim.GroupStore); !ok {
		t.Skip("the Store is not a scim.GroupStore")
	}
	ids := map[string]string{}
	for _, n := range []string{"ann", "ben", "cat", "dan", "eve"} {
		ids[n] = s.user(n + "@example.com")
	}
	red := confGroup(t, s, "Red", ids["ann"], ids["ben"])
	blue := confGroup(t, s, "Blue", ids["ben"], ids["cat"])
	for f, want := range map[string][]string{
		`groups.value eq "` + red + `"`:   {"ann", "ben"},
		`groups[value eq "` + blue + `"]`: {"ben", "cat"},
		`groups pr`:                       {"ann", "ben", "cat"},
		`not (groups pr)`:                 {"dan", "eve"},
		`groups.display eq "blue"`:        {"ben", "cat"},
		`groups.value eq "` + red + `" and groups.value eq "` + blue + `"`: {"ben"},
		`groups.value eq "` + red + `" and userName sw "a"`:                {"ann"},
		`groups.value eq "` + red + `" or userName eq "eve@example.com"`:   {"ann", "ben", "eve"},
		`not (groups.value eq "` + blue + `") and groups pr`:               {"ann"},
		`not (groups pr) and not (userName sw "d")`:                        {"eve"},
		`groups.value eq "no-such-group"`:                                  {},
	} {
		got := s.filter(f)
		slices.Sort(got)
		names := []string{}
		for _, n := range want {
			names = append(names, n+"@example.com")
		}
		require.Equal(t, names, got, f)
	}
}
