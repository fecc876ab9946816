package scimtest

import (
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// Conformance of queries: list responses (§3.4.2), filtering (§3.4.2.2), sorting (§3.4.2.3), index pagination
// (§3.4.2.4), cursor pagination (RFC 9865), attributes and excludedAttributes (§3.4.2.5, §3.9), attribute
// notation (§3.10) and POST /.search (§3.4.3).

// The seeded users, in creation order.
const (
	confAlice = "alice@example.com"
	confBob   = "Bob@Example.com"
	confCarol = "carol@example.org"
	confDave  = "Dave@example.net"
)

// confSeed creates four varied users, a few milliseconds apart, and returns their ids by userName and a time
// between the creation of Bob and of Carol.
func confSeed(s *server) (map[string]string, time.Time) {
	s.t.Helper()
	ids := map[string]string{}
	var mid time.Time
	for i, u := range []string{
		`{"userName":"alice@example.com","externalId":"b-1","displayName":"Alice","title":"Engineer","active":true,
		  "name":{"givenName":"Alice","familyName":"Zephyr"},
		  "emails":[{"value":"alice@work.example","type":"work","primary":true},{"value":"alice@home.example","type":"home"}],
		  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"100","department":"R&D","manager":{"value":"boss"}}}`,
		`{"userName":"Bob@Example.com","externalId":"A-2","displayName":"Bob","title":"Manager","active":false,
		  "name":{"givenName":"Bob","familyName":"young"},
		  "emails":[{"value":"zeta@home.example","type":"home"},{"value":"bob@work.example","type":"work","primary":true}],
		  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"200","department":"Sales"}}`,
		`{"userName":"carol@example.org","externalId":"a-3","displayName":"Carol","active":true,
		  "name":{"givenName":"Carol","familyName":"Xavier"},
		  "emails":[{"value":"carol@home.example","type":"home","primary":true}]}`,
		`{"userName":"Dave@example.net","externalId":"B-4","nickName":"D","title":"engineer",
		  "phoneNumbers":[{"value":"+1 555 0100","type":"mobile"}]}`,
	} {
		if i == 2 {
			confSleep()
			mid = time.Now().UTC().Truncate(time.Millisecond)
			confSleep()
		}
		c := s.create(u)
		ids[c["userName"].(string)] = c["id"].(string)
		confSleep()
	}
	return ids, mid
}

// confFilterTable checks that each filter selects exactly the userNames given, in creation order, through GET
// and through POST /.search.
func confFilterTable(t *testing.T, s *server, cases map[string][]string) {
	t.Helper()
	for f, want := range cases {
		if want == nil {
			want = []string{}
		}
		r := s.list("filter=" + url.QueryEscape(f))
		require.Equal(t, want, confNames(t, r), "%s", f)
		require.Equal(t, float64(len(want)), r["totalResults"], "%s", f)
		sr := s.do("POST", "/Users/.search", confJSON(map[string]any{"filter": f}))
		require.Equal(t, 200, sr.Status, "%s: %s", f, sr.Raw)
		require.Equal(t, want, confNames(t, sr.Body), ".search %s", f)
	}
}

var queryReqs = []requirement{
	// --- §3.4.2 list responses ---
	{"RFC7644 §3.4.2", "MUST", "ListResponse",
		"a query answers 200 with a ListResponse: its schema URI, `totalResults`, `Resources`, `startIndex` and `itemsPerPage`",
		checkListResponse},
	{"RFC7644 §3.4.2", "MUST", "NoMatch200",
		"a query that matches nothing answers 200 with `totalResults` 0 (SHALL), and an empty `Resources` array",
		checkNoMatch200},

	// --- §3.4.2.2 filtering ---
	{"RFC7644 §3.4.2.2", "MUST", "InvalidFilter400",
		"a filter that cannot be parsed, or names an unknown attribute or operator, is refused with 400 `invalidFilter` (GET and .search)",
		checkInvalidFilter400},
	{"RFC7644 §3.4.2.2", "LIB", "MetaVersionRefused",
		"a filter on `meta.version` is refused with 400 `invalidFilter` and sorting by it with 400 `invalidValue`, on every store: " +
			"the version is opaque, kept by each Store in its own form and shown as an entity tag; If-Match compares versions",
		checkMetaVersionRefused},
	{"RFC7644 §3.4.2.2", "MUST", "AttributeOperators",
		"the operators eq, ne, co, sw, ew, pr, gt, ge, lt, le select what the RFC defines on strings, booleans and sub-attributes",
		checkAttributeOperators},
	{"RFC7644 §3.4.2.2", "MUST", "OperatorsCaseInsensitive",
		"attribute names and operators in filters are case-insensitive",
		checkOperatorsCaseInsensitive},
	{"RFC7644 §3.4.2.2", "MUST", "LogicalPrecedence",
		"`and`, `or`, `not` and grouping evaluate with precedence grouping, then not, then and, then or",
		checkLogicalPrecedence},
	{"RFC7644 §3.4.2.2", "MUST", "MultiValuedAndComplex",
		"a filter on a multi-valued attribute matches if any value matches; value paths `attr[...]` filter within one value",
		checkMultiValuedAndComplex},
	{"RFC7644 §3.4.2.2", "MUST", "PresentOperator",
		"`pr` matches a non-empty value: simple, complex (a non-empty node) and multi-valued attributes",
		checkPresentOperator},
	{"RFC7644 §3.4.2.2", "MUST", "DateTimeChronological",
		"dateTime comparisons are chronological, whatever the time zone offset of the literal",
		checkDateTimeChronological},
	{"RFC7644 §3.4.2.2", "MUST", "BooleanOrdering400",
		"gt, ge, lt, le on a boolean attribute are refused with 400 `invalidFilter` (SHALL)",
		checkBooleanOrdering400},
	{"RFC7644 §3.10", "MUST", "URNQualifiedNames",
		"attributes may be named by their schema URN prefix in filters, sortBy, attributes and PATCH paths",
		checkURNQualifiedNames},

	// --- §3.4.2.3 sorting ---
	{"RFC7644 §3.4.2.3", "MUST", "SortAscendingByDefault",
		"`sortBy` orders the results, ascending when no `sortOrder` is given (SHALL); `descending` reverses it",
		checkSortAscendingByDefault},
	{"RFC7644 §3.4.2.3", "MUST", "SortByAttributeType",
		"sorting follows the attribute's type: without case for caseExact false (userName, name.familyName), with case for caseExact true (externalId)",
		checkSortByAttributeType},
	{"RFC7644 §3.4.2.3", "MUST", "SortMultiValuedByPrimary",
		"sorting by a multi-valued attribute uses its primary value, else its first",
		checkSortMultiValuedByPrimary},

	// --- §3.4.2.4 pagination ---
	{"RFC7644 §3.4.2.4", "MUST", "StartIndexBelowOne",
		"a `startIndex` below 1 is taken as 1 (SHALL)",
		checkStartIndexBelowOne},
	{"RFC7644 §3.4.2.4", "MUST", "CountZeroOrNegative",
		"`count=0` returns no resources but `totalResults`; a negative count is taken as 0 (SHALL)",
		checkCountZeroOrNegative},
	{"RFC7644 §3.4.2.4", "MUST", "CountNotExceeded",
		"no more than `count` results are returned (MUST NOT), nor more than the server's maximum",
		checkCountNotExceeded},
	{"RFC7644 §3.4.2.4", "MUST", "PageWalk",
		"pages by `startIndex`/`count` echo `startIndex`, report `itemsPerPage` and the full `totalResults`, and together return every match exactly once",
		checkPageWalk},

	// --- RFC 9865 cursor pagination ---
	{"RFC9865 §2", "MUST", "CursorWalk",
		"an empty `cursor` starts a cursor walk; `nextCursor` (unreserved characters) is on every page but the last; no page exceeds `count`; every match comes once",
		checkCursorWalk},
	{"RFC9865 §2", "MUST", "CursorWithFilter",
		"a cursor walk over a filter returns the matches only, and `totalResults` counts them all",
		checkCursorWithFilter},
	{"RFC9865 §2.1", "SHOULD", "InvalidCursor400",
		"a cursor the server did not issue is answered 400 with scimType `invalidCursor`",
		checkInvalidCursor400},
	{"RFC9865 §2.2", "SHOULD", "CursorSorted",
		"cursor pages sorted by `sortBy`: not supported (cursors follow creation order, docs/sqlstore.md); refused clearly with 400 `invalidValue`, never silently unsorted",
		checkCursorSorted},
	{"RFC9865 §2.3", "MUST", "DefaultPaginationMethod",
		"a query naming neither `startIndex` nor `cursor` is paginated by the advertised default method (index), never refused",
		checkDefaultPaginationMethod},
	{"RFC9865 §3", "MUST", "CursorInSearch",
		"POST /.search takes `cursor` and `count` in its body",
		checkCursorInSearch},
	{"RFC9865 §4", "SHOULD", "PaginationAdvertised",
		"/ServiceProviderConfig advertises `pagination` truthfully: cursor and index support, default method, default and maximum page size",
		checkPaginationAdvertised},

	// --- §3.4.2.5 and §3.9: attributes and excludedAttributes ---
	{"RFC7644 §3.9", "MUST", "AttributesOverrideDefault",
		"`attributes` replaces the default set: only those (and sub-attributes) plus the minimum set (`id`, `schemas`) are returned, in GET, lists and .search",
		checkAttributesOverrideDefault},
	{"RFC7644 §3.9", "MUST", "ExcludedAttributes",
		"`excludedAttributes` returns the default set minus those named, and has no effect on `returned: always` attributes (`id`) (SHALL)",
		checkExcludedAttributes},
	{"RFC7644 §3.9", "MUST", "ProjectionOnWrites",
		"POST, PUT and PATCH answers honour `attributes`/`excludedAttributes`; a PATCH with `attributes` answers 200 with the projection (MUST)",
		checkProjectionOnWrites},

	// --- §3.4.3 POST /.search ---
	{"RFC7644 §3.4.3", "MUST", "SearchIsQuery",
		"POST /Users/.search with a SearchRequest (filter, sortBy, sortOrder, startIndex, count, attributes) answers 200 and the ListResponse GET would",
		checkSearchIsQuery},
	{"RFC7644 §3.4.3", "MUST", "SearchChangesNothing",
		"a search creates and changes nothing, whatever its body",
		checkSearchChangesNothing},
}

// checkListResponse checks RFC7644 §3.4.2 MUST: a query answers 200 with a ListResponse: its schema URI, `totalResults`, `Resources`, `startIndex` and `itemsPerPage`.
func checkListResponse(t *testing.T, s *server) {
	confSeed(s)
	for _, q := range []string{"", "count=2", "startIndex=3&count=1", "filter=" + url.QueryEscape(`title pr`)} {
		b := s.list(q)
		require.Equal(t, []string{listURN}, confStrings(b["schemas"]), q)
		require.IsType(t, 0.0, b["totalResults"], q)
		require.IsType(t, 0.0, b["startIndex"], q)
		require.Equal(t, float64(len(confResources(t, b))), b["itemsPerPage"], q)
		for _, u := range confResources(t, b) {
			require.Equal(t, s.get(u["id"].(string)), u, "a listed user is as GET answers it")
		}
	}
}

// checkNoMatch200 checks RFC7644 §3.4.2 MUST: a query that matches nothing answers 200 with `totalResults` 0 (SHALL), and an empty `Resources` array.
func checkNoMatch200(t *testing.T, s *server) {
	empty := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[],"startIndex":1,"itemsPerPage":0}`
	r := s.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "8c7e4b2a-52b1-4f3e-9d0a-4ad4c6a1e2f1"`), "")
	require.Equal(t, 200, r.Status)
	require.JSONEq(t, empty, string(r.Raw))
	require.JSONEq(t, empty, string(s.do("GET", "/Users", "").Raw))
	s.user("someone@example.com")
	require.JSONEq(t, empty, string(s.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "nobody"`), "").Raw))
	require.JSONEq(t, empty, string(s.do("POST", "/Users/.search", `{"filter":"title pr"}`).Raw))
}

// checkInvalidFilter400 checks RFC7644 §3.4.2.2 MUST: a filter that cannot be parsed, or names an unknown attribute or operator, is refused with 400 `invalidFilter` (GET and .search).
func checkInvalidFilter400(t *testing.T, s *server) {
	confSeed(s)
	for _, f := range []string{`userName`, `userName eq`, `userName xx "a"`, `userName eq alice`, `noSuchAttribute eq "a"`,
		`name.noSuchSub eq "a"`, `(userName eq "a"`, `userName eq "a" and`, `emails[type eq "work"`, `emails[noSuch eq "x"]`,
		`userName eq "unterminated`, `meta.created gt "yesterday"`, `urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "a"`} {
		confError(t, s.do("GET", "/Users?filter="+url.QueryEscape(f), ""), 400, "invalidFilter")
		confError(t, s.do("POST", "/Users/.search", confJSON(map[string]any{"filter": f})), 400, "invalidFilter")
	}
}

// checkMetaVersionRefused checks RFC7644 §3.4.2.2 LIB: "a filter on `meta.version` is refused with 400 `invalidFilter` and sorting by it with 400 `invalidValue`, on every store: " + 			"the version is opaque, kept by each Store in its own form and shown as an entity tag; If-Match compares versions".
func checkMetaVersionRefused(t *testing.T, s *server) {
	confSeed(s)
	for _, f := range []string{`meta.version eq "1"`, `meta.version pr`, `meta[version eq "1"]`,
		`userName pr and not (meta.version eq "W/\"1\"")`, `urn:ietf:params:scim:schemas:core:2.0:User:meta.version eq "1"`} {
		confError(t, s.do("GET", "/Users?filter="+url.QueryEscape(f), ""), 400, "invalidFilter")
		confError(t, s.do("POST", "/Users/.search", confJSON(map[string]any{"filter": f})), 400, "invalidFilter")
	}
	confError(t, s.do("GET", "/Users?sortBy=meta.version", ""), 400, "invalidValue")
	require.NotEmpty(t, s.filter(`meta.created pr`), "other meta sub-attributes stay filterable")
}

// checkAttributeOperators checks RFC7644 §3.4.2.2 MUST: the operators eq, ne, co, sw, ew, pr, gt, ge, lt, le select what the RFC defines on strings, booleans and sub-attributes.
func checkAttributeOperators(t *testing.T, s *server) {
	confSeed(s)
	confFilterTable(t, s, map[string][]string{
		`userName eq "alice@example.com"`:         {confAlice},
		`userName ne "alice@example.com"`:         {confBob, confCarol, confDave},
		`userName co "EXAMPLE.COM"`:               {confAlice, confBob},
		`userName sw "b"`:                         {confBob},
		`userName ew ".ORG"`:                      {confCarol},
		`userName gt "bob@example.com"`:           {confCarol, confDave},
		`userName ge "BOB@example.com"`:           {confBob, confCarol, confDave},
		`userName lt "bob@example.com"`:           {confAlice},
		`userName le "bob@example.com"`:           {confAlice, confBob},
		`title pr`:                                {confAlice, confBob, confDave},
		`title eq "ENGINEER"`:                     {confAlice, confDave},
		`active eq true`:                          {confAlice, confCarol},
		`active eq false`:                         {confBob},
		`name.familyName eq "zephyr"`:             {confAlice},
		`emails.primary eq true`:                  {confAlice, confBob, confCarol},
		`externalId eq "A-2"`:                     {confBob},
		`displayName co "o"`:                      {confBob, confCarol},
		`nickName eq "d"`:                         {confDave},
		`phoneNumbers.value sw "+1"`:              {confDave},
		enterpriseNS + `:employeeNumber gt "150"`: {confBob},
	})
}

// checkOperatorsCaseInsensitive checks RFC7644 §3.4.2.2 MUST: attribute names and operators in filters are case-insensitive.
func checkOperatorsCaseInsensitive(t *testing.T, s *server) {
	confSeed(s)
	confFilterTable(t, s, map[string][]string{
		`USERNAME EQ "alice@example.com"`:            {confAlice},
		`userName Sw "B" oR userName eW ".NET"`:      {confBob, confDave},
		`Title PR AnD Active eq True`:                {confAlice},
		`NOT (title Pr)`:                             {confCarol},
		`EMAILS[TYPE eq "work" AND PRIMARY EQ true]`: {confAlice, confBob},
		`Meta.Created Gt "2000-01-01T00:00:00Z"`:     {confAlice, confBob, confCarol, confDave},
		`name.FAMILYNAME GE "Y"`:                     {confAlice, confBob},
	})
}

// checkLogicalPrecedence checks RFC7644 §3.4.2.2 MUST: `and`, `or`, `not` and grouping evaluate with precedence grouping, then not, then and, then or.
func checkLogicalPrecedence(t *testing.T, s *server) {
	confSeed(s)
	confFilterTable(t, s, map[string][]string{
		`title pr or active eq true and userName sw "c"`:                     {confAlice, confBob, confCarol, confDave},
		`(title pr or active eq true) and userName sw "c"`:                   {confCarol},
		`active eq true and userName sw "c" or title eq "manager"`:           {confBob, confCarol},
		`not (title pr) or userName sw "a"`:                                  {confAlice, confCarol},
		`not (userName sw "a" or userName sw "b") and active eq true`:        {confCarol},
		`(userName sw "a" or userName sw "b") and not (active eq true)`:      {confBob},
		`userName sw "a" or userName sw "b" or userName sw "c"`:              {confAlice, confBob, confCarol},
		`title pr and (active eq false or (nickName pr and title co "eng"))`: {confBob, confDave},
	})
}

// checkMultiValuedAndComplex checks RFC7644 §3.4.2.2 MUST: a filter on a multi-valued attribute matches if any value matches; value paths `attr[...]` filter within one value.
func checkMultiValuedAndComplex(t *testing.T, s *server) {
	confSeed(s)
	confFilterTable(t, s, map[string][]string{
		`emails.value eq "alice@home.example"`:                    {confAlice},
		`emails.value eq "zeta@home.example"`:                     {confBob},
		`emails.type eq "home"`:                                   {confAlice, confBob, confCarol},
		`emails co "work"`:                                        {confAlice, confBob},
		`emails[type eq "work"]`:                                  {confAlice, confBob},
		`emails[type eq "work" and value co "alice"]`:             {confAlice},
		`emails[type eq "home" and primary eq true]`:              {confCarol},
		`emails[type eq "home" and value sw "zeta"] and title pr`: {confBob},
		`emails[value ew "home.example" and primary eq true]`:     {confCarol},
		`emails[type eq "work" and value sw "carol"]`:             nil,
	})
}

// checkPresentOperator checks RFC7644 §3.4.2.2 MUST: `pr` matches a non-empty value: simple, complex (a non-empty node) and multi-valued attributes.
func checkPresentOperator(t *testing.T, s *server) {
	confSeed(s)
	confFilterTable(t, s, map[string][]string{
		`nickName pr`:                   {confDave},
		`name pr`:                       {confAlice, confBob, confCarol},
		`emails pr`:                     {confAlice, confBob, confCarol},
		`phoneNumbers pr`:               {confDave},
		`name.givenName pr`:             {confAlice, confBob, confCarol},
		enterpriseNS + `:manager pr`:    {confAlice},
		enterpriseNS + `:department pr`: {confAlice, confBob},
		`addresses pr`:                  nil,
	})
}

// checkDateTimeChronological checks RFC7644 §3.4.2.2 MUST: dateTime comparisons are chronological, whatever the time zone offset of the literal.
func checkDateTimeChronological(t *testing.T, s *server) {
	_, mid := confSeed(s)
	utc := mid.Format(time.RFC3339Nano)
	plus := mid.In(time.FixedZone("", 5*3600+30*60)).Format("2006-01-02T15:04:05.000-07:00")
	minus := mid.In(time.FixedZone("", -8*3600)).Format("2006-01-02T15:04:05.000-07:00")
	for _, lit := range []string{utc, plus, minus} {
		confFilterTable(t, s, map[string][]string{
			`meta.created gt "` + lit + `"`:      {confCarol, confDave},
			`meta.created lt "` + lit + `"`:      {confAlice, confBob},
			`meta.lastModified ge "` + lit + `"`: {confCarol, confDave},
			`meta.created le "` + lit + `"`:      {confAlice, confBob},
		})
	}
}

// checkBooleanOrdering400 checks RFC7644 §3.4.2.2 MUST: gt, ge, lt, le on a boolean attribute are refused with 400 `invalidFilter` (SHALL).
func checkBooleanOrdering400(t *testing.T, s *server) {
	confSeed(s)
	for _, f := range []string{`active gt true`, `active ge false`, `active lt true`, `emails.primary le true`} {
		confError(t, s.do("GET", "/Users?filter="+url.QueryEscape(f), ""), 400, "invalidFilter")
	}
}

// checkURNQualifiedNames checks RFC7644 §3.10 MUST: attributes may be named by their schema URN prefix in filters, sortBy, attributes and PATCH paths.
func checkURNQualifiedNames(t *testing.T, s *server) {
	ids, _ := confSeed(s)
	require.Equal(t, []string{confBob}, s.filter(userURN+`:userName eq "bob@example.com"`))
	require.Equal(t, []string{confCarol}, s.filter(userURN+`:name.givenName sw "c"`))
	require.Equal(t, []string{confAlice}, s.filter(enterpriseNS+`:department eq "r&d"`))
	require.Equal(t, []string{confDave, confCarol, confBob, confAlice}, confNames(t, s.list("sortBy="+userURN+":userName&sortOrder=descending")))
	g := s.do("GET", "/Users/"+ids[confAlice]+"?attributes="+userURN+":name.familyName,"+enterpriseNS+":employeeNumber", "").Body
	require.Equal(t, []string{"id", "name", "schemas", enterpriseNS}, confKeys(g))
	require.Equal(t, confObj{"familyName": "Zephyr"}, g["name"])
	r := s.patch(ids[confAlice], `{"op":"replace","path":"`+userURN+`:name.familyName","value":"Z2"}`)
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.Equal(t, "Z2", r.Body["name"].(map[string]any)["familyName"])
}

// checkSortAscendingByDefault checks RFC7644 §3.4.2.3 MUST: `sortBy` orders the results, ascending when no `sortOrder` is given (SHALL); `descending` reverses it.
func checkSortAscendingByDefault(t *testing.T, s *server) {
	confSeed(s)
	require.Equal(t, []string{confAlice, confBob, confCarol, confDave}, confNames(t, s.list("sortBy=userName")))
	require.Equal(t, []string{confAlice, confBob, confCarol, confDave}, confNames(t, s.list("sortBy=userName&sortOrder=ascending")))
	require.Equal(t, []string{confDave, confCarol, confBob, confAlice}, confNames(t, s.list("sortBy=userName&sortOrder=descending")))
	require.Equal(t, []string{confDave, confCarol, confBob, confAlice}, confNames(t, s.list("sortBy=meta.created&sortOrder=descending")))
	require.Equal(t, []string{confCarol, confBob}, confNames(t, s.list("sortBy=userName&sortOrder=descending&startIndex=2&count=2")))
}

// checkSortByAttributeType checks RFC7644 §3.4.2.3 MUST: sorting follows the attribute's type: without case for caseExact false (userName, name.familyName), with case for caseExact true (externalId).
func checkSortByAttributeType(t *testing.T, s *server) {
	confSeed(s)
	require.Equal(t, []string{confAlice, confBob, confCarol, confDave}, confNames(t, s.list("sortBy=userName")), "alice < Bob < carol < Dave without case")
	require.Equal(t, []string{confBob, confDave, confCarol, confAlice}, confNames(t, s.list("sortBy=externalId")), "A-2 < B-4 < a-3 < b-1 with case")
	require.Equal(t, []string{confCarol, confBob, confAlice}, confNames(t, s.list("sortBy=name.familyName&filter=name+pr")), "Xavier < young < Zephyr")
	require.Equal(t, []string{confAlice, confDave, confBob}, confNames(t, s.list("sortBy=title&filter=title+pr")), "Engineer = engineer < Manager, stable")
}

// checkSortMultiValuedByPrimary checks RFC7644 §3.4.2.3 MUST: sorting by a multi-valued attribute uses its primary value, else its first.
func checkSortMultiValuedByPrimary(t *testing.T, s *server) {
	confSeed(s)
	// Bob's emails are zeta@home (first) and bob@work (primary): he sorts as bob@work.
	require.Equal(t, []string{confAlice, confBob, confCarol}, confNames(t, s.list("sortBy=emails&filter=emails+pr")))
	require.Equal(t, []string{confAlice, confBob, confCarol}, confNames(t, s.list("sortBy=emails.value&filter=emails+pr")))
	require.Equal(t, []string{confCarol, confBob, confAlice}, confNames(t, s.list("sortBy=emails.value&sortOrder=descending&filter=emails+pr")))
}

// checkStartIndexBelowOne checks RFC7644 §3.4.2.4 MUST: a `startIndex` below 1 is taken as 1 (SHALL).
func checkStartIndexBelowOne(t *testing.T, s *server) {
	confSeed(s)
	for _, si := range []string{"0", "-1", "-100"} {
		b := s.list("count=2&startIndex=" + si)
		require.Equal(t, []string{confAlice, confBob}, confNames(t, b))
		require.Equal(t, 1.0, b["startIndex"])
	}
}

// checkCountZeroOrNegative checks RFC7644 §3.4.2.4 MUST: `count=0` returns no resources but `totalResults`; a negative count is taken as 0 (SHALL).
func checkCountZeroOrNegative(t *testing.T, s *server) {
	confSeed(s)
	for _, c := range []string{"0", "-1", "-50"} {
		b := s.list("count=" + c)
		require.Equal(t, []string{}, confNames(t, b))
		require.Equal(t, 4.0, b["totalResults"])
		require.Equal(t, 0.0, b["itemsPerPage"])
		b = s.list("count=" + c + "&filter=" + url.QueryEscape("title pr"))
		require.Equal(t, 3.0, b["totalResults"])
	}
}

// checkCountNotExceeded checks RFC7644 §3.4.2.4 MUST: no more than `count` results are returned (MUST NOT), nor more than the server's maximum.
func checkCountNotExceeded(t *testing.T, s *server) {
	confSeed(s)
	for c := 1; c <= 5; c++ {
		b := s.list("count=" + strconv.Itoa(c))
		require.Len(t, confResources(t, b), min(c, 4))
		require.Equal(t, 4.0, b["totalResults"])
	}
	capped := s.with(scim.WithLimits(scim.Limits{MaxResults: 3}))
	require.Len(t, confResources(t, capped.list("count=100")), 3)
	require.Len(t, confResources(t, capped.list("")), 3)
}

// checkPageWalk checks RFC7644 §3.4.2.4 MUST: pages by `startIndex`/`count` echo `startIndex`, report `itemsPerPage` and the full `totalResults`, and together return every match exactly once.
func checkPageWalk(t *testing.T, s *server) {
	var want []string
	for i := range 11 {
		n := "page" + strconv.Itoa(i) + "@example.com"
		s.user(n)
		want = append(want, n)
	}
	for _, q := range []string{"", "&sortBy=userName", "&filter=" + url.QueryEscape(`userName sw "page"`)} {
		var got []string
		for start := 1; ; start += 3 {
			b := s.list("count=3&startIndex=" + strconv.Itoa(start) + q)
			require.Equal(t, float64(start), b["startIndex"])
			require.Equal(t, 11.0, b["totalResults"])
			page := confNames(t, b)
			require.Equal(t, float64(len(page)), b["itemsPerPage"])
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
		}
		if q == "&sortBy=userName" {
			require.ElementsMatch(t, want, got)
			continue
		}
		require.Equal(t, want, got, q)
	}
	b := s.list("startIndex=50")
	require.Equal(t, []string{}, confNames(t, b), "past the end: an empty page")
	require.Equal(t, 11.0, b["totalResults"])
}
