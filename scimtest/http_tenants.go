package scimtest

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Tenant isolation through every route (RFC 7644 §6, multi-tenancy): with an authenticator mapping the tokens
// confTokenA and confTokenB to two tenants, tenant B can never read, change, delete, list, filter, search or
// cursor-page tenant A's users, nor even tell that they exist: every answer B gets about A's users is the
// answer it gets about users that do not exist at all.

// confTenants seeds tenant A with users (returning their ids and ETags) and gives the servers seen by A and B.
func confTenants(t *testing.T, s *server) (a, b *server, ids, etags []string) {
	t.Helper()
	a, b = s.as(confTokenA), s.as(confTokenB)
	for i, body := range []string{
		`{"userName":"alice@a.example","externalId":"ext-a","displayName":"Alice A","title":"Secret","active":true,
		  "emails":[{"value":"alice@a.example","type":"work","primary":true}],
		  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1"}}`,
		`{"userName":"bob@a.example","displayName":"Bob A"}`,
		`{"userName":"shared@example.com","displayName":"Shared A"}`,
	} {
		r := a.do("POST", "/Users", body)
		require.Equal(t, 201, r.Status, "%d: %s", i, r.Raw)
		ids = append(ids, r.Body["id"].(string))
		etags = append(etags, r.Header.Get("ETag"))
	}
	return a, b, ids, etags
}

// confMissing is an id no tenant has.
const confMissing = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"

// confSame requires that an answer about A's user is the answer about a user that does not exist.
func confSame(t *testing.T, aboutA, aboutNobody response, what string) {
	t.Helper()
	require.Equal(t, aboutNobody.Status, aboutA.Status, "%s: %s", what, aboutA.Raw)
	require.Equal(t, string(aboutNobody.Raw), string(aboutA.Raw), "%s", what)
	for _, h := range []string{"Content-Type", "Content-Length", "ETag", "Location", "Content-Location", "WWW-Authenticate", "Allow"} {
		require.Equal(t, aboutNobody.Header.Get(h), aboutA.Header.Get(h), "%s: header %s", what, h)
	}
}

// confUnchanged requires that A's users are exactly as they were.
func confUnchanged(t *testing.T, a *server, ids, etags []string) {
	t.Helper()
	for i, id := range ids {
		r := a.do("GET", "/Users/"+id, "")
		require.Equal(t, 200, r.Status, "%s", r.Raw)
		require.Equal(t, etags[i], r.Header.Get("ETag"), "A's user %d was not written", i)
	}
	require.Equal(t, float64(len(ids)), a.list("")["totalResults"])
}

var tenantReqs = []requirement{
	{"RFC7644 §6", "LIB", "TenantCannotRead",
		"B's GET of A's user answers exactly what GET of a nonexistent id does (404), with or without `If-None-Match`",
		checkTenantCannotRead},
	{"RFC7644 §6", "LIB", "TenantCannotWrite",
		"B's PUT, PATCH and DELETE of A's user answer exactly as for a nonexistent id (404) and change nothing",
		checkTenantCannotWrite},
	{"RFC7644 §6", "LIB", "TenantETagProbing",
		"`If-Match` with A's ETag, another ETag or `*` on A's user tells B nothing: the nonexistent-id 404, never 412 or 304",
		checkTenantETagProbing},
	{"RFC7644 §6", "LIB", "TenantCannotList",
		"B's lists, filters (A's userName, id, externalId), sorting and .search see only B's users, and answer the same whether A has users or not",
		checkTenantCannotList},
	{"RFC7644 §6", "LIB", "TenantCannotCursorPage",
		"B's cursor walks return B's users only; a cursor A was given, used by B, returns none of A's users",
		checkTenantCannotCursorPage},
	{"RFC7644 §6", "LIB", "TenantCursorsRevealNothing",
		"B's cursors are sealed: B pages the same whether or not A created users meanwhile, two cursors of one position differ, and B's cursors are invalid for A",
		checkTenantCursorsRevealNothing},
	{"RFC7644 §6", "LIB", "TenantUserNamesIndependent",
		"userName is unique per tenant (RFC 7643 §7 `server`: within the tenancy): B may create, or rename to, A's userName, and conflicts only with its own",
		checkTenantUserNamesIndependent},
}

// checkTenantCannotRead checks RFC7644 §6 LIB: B's GET of A's user answers exactly what GET of a nonexistent id does (404), with or without `If-None-Match`.
func checkTenantCannotRead(t *testing.T, s *server) {
	_, b, ids, etags := confTenants(t, s)
	b.user("own@b.example")
	for i, id := range ids {
		confSame(t, b.do("GET", "/Users/"+id, ""), b.do("GET", "/Users/"+confMissing, ""), "GET")
		confSame(t, b.do("GET", "/Users/"+id+"?attributes=userName", ""), b.do("GET", "/Users/"+confMissing+"?attributes=userName", ""), "GET attributes")
		for _, inm := range []string{etags[i], "*", `W/"1"`} {
			confSame(t, b.do("GET", "/Users/"+id, "", "If-None-Match", inm), b.do("GET", "/Users/"+confMissing, "", "If-None-Match", inm), "If-None-Match "+inm)
		}
	}
	confError(t, b.do("GET", "/Users/"+ids[0], ""), 404, "")
}

// checkTenantCannotWrite checks RFC7644 §6 LIB: B's PUT, PATCH and DELETE of A's user answer exactly as for a nonexistent id (404) and change nothing.
func checkTenantCannotWrite(t *testing.T, s *server) {
	a, b, ids, etags := confTenants(t, s)
	put := `{"userName":"stolen@b.example","displayName":"stolen"}`
	patch := confPatchOp(`{"op":"replace","path":"displayName","value":"stolen"}`)
	for _, id := range ids {
		confSame(t, b.do("PUT", "/Users/"+id, put), b.do("PUT", "/Users/"+confMissing, put), "PUT")
		confSame(t, b.do("PATCH", "/Users/"+id, patch), b.do("PATCH", "/Users/"+confMissing, patch), "PATCH")
		confSame(t, b.do("PATCH", "/Users/"+id, `{"Operations":[]}`), b.do("PATCH", "/Users/"+confMissing, `{"Operations":[]}`), "empty PATCH")
		confSame(t, b.do("DELETE", "/Users/"+id, ""), b.do("DELETE", "/Users/"+confMissing, ""), "DELETE")
	}
	confUnchanged(t, a, ids, etags)
	require.Equal(t, 0.0, b.list("")["totalResults"], "B created nothing")
}

// checkTenantETagProbing checks RFC7644 §6 LIB: `If-Match` with A's ETag, another ETag or `*` on A's user tells B nothing: the nonexistent-id 404, never 412 or 304.
func checkTenantETagProbing(t *testing.T, s *server) {
	a, b, ids, etags := confTenants(t, s)
	put := `{"userName":"probe@b.example"}`
	patch := confPatchOp(`{"op":"add","path":"title","value":"x"}`)
	for i, id := range ids {
		for _, im := range []string{etags[i], `W/"1"`, `W/"2"`, `"stale"`, "*"} {
			confSame(t, b.do("PUT", "/Users/"+id, put, "If-Match", im), b.do("PUT", "/Users/"+confMissing, put, "If-Match", im), "PUT If-Match "+im)
			confSame(t, b.do("PATCH", "/Users/"+id, patch, "If-Match", im), b.do("PATCH", "/Users/"+confMissing, patch, "If-Match", im), "PATCH If-Match "+im)
			confSame(t, b.do("DELETE", "/Users/"+id, "", "If-Match", im), b.do("DELETE", "/Users/"+confMissing, "", "If-Match", im), "DELETE If-Match "+im)
		}
	}
	confUnchanged(t, a, ids, etags)
}

// checkTenantCannotList checks RFC7644 §6 LIB: B's lists, filters (A's userName, id, externalId), sorting and .search see only B's users, and answer the same whether A has users or not.
func checkTenantCannotList(t *testing.T, s *server) {
	a, b := s.as(confTokenA), s.as(confTokenB)
	b.create(`{"userName":"own@b.example","displayName":"Own B","title":"Mine"}`)
	queries := []string{"", "sortBy=userName", "sortBy=displayName&sortOrder=descending", "count=0", "startIndex=2",
		"filter=" + url.QueryEscape(`userName eq "alice@a.example"`),
		"filter=" + url.QueryEscape(`userName eq "shared@example.com"`),
		"filter=" + url.QueryEscape(`externalId eq "ext-a"`),
		"filter=" + url.QueryEscape(`title eq "Secret" or displayName sw "Alice"`),
		"filter=" + url.QueryEscape(`userName pr`),
		"filter=" + url.QueryEscape(`emails[type eq "work"]`),
		"filter=" + url.QueryEscape(enterpriseNS+`:employeeNumber pr`),
		"filter=" + url.QueryEscape(`meta.created gt "2000-01-01T00:00:00Z"`),
		"attributes=userName&excludedAttributes=meta",
	}
	searches := []string{`{}`, `{"filter":"userName eq \"alice@a.example\""}`, `{"filter":"displayName co \"A\"","sortBy":"userName"}`, `{"count":0}`}
	answers := func() []string {
		var out []string
		for _, q := range queries {
			out = append(out, string(b.do("GET", "/Users?"+q, "").Raw))
		}
		for _, body := range searches {
			out = append(out, string(b.do("POST", "/Users/.search", body).Raw))
		}
		return out
	}
	before := answers()
	_, _, ids, _ := confTenants(t, s)
	require.Equal(t, before, answers(), "B's answers do not depend on A's users")
	require.Equal(t, 0.0, b.list("filter=" + url.QueryEscape(`userName eq "alice@a.example"`))["totalResults"])
	require.Equal(t, 1.0, b.list("filter=" + url.QueryEscape(`userName pr`))["totalResults"])
	for _, id := range ids {
		require.Equal(t, 0.0, b.list("filter=" + url.QueryEscape(`id eq "`+id+`"`))["totalResults"])
	}
	require.Equal(t, 3.0, a.list("")["totalResults"], "and A still sees its own")
	for _, body := range []string{string(b.do("GET", "/Users", "").Raw), string(b.do("POST", "/Users/.search", `{}`).Raw)} {
		for _, secret := range []string{"alice@a.example", "Secret", "ext-a", "Shared A"} {
			require.NotContains(t, body, secret)
		}
		for _, id := range ids { // quoted: a Store's integer id is a substring of any timestamp
			require.NotContains(t, body, `"`+id+`"`)
		}
	}
}

// checkTenantCannotCursorPage checks RFC7644 §6 LIB: B's cursor walks return B's users only; a cursor A was given, used by B, returns none of A's users.
func checkTenantCannotCursorPage(t *testing.T, s *server) {
	a, b, ids, _ := confTenants(t, s)
	for i := range 3 {
		b.user("b" + strconv.Itoa(i) + "@b.example")
	}
	var bNames []string
	cursor := ""
	for range 10 {
		page := b.list("count=1&cursor=" + url.QueryEscape(cursor))
		require.Equal(t, 3.0, page["totalResults"])
		bNames = append(bNames, confNames(t, page)...)
		next, ok := page["nextCursor"].(string)
		if !ok {
			break
		}
		cursor = next
	}
	require.Equal(t, []string{"b0@b.example", "b1@b.example", "b2@b.example"}, bNames)
	aPage := a.list("count=1&cursor=")
	aCursor := aPage["nextCursor"].(string)
	r := b.do("GET", "/Users?count=10&cursor="+url.QueryEscape(aCursor), "")
	if r.Status == 200 {
		for _, u := range confResources(t, r.Body) {
			require.True(t, strings.HasSuffix(u["userName"].(string), "@b.example"), "%v", u)
			require.NotContains(t, ids, u["id"])
		}
	} else {
		confError(t, r, 400, "invalidCursor")
	}
	sr := b.do("POST", "/Users/.search", confJSON(map[string]any{"cursor": aCursor, "count": 10, "filter": `userName sw "alice"`}))
	if sr.Status == 200 {
		require.Equal(t, 0.0, sr.Body["totalResults"])
	}
}

// checkTenantCursorsRevealNothing checks RFC7644 §6 LIB: B's cursors are sealed: B pages the same whether or not A created users meanwhile, two cursors of one position differ, and B's cursors are invalid for A.
func checkTenantCursorsRevealNothing(t *testing.T, s *server) {
	walk := func(s *server, aActive bool) (names, cursors []string) {
		a, b := s.as(confTokenA), s.as(confTokenB)
		b.user("b0@b.example")
		if aActive {
			for i := range 5 {
				a.user("a" + strconv.Itoa(i) + "@a.example")
			}
		}
		b.user("b1@b.example")
		b.user("b2@b.example")
		cursor := ""
		for range 5 {
			page := b.list("count=1&cursor=" + url.QueryEscape(cursor))
			for _, r := range page["Resources"].([]any) {
				names = append(names, r.(map[string]any)["userName"].(string))
			}
			next, ok := page["nextCursor"].(string)
			if !ok {
				break
			}
			cursors = append(cursors, next)
			cursor = next
		}
		return names, cursors
	}
	quiet := s.fresh()
	quietNames, _ := walk(quiet, false)
	names, cursors := walk(s, true)
	require.Equal(t, quietNames, names)
	require.Len(t, cursors, 2)

	b, a := s.as(confTokenB), s.as(confTokenA)
	again, _ := b.list("count=1&cursor=")["nextCursor"].(string)
	require.NotEqual(t, cursors[0], again, "a cursor is sealed afresh each time: equal positions do not look equal")
	for _, c := range cursors {
		r := a.do("GET", "/Users?count=1&cursor="+url.QueryEscape(c), "")
		require.Equal(t, 400, r.Status, "%s", r.Raw)
		require.Equal(t, "invalidCursor", r.Body["scimType"])
	}
}

// checkTenantUserNamesIndependent checks RFC7644 §6 LIB: userName is unique per tenant (RFC 7643 §7 `server`: within the tenancy): B may create, or rename to, A's userName, and conflicts only with its own.
func checkTenantUserNamesIndependent(t *testing.T, s *server) {
	a, b, ids, etags := confTenants(t, s)
	r := b.do("POST", "/Users", `{"userName":"ALICE@a.example"}`)
	require.Equal(t, 201, r.Status, "%s", r.Raw)
	require.NotContains(t, ids, r.Body["id"])
	confError(t, b.do("POST", "/Users", `{"userName":"alice@A.example"}`), 409, "uniqueness")
	own := b.user("own@b.example")
	require.Equal(t, 200, b.do("PUT", "/Users/"+own, `{"userName":"Bob@A.example"}`).Status)
	other := b.user("other@b.example")
	require.Equal(t, 200, b.patch(other, `{"op":"replace","path":"userName","value":"shared@EXAMPLE.com"}`).Status)
	confUnchanged(t, a, ids, etags)
	confError(t, a.do("POST", "/Users", `{"userName":"Shared@Example.com"}`), 409, "uniqueness")
	require.Equal(t, 204, a.do("DELETE", "/Users/"+ids[2], "").Status)
	require.Equal(t, []string{"shared@EXAMPLE.com"}, b.filter(`userName eq "shared@example.com"`), "A's delete leaves B's namesake")
	require.Equal(t, 204, b.do("DELETE", "/Users/"+other, "").Status)
	require.Equal(t, []string{"alice@a.example"}, a.filter(`userName eq "alice@a.example"`))
}
