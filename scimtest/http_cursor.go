package scimtest

import (
	"net/url"
	"strconv"
	"testing"

	"github.com/scimkit/scim"
	"github.com/stretchr/testify/require"
)

// checkCursorWalk checks RFC9865 §2 MUST: an empty `cursor` starts a cursor walk; `nextCursor` (unreserved characters) is on every page but the last; no page exceeds `count`; every match comes once.
func checkCursorWalk(t *testing.T, s *server) {
	var want []string
	for i := range 7 {
		n := "cur" + strconv.Itoa(i) + "@example.com"
		s.user(n)
		want = append(want, n)
	}
	for _, first := range []string{"cursor=", "cursor"} {
		var got []string
		cursor, pages := "", 0
		for {
			q := first + "&count=3"
			if pages > 0 {
				q = "cursor=" + url.QueryEscape(cursor) + "&count=3"
			}
			b := s.list(q)
			page := confNames(t, b)
			require.LessOrEqual(t, len(page), 3)
			require.Equal(t, float64(len(page)), b["itemsPerPage"])
			require.Equal(t, 7.0, b["totalResults"], "totalResults counts every page (SHOULD)")
			require.NotContains(t, b, "startIndex")
			got = append(got, page...)
			pages++
			next, ok := b["nextCursor"].(string)
			if !ok {
				break
			}
			require.Regexp(t, confUnreserved, next)
			cursor = next
			require.Less(t, pages, 10)
		}
		require.Equal(t, want, got)
		require.Equal(t, 3, pages, "3+3+1, and no nextCursor on the last page")
	}
	b := s.list("cursor=&count=7")
	require.NotContains(t, b, "nextCursor", "a first page that is also the last has no nextCursor")
}

// checkCursorWithFilter checks RFC9865 §2 MUST: a cursor walk over a filter returns the matches only, and `totalResults` counts them all.
func checkCursorWithFilter(t *testing.T, s *server) {
	for i := range 6 {
		s.create(`{"userName":"cf` + strconv.Itoa(i) + `@example.com","active":` + strconv.FormatBool(i%2 == 0) + `}`)
	}
	f := "&filter=" + url.QueryEscape("active eq true")
	b := s.list("cursor=&count=2" + f)
	require.Equal(t, []string{"cf0@example.com", "cf2@example.com"}, confNames(t, b))
	require.Equal(t, 3.0, b["totalResults"])
	b = s.list("cursor=" + url.QueryEscape(b["nextCursor"].(string)) + "&count=2" + f)
	require.Equal(t, []string{"cf4@example.com"}, confNames(t, b))
	require.NotContains(t, b, "nextCursor")
}

// checkInvalidCursor400 checks RFC9865 §2.1 SHOULD: a cursor the server did not issue is answered 400 with scimType `invalidCursor`.
func checkInvalidCursor400(t *testing.T, s *server) {
	s.user("ic@example.com")
	for _, c := range []string{"not-a-cursor", "AAAA", "~~~", "eyJhIjoxfQ", "%00"} {
		confError(t, s.do("GET", "/Users?count=1&cursor="+url.QueryEscape(c), ""), 400, "invalidCursor")
	}
	confError(t, s.do("POST", "/Users/.search", `{"cursor":"garbage","count":1}`), 400, "invalidCursor")
}

// checkCursorSorted checks RFC9865 §2.2 SHOULD: cursor pages sorted by `sortBy`: not supported (cursors follow creation order, docs/sqlstore.md); refused clearly with 400 `invalidValue`, never silently unsorted.
func checkCursorSorted(t *testing.T, s *server) {
	s.user("b@example.com")
	s.user("a@example.com")
	confError(t, s.do("GET", "/Users?cursor=&count=1&sortBy=userName", ""), 400, "invalidValue")
	confError(t, s.do("POST", "/Users/.search", `{"cursor":"","sortBy":"userName"}`), 400, "invalidValue")
	require.Equal(t, []string{"a@example.com", "b@example.com"}, confNames(t, s.list("startIndex=1&sortBy=userName")))
}

// checkDefaultPaginationMethod checks RFC9865 §2.3 MUST: a query naming neither `startIndex` nor `cursor` is paginated by the advertised default method (index), never refused.
func checkDefaultPaginationMethod(t *testing.T, s *server) {
	s = s.with(scim.WithLimits(scim.Limits{MaxResults: 2}))
	for i := range 3 {
		s.user("dp" + strconv.Itoa(i) + "@example.com")
	}
	p := s.do("GET", "/ServiceProviderConfig", "").Body["pagination"].(map[string]any)
	require.Equal(t, "index", p["defaultPaginationMethod"])
	b := s.list("")
	require.Equal(t, 1.0, b["startIndex"])
	require.NotContains(t, b, "nextCursor")
	require.Len(t, confResources(t, b), 2)
	require.Equal(t, 3.0, b["totalResults"])
}

// checkCursorInSearch checks RFC9865 §3 MUST: POST /.search takes `cursor` and `count` in its body.
func checkCursorInSearch(t *testing.T, s *server) {
	for i := range 5 {
		s.user("cs" + strconv.Itoa(i) + "@example.com")
	}
	r := s.do("POST", "/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName sw \"cs\"","cursor":"","count":3,"attributes":["userName"]}`)
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.Equal(t, []string{"cs0@example.com", "cs1@example.com", "cs2@example.com"}, confNames(t, r.Body))
	require.Equal(t, []string{"id", "schemas", "userName"}, confKeys(confResources(t, r.Body)[0]))
	r = s.do("POST", "/Users/.search", confJSON(map[string]any{"filter": `userName sw "cs"`, "cursor": r.Body["nextCursor"], "count": 3}))
	require.Equal(t, []string{"cs3@example.com", "cs4@example.com"}, confNames(t, r.Body))
	require.NotContains(t, r.Body, "nextCursor")
}

// checkPaginationAdvertised checks RFC9865 §4 SHOULD: /ServiceProviderConfig advertises `pagination` truthfully: cursor and index support, default method, default and maximum page size.
func checkPaginationAdvertised(t *testing.T, s *server) {
	s = s.with(scim.WithLimits(scim.Limits{MaxResults: 5}))
	p := s.do("GET", "/ServiceProviderConfig", "").Body["pagination"].(map[string]any)
	require.Equal(t, true, p["cursor"], "every store here implements scim.CursorLister")
	require.Equal(t, true, p["index"])
	require.Equal(t, "index", p["defaultPaginationMethod"])
	require.Equal(t, 5.0, p["defaultPageSize"])
	require.Equal(t, 5.0, p["maxPageSize"])
	for i := range 6 {
		s.user("pa" + strconv.Itoa(i) + "@example.com")
	}
	require.Len(t, confResources(t, s.list("")), 5, "defaultPageSize")
	require.Len(t, confResources(t, s.list("cursor=&count=50")), 5, "maxPageSize")
}

// checkAttributesOverrideDefault checks RFC7644 §3.9 MUST: `attributes` replaces the default set: only those (and sub-attributes) plus the minimum set (`id`, `schemas`) are returned, in GET, lists and .search.
func checkAttributesOverrideDefault(t *testing.T, s *server) {
	u := s.create(confFullUser)
	id := u["id"].(string)
	check := func(what string, got map[string]any) {
		t.Helper()
		require.Equal(t, []string{"emails", "id", "name", "schemas", "userName"}, confKeys(got), what)
		require.Equal(t, confObj{"givenName": "Barbara"}, got["name"], what)
		require.Equal(t, confList{confObj{"value": "bjensen@example.com"}, confObj{"value": "babs@jensen.org"}}, got["emails"], what)
	}
	q := "attributes=userName,name.givenName,emails.value"
	check("GET", s.do("GET", "/Users/"+id+"?"+q, "").Body)
	check("list", confResources(t, s.list(q))[0])
	check("filtered list", confResources(t, s.list(q+"&filter=userName+pr"))[0])
	check(".search", confResources(t, s.do("POST", "/Users/.search", `{"attributes":["userName","name.givenName","emails.value"]}`).Body)[0])
	require.Equal(t, []string{"id", "schemas"}, confKeys(s.do("GET", "/Users/"+id+"?attributes=id", "").Body))
	require.Equal(t, []string{"id", "meta", "schemas"}, confKeys(s.do("GET", "/Users/"+id+"?attributes=meta.created", "").Body))
}

// checkExcludedAttributes checks RFC7644 §3.9 MUST: `excludedAttributes` returns the default set minus those named, and has no effect on `returned: always` attributes (`id`) (SHALL).
func checkExcludedAttributes(t *testing.T, s *server) {
	u := s.create(confFullUser)
	id := u["id"].(string)
	check := func(what string, got map[string]any) {
		t.Helper()
		require.Equal(t, confWithout(u, "emails", "meta", "title", enterpriseNS, "name", "schemas"), confWithout(got, "name", "schemas"), what)
		require.NotContains(t, got["name"], "givenName", what)
		require.Equal(t, "Jensen", got["name"].(map[string]any)["familyName"], what)
	}
	q := "excludedAttributes=emails,meta,title,name.givenName," + enterpriseNS
	check("GET", s.do("GET", "/Users/"+id+"?"+q, "").Body)
	check("list", confResources(t, s.list(q))[0])
	check(".search", confResources(t, s.do("POST", "/Users/.search", `{"excludedAttributes":["emails","meta","title","name.givenName","`+enterpriseNS+`"]}`).Body)[0])
	g := s.do("GET", "/Users/"+id+"?excludedAttributes=id,userName", "").Body
	require.Equal(t, id, g["id"], "returned: always")
	require.NotContains(t, g, "userName")
}

// checkProjectionOnWrites checks RFC7644 §3.9 MUST: POST, PUT and PATCH answers honour `attributes`/`excludedAttributes`; a PATCH with `attributes` answers 200 with the projection (MUST).
func checkProjectionOnWrites(t *testing.T, s *server) {
	r := s.do("POST", "/Users?attributes=userName", `{"userName":"pw@example.com","title":"T","displayName":"D"}`)
	require.Equal(t, 201, r.Status)
	require.Equal(t, []string{"id", "schemas", "userName"}, confKeys(r.Body))
	id := r.Body["id"].(string)
	r = s.do("PUT", "/Users/"+id+"?attributes=title", `{"userName":"pw@example.com","title":"T2"}`)
	require.Equal(t, 200, r.Status)
	require.Equal(t, confObj{"id": id, "schemas": confList{userURN}, "title": "T2"}, r.Body)
	r = s.do("PATCH", "/Users/"+id+"?attributes=nickName", confPatchOp(`{"op":"add","path":"nickName","value":"N"}`))
	require.Equal(t, 200, r.Status)
	require.Equal(t, confObj{"id": id, "schemas": confList{userURN}, "nickName": "N"}, r.Body)
	r = s.do("PATCH", "/Users/"+id+"?excludedAttributes=meta,userName", confPatchOp(`{"op":"add","path":"title","value":"T3"}`))
	require.Equal(t, 200, r.Status)
	require.Equal(t, confObj{"id": id, "schemas": confList{userURN}, "title": "T3", "nickName": "N"}, r.Body)
}

// checkSearchIsQuery checks RFC7644 §3.4.3 MUST: POST /Users/.search with a SearchRequest (filter, sortBy, sortOrder, startIndex, count, attributes) answers 200 and the ListResponse GET would.
func checkSearchIsQuery(t *testing.T, s *server) {
	confSeed(s)
	sr := s.do("POST", "/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
				"attributes":["displayName","userName"],"filter":"title pr","sortBy":"userName","sortOrder":"descending","startIndex":2,"count":2}`)
	require.Equal(t, 200, sr.Status, "%s", sr.Raw)
	require.Empty(t, sr.Header.Get("Location"))
	get := s.list("attributes=displayName,userName&filter=title+pr&sortBy=userName&sortOrder=descending&startIndex=2&count=2")
	require.Equal(t, get, sr.Body)
	require.Equal(t, []string{confBob, confAlice}, confNames(t, sr.Body))
	require.Equal(t, 3.0, sr.Body["totalResults"])
	require.Equal(t, 2.0, sr.Body["startIndex"])
}

// checkSearchChangesNothing checks RFC7644 §3.4.3 MUST: a search creates and changes nothing, whatever its body.
func checkSearchChangesNothing(t *testing.T, s *server) {
	ids, _ := confSeed(s)
	before := s.list("")
	for _, body := range []string{`{}`, `{"userName":"new@example.com"}`, `{"filter":"userName pr","count":0}`,
		`{"Operations":[{"op":"remove","path":"title"}]}`} {
		r := s.do("POST", "/Users/.search", body)
		require.Equal(t, 200, r.Status, "%s", r.Raw)
	}
	confError(t, s.do("POST", "/Users/.search", `{"filter":"title eq"}`), 400, "invalidFilter")
	require.Equal(t, before, s.list(""))
	require.Equal(t, "Engineer", s.get(ids[confAlice])["title"])
}
