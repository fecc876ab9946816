package scim_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

const bulkRequestURN = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"

// bulk POSTs a BulkRequest of the operations (JSON objects) and returns the answer, which must be 200 with
// a BulkResponse.
func (s *testServer) bulk(failOnErrors string, ops ...string) []map[string]any {
	s.t.Helper()
	r := s.do("POST", "/Bulk", bulkBody(failOnErrors, ops...))
	require.Equal(s.t, http.StatusOK, r.Status, "%s", r.Raw)
	require.Equal(s.t, []string{"urn:ietf:params:scim:api:messages:2.0:BulkResponse"}, stringsOf(r.Body["schemas"]))
	return asList(r.Body["Operations"])
}

func bulkBody(failOnErrors string, ops ...string) string {
	f := ""
	if failOnErrors != "" {
		f = `"failOnErrors":` + failOnErrors + `,`
	}
	return `{"schemas":["` + bulkRequestURN + `"],` + f + `"Operations":[` + strings.Join(ops, ",") + `]}`
}

// statuses returns each operation's status, in the order of the response.
func statuses(ops []map[string]any) []string {
	out := make([]string, len(ops))
	for i, o := range ops {
		out[i], _ = o["status"].(string)
	}
	return out
}

// idOf is the id at the end of an operation's location.
func idOf(t *testing.T, op map[string]any) string {
	t.Helper()
	loc, _ := op["location"].(string)
	require.NotEmpty(t, loc, "%v", op)
	return loc[strings.LastIndexByte(loc, '/')+1:]
}

// requireOpError asserts that a failed operation carries a SCIM error body with the status and scimType.
func requireOpError(t *testing.T, op map[string]any, status, scimType string) {
	t.Helper()
	require.Equal(t, status, op["status"], "%v", op)
	resp, ok := op["response"].(map[string]any)
	require.True(t, ok, "a failed operation carries its error: %v", op)
	require.Equal(t, []string{errorURN}, stringsOf(resp["schemas"]))
	require.Equal(t, status, resp["status"])
	require.NotEmpty(t, resp["detail"])
	if scimType == "" {
		require.NotContains(t, resp, "scimType")
	} else {
		require.Equal(t, scimType, resp["scimType"])
	}
}

// TestBulkRFCExample: RFC 7644 §3.7.2's shape: a user created with a bulkId, then a group whose member is
// "bulkId:qwerty"; the group holds the user's new id, and each result has its bulkId, location and version.
func TestBulkRFCExample(t *testing.T) {
	s := newTestServer(t)
	ops := s.bulk("",
		`{"method":"POST","path":"/Users","bulkId":"qwerty","data":{"schemas":["`+userURN+`"],"userName":"Alice"}}`,
		`{"method":"POST","path":"/Groups","bulkId":"ytrewq","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
			"displayName":"Tour Guides","members":[{"type":"User","value":"bulkId:qwerty"}]}}`)
	require.Equal(t, []string{"201", "201"}, statuses(ops))
	require.Equal(t, "qwerty", ops[0]["bulkId"])
	require.Equal(t, "ytrewq", ops[1]["bulkId"])
	require.Equal(t, "POST", ops[0]["method"])
	for _, op := range ops {
		require.Regexp(t, `^W/".+"$`, op["version"])
		require.NotContains(t, op, "response", "a success carries no body")
	}
	require.True(t, strings.HasPrefix(ops[0]["location"].(string), s.URL+"/Users/"), ops[0]["location"])
	require.True(t, strings.HasPrefix(ops[1]["location"].(string), s.URL+"/Groups/"), ops[1]["location"])
	user, group := idOf(t, ops[0]), idOf(t, ops[1])
	require.Equal(t, "Alice", s.get(user)["userName"])
	require.Equal(t, []string{user}, s.memberIDs(group))
	require.Equal(t, ops[0]["version"], s.do("GET", "/Users/"+user, "").Header.Get("ETag"))
}

// TestBulkForwardReference: an operation may refer to a POST that comes after it (RFC 7644 §3.7.1), in
// its data (a member, a manager) or its path: the POST runs first; the results keep the client's order.
func TestBulkForwardReference(t *testing.T) {
	s := newTestServer(t)
	ops := s.bulk("",
		`{"method":"POST","path":"/Groups","bulkId":"g","data":{"displayName":"G","members":[{"value":"bulkId:boss"},{"value":"bulkId:u"}]}}`,
		`{"method":"PATCH","path":"/Users/bulkId:u","data":{"schemas":["`+patchOpURN+`"],"Operations":[{"op":"replace","path":"title","value":"Engineer"}]}}`,
		`{"method":"POST","path":"/Users","bulkId":"u","data":{"userName":"u","`+enterpriseNS+`":{"manager":{"value":"bulkId:boss"}}}}`,
		`{"method":"POST","path":"/Users","bulkId":"boss","data":{"userName":"boss"}}`)
	require.Equal(t, []string{"201", "200", "201", "201"}, statuses(ops), "%v", ops)
	require.Equal(t, "PATCH", ops[1]["method"])
	group, user, boss := idOf(t, ops[0]), idOf(t, ops[2]), idOf(t, ops[3])
	require.Equal(t, s.URL+"/Users/"+user, ops[1]["location"], "the path's reference resolved")
	require.Equal(t, sorted(user, boss), s.memberIDs(group))
	u := s.get(user)
	require.Equal(t, "Engineer", u["title"])
	require.Equal(t, boss, u[enterpriseNS].(map[string]any)["manager"].(map[string]any)["value"])
}

// TestBulkCircularReference: operations that refer to each other in a circle fail with 409 (RFC 7644
// §3.7.1), as does one that refers to them; the others run.
func TestBulkCircularReference(t *testing.T) {
	s := newTestServer(t)
	ops := s.bulk("",
		`{"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"a","`+enterpriseNS+`":{"manager":{"value":"bulkId:b"}}}}`,
		`{"method":"POST","path":"/Users","bulkId":"b","data":{"userName":"b","`+enterpriseNS+`":{"manager":{"value":"bulkId:a"}}}}`,
		`{"method":"POST","path":"/Groups","bulkId":"g","data":{"displayName":"G","members":[{"value":"bulkId:a"}]}}`,
		`{"method":"POST","path":"/Users","bulkId":"self","data":{"userName":"self","`+enterpriseNS+`":{"manager":{"value":"bulkId:self"}}}}`,
		`{"method":"POST","path":"/Users","bulkId":"c","data":{"userName":"c"}}`)
	require.Equal(t, []string{"409", "409", "409", "409", "201"}, statuses(ops), "%v", ops)
	for _, op := range ops[:4] {
		requireOpError(t, op, "409", "")
		require.NotContains(t, op, "location")
	}
	require.Equal(t, []string{"c"}, userNames(t, s.list("")))
	require.Equal(t, 0.0, s.do("GET", "/Groups", "").Body["totalResults"])
}

// TestBulkUnresolvedReference: a reference to a bulkId no POST of the request has is 400 invalidValue; to
// a POST that failed, 409. Either fails that operation alone.
func TestBulkUnresolvedReference(t *testing.T) {
	s := newTestServer(t)
	s.createUser("taken")
	ops := s.bulk("",
		`{"method":"POST","path":"/Groups","bulkId":"g1","data":{"displayName":"G1","members":[{"value":"bulkId:nobody"}]}}`,
		`{"method":"POST","path":"/Users","bulkId":"dup","data":{"userName":"taken"}}`,
		`{"method":"POST","path":"/Groups","bulkId":"g2","data":{"displayName":"G2","members":[{"value":"bulkId:dup"}]}}`,
		`{"method":"DELETE","path":"/Users/bulkId:dup"}`,
		`{"method":"POST","path":"/Users","bulkId":"ok","data":{"userName":"ok"}}`)
	require.Equal(t, []string{"400", "409", "409", "409", "201"}, statuses(ops), "%v", ops)
	requireOpError(t, ops[0], "400", "invalidValue")
	requireOpError(t, ops[1], "409", "uniqueness")
	requireOpError(t, ops[2], "409", "")
	requireOpError(t, ops[3], "409", "")
	require.ElementsMatch(t, []string{"taken", "ok"}, userNames(t, s.list("")))
}

// TestBulkFailOnErrors: failOnErrors stops the run after that many errors, and the response lists the
// operations processed until then; without it, every operation runs past partial failures.
func TestBulkFailOnErrors(t *testing.T) {
	ops := []string{
		`{"method":"POST","path":"/Users","bulkId":"1","data":{"userName":"one"}}`,
		`{"method":"POST","path":"/Users","bulkId":"2","data":{"displayName":"no userName"}}`,
		`{"method":"POST","path":"/Users","bulkId":"3","data":{"userName":"three"}}`,
		`{"method":"DELETE","path":"/Users/00000000-0000-4000-8000-000000000000"}`,
		`{"method":"POST","path":"/Users","bulkId":"5","data":{"userName":"five"}}`,
	}
	for _, tt := range []struct {
		failOnErrors string
		statuses     []string
		users        []string
	}{
		{"1", []string{"201", "400"}, []string{"one"}},
		{"2", []string{"201", "400", "201", "404"}, []string{"one", "three"}},
		{"", []string{"201", "400", "201", "404", "201"}, []string{"one", "three", "five"}},
		{"0", []string{"201", "400", "201", "404", "201"}, []string{"one", "three", "five"}},
	} {
		t.Run("failOnErrors="+tt.failOnErrors, func(t *testing.T) {
			s := newTestServer(t)
			got := s.bulk(tt.failOnErrors, ops...)
			require.Equal(t, tt.statuses, statuses(got), "%v", got)
			require.ElementsMatch(t, tt.users, userNames(t, s.list("")))
		})
	}
	s := newTestServer(t)
	requireError(t, s.do("POST", "/Bulk", bulkBody("-1", ops[0])), 400, "invalidValue")
	requireError(t, s.do("POST", "/Bulk", bulkBody(`"1"`, ops[0])), 400, "invalidSyntax")
	require.Empty(t, userNames(t, s.list("")))
}

// TestBulkLimits: more operations than Limits.MaxBulkOperations, or a body larger than
// Limits.MaxBulkPayload, is 413 naming the limit (RFC 7644 §3.7.4), with nothing done; both are advertised.
func TestBulkLimits(t *testing.T) {
	s := newTestServer(t, scim.WithLimits(scim.Limits{MaxBulkOperations: 2, MaxBulkPayload: 400}))
	spc := s.do("GET", "/ServiceProviderConfig", "").Body["bulk"]
	require.Equal(t, map[string]any{"supported": true, "maxOperations": 2.0, "maxPayloadSize": 400.0}, spc)

	op := func(i int) string {
		return fmt.Sprintf(`{"method":"POST","path":"/Users","bulkId":"b%d","data":{"userName":"u%d"}}`, i, i)
	}
	r := s.do("POST", "/Bulk", bulkBody("", op(1), op(2), op(3)))
	requireError(t, r, 413, "")
	require.Contains(t, r.Body["detail"], "maxOperations (2)")

	big := `{"method":"POST","path":"/Users","bulkId":"big","data":{"userName":"big","displayName":"` + strings.Repeat("x", 400) + `"}}`
	r = s.do("POST", "/Bulk", bulkBody("", big))
	requireError(t, r, 413, "")
	require.Contains(t, r.Body["detail"], "maxPayloadSize (400 bytes)")
	require.Empty(t, userNames(t, s.list("")), "nothing of a refused request was done")

	require.Equal(t, []string{"201", "201"}, statuses(s.bulk("", op(1), op(2))), "at the limits, it runs")

	d := newTestServer(t).do("GET", "/ServiceProviderConfig", "").Body["bulk"]
	require.Equal(t, map[string]any{"supported": true, "maxOperations": 1000.0, "maxPayloadSize": float64(1 << 20)}, d, "the defaults")
}

// TestBulkVersion: an operation's version is its If-Match: a stale one is 412 in the operation, the
// current one applies, and the result carries the new version.
func TestBulkVersion(t *testing.T) {
	s := newTestServer(t)
	id := s.createUser("v")
	etag := s.do("GET", "/Users/"+id, "").Header.Get("ETag")
	ops := s.bulk("",
		`{"method":"PUT","path":"/Users/`+id+`","version":"W/\"stale\"","data":{"userName":"stale"}}`,
		`{"method":"PUT","path":"/Users/`+id+`","version":`+jsonString(etag)+`,"data":{"userName":"fresh"}}`,
		`{"method":"DELETE","path":"/Users/`+id+`","version":`+jsonString(etag)+`}`)
	require.Equal(t, []string{"412", "200", "412"}, statuses(ops), "%v", ops)
	requireOpError(t, ops[0], "412", "")
	require.Equal(t, s.URL+"/Users/"+id, ops[0]["location"], "a failed operation names its target")
	newTag := s.do("GET", "/Users/"+id, "").Header.Get("ETag")
	require.NotEqual(t, etag, newTag)
	require.Equal(t, newTag, ops[1]["version"])
	require.Equal(t, "fresh", s.get(id)["userName"])

	del := s.bulk("", `{"method":"DELETE","path":"/Users/`+id+`","version":`+jsonString(newTag)+`}`)
	require.Equal(t, []string{"204"}, statuses(del))
	require.Equal(t, s.URL+"/Users/"+id, del[0]["location"])
	requireError(t, s.do("GET", "/Users/"+id, ""), 404, "")
}

// TestBulkOperationErrors: what a single request would get, an operation gets: 404 for an unknown path,
// 405 for a method its endpoint does not take; a bulk operation is never a read nor a Bulk.
func TestBulkOperationErrors(t *testing.T) {
	s := newTestServer(t)
	ops := s.bulk("",
		`{"method":"POST","path":"/Nope","bulkId":"n","data":{"userName":"n"}}`,
		`{"method":"DELETE","path":"/Users/00000000-0000-4000-8000-000000000000"}`,
		`{"method":"PUT","path":"/Users","data":{"userName":"p"}}`,
		`{"method":"GET","path":"/Users"}`,
		`{"method":"POST","path":"/Bulk","data":{"schemas":["`+bulkRequestURN+`"],"Operations":[{"method":"POST","path":"/Users","data":{"userName":"nested"}}]}}`,
		`{"method":"POST","path":"//evil.example/Users","data":{"userName":"e"}}`,
		`{"method":"POST","path":"/Me","data":{}}`,
		`{"method":"post","path":"users","bulkId":"lower","data":{"userName":"lower"}}`)
	require.Equal(t, []string{"404", "404", "405", "405", "400", "400", "501", "201"}, statuses(ops), "%v", ops)
	requireOpError(t, ops[0], "404", "")
	requireOpError(t, ops[2], "405", "")
	requireOpError(t, ops[4], "400", "invalidValue")
	require.Equal(t, "GET", ops[3]["method"])
	require.Equal(t, []string{"lower"}, userNames(t, s.list("")), "only the valid operation ran")
}

// TestBulkMalformed: a BulkRequest that is not one is 400 for the whole request, with nothing done;
// /Bulk takes only POST.
func TestBulkMalformed(t *testing.T) {
	s := newTestServer(t)
	op := `{"method":"POST","path":"/Users","bulkId":"x","data":{"userName":"x"}}`
	for _, tt := range []struct{ name, body, scimType string }{
		{"malformed JSON", `{"schemas":["` + bulkRequestURN + `"],"Operations":[` + op, "invalidSyntax"},
		{"no Operations", `{"schemas":["` + bulkRequestURN + `"]}`, "invalidSyntax"},
		{"Operations not a list", `{"Operations":{"method":"POST"}}`, "invalidSyntax"},
		{"duplicate bulkId", bulkBody("", op, strings.Replace(op, `"userName":"x"`, `"userName":"y"`, 1)), "invalidValue"},
	} {
		requireError(t, s.do("POST", "/Bulk", tt.body), 400, tt.scimType)
	}
	require.Empty(t, userNames(t, s.list("")))
	r := s.do("GET", "/Bulk", "")
	requireError(t, r, 405, "")
	require.Equal(t, "POST", r.Header.Get("Allow"))
	requireError(t, s.do("POST", "/Bulk/x", bulkBody("", op)), 404, "")
	requireError(t, s.do("POST", "/Me", `{}`), 501, "")
}

// TestBulkTenantAndMetrics: the operations act for the bulk request's tenant, each reported to the
// metrics hook as a request of its own (with the bulk's request id), and the bulk itself once.
func TestBulkTenantAndMetrics(t *testing.T) {
	var mu sync.Mutex
	var infos []scim.RequestInfo
	s := newTestServer(t, scim.WithAuthenticator(func(r *http.Request) (string, error) {
		tok, _ := scim.BearerToken(r)
		return tok, nil // the token is the tenant
	}), scim.WithMetrics(func(i scim.RequestInfo) { mu.Lock(); infos = append(infos, i); mu.Unlock() }))
	idB := s.as("b").createUser("b-user")
	ops := s.as("a").bulk("",
		`{"method":"POST","path":"/Users","bulkId":"x","data":{"userName":"a-user"}}`,
		`{"method":"DELETE","path":"/Users/`+idB+`"}`)
	require.Equal(t, []string{"201", "404"}, statuses(ops), "another tenant's user does not exist to A")
	require.Equal(t, []string{"a-user"}, userNames(t, s.as("a").list("")))
	require.Equal(t, []string{"b-user"}, userNames(t, s.as("b").list("")))

	mu.Lock()
	defer mu.Unlock()
	var bulk []scim.RequestInfo
	for _, i := range infos {
		if i.Tenant == "a" && i.Method != "GET" {
			bulk = append(bulk, i)
		}
	}
	require.Len(t, bulk, 3)
	require.Equal(t, []string{"/Users", "/Users/{id}", "/Bulk"}, []string{bulk[0].Route, bulk[1].Route, bulk[2].Route})
	require.Equal(t, []int{201, 404, 200}, []int{bulk[0].Status, bulk[1].Status, bulk[2].Status})
	require.NotEmpty(t, bulk[2].RequestID)
	require.Equal(t, bulk[2].RequestID, bulk[0].RequestID, "an operation carries its bulk's request id")
}
