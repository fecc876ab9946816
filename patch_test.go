package scim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// patchBase is the user every PATCH case starts from, unless the case names another.
const patchBase = `{"userName":"pat@example.com","displayName":"Pat","title":"Engineer","active":true,
  "name":{"givenName":"Pat","familyName":"Smith","formatted":"Pat Smith"},
  "emails":[{"value":"pat@work.example","type":"work","primary":true},{"value":"pat@home.example","type":"home"}],
  "phoneNumbers":[{"value":"555-0001","type":"work"},{"value":"555-0002","type":"mobile"}],
  "roles":[{"value":"r1"},{"value":"r2"},{"value":"r3"}],
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1","department":"Dept","manager":{"value":"m1"}}}`

// m and l shorten expected JSON values.
type m = map[string]any
type l = []any

func ent(u map[string]any) map[string]any {
	e, _ := u[enterpriseNS].(map[string]any)
	return e
}

// countType counts the elements of a multi-valued attribute whose type is typ.
func countType(u map[string]any, attr, typ string) int {
	n := 0
	for _, e := range u[attr].([]any) {
		if e.(map[string]any)["type"] == typ {
			n++
		}
	}
	return n
}

func TestPatch(t *testing.T) {
	tests := []struct {
		name     string
		user     string // the user before; patchBase when empty
		ops      []string
		status   int // 200 when zero
		scimType string
		noop     bool // the operations change nothing: the version stays
		want     func(t *testing.T, u map[string]any)
	}{
		// --- simple attributes ---
		{name: "replace simple", ops: []string{`{"op":"replace","path":"displayName","value":"New"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, "New", u["displayName"]) }},
		{name: "add simple replaces its value", ops: []string{`{"op":"add","path":"displayName","value":"Added"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, "Added", u["displayName"]) }},
		{name: "add unset attribute", ops: []string{`{"op":"Add","path":"nickName","value":"Babs"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, "Babs", u["nickName"]) }},
		{name: "remove simple", ops: []string{`{"op":"remove","path":"title"}`},
			want: func(t *testing.T, u map[string]any) { require.NotContains(t, u, "title") }},
		{name: "remove unset attribute", noop: true, ops: []string{`{"op":"remove","path":"nickName"}`},
			want: func(t *testing.T, u map[string]any) { require.NotContains(t, u, "nickName") }},
		{name: "replace with null unassigns", ops: []string{`{"op":"replace","path":"title","value":null}`},
			want: func(t *testing.T, u map[string]any) { require.NotContains(t, u, "title") }},
		{name: "replace with empty string unassigns", ops: []string{`{"op":"replace","path":"title","value":""}`},
			want: func(t *testing.T, u map[string]any) { require.NotContains(t, u, "title") }},
		{name: "replace complex with no sub-attributes changes nothing", noop: true,
			ops:  []string{`{"op":"replace","path":"name","value":{}}`},
			want: func(t *testing.T, u map[string]any) { require.NotEmpty(t, u["name"]) }},
		{name: "path without case", ops: []string{`{"op":"replace","path":"DISPLAYNAME","value":"Caps"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, "Caps", u["displayName"]) }},
		{name: "URN-qualified core path", ops: []string{`{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:displayName","value":"Urn"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, "Urn", u["displayName"]) }},
		{name: "userName", ops: []string{`{"op":"replace","path":"userName","value":"renamed@example.com"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, "renamed@example.com", u["userName"]) }},
		{name: "externalId", ops: []string{`{"op":"add","path":"externalId","value":"ext-9"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, "ext-9", u["externalId"]) }},

		// --- op names in any case, string booleans ---
		{name: "ops in any case", ops: []string{
			`{"op":"ADD","path":"nickName","value":"A"}`, `{"op":"Replace","path":"displayName","value":"R"}`,
			`{"op":"rEmOvE","path":"title"}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, "A", u["nickName"])
				require.Equal(t, "R", u["displayName"])
				require.NotContains(t, u, "title")
			}},
		{name: "string boolean False", ops: []string{`{"op":"Replace","path":"active","value":"False"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, false, u["active"]) }},
		{name: "string boolean TRUE", user: `{"userName":"x","active":false}`, ops: []string{`{"op":"Replace","path":"active","value":"TRUE"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, true, u["active"]) }},
		{name: "JSON boolean", ops: []string{`{"op":"replace","path":"active","value":false}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, false, u["active"]) }},
		{name: "string boolean in a path-less value", ops: []string{`{"op":"replace","value":{"active":"false"}}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, false, u["active"]) }},
		{name: "not a boolean", ops: []string{`{"op":"replace","path":"active","value":"nope"}`},
			status: 400, scimType: "invalidValue"},
		{name: "not a string", ops: []string{`{"op":"replace","path":"displayName","value":{"a":1}}`},
			status: 400, scimType: "invalidValue"},

		// --- complex attributes ---
		{name: "replace sub-attribute", ops: []string{`{"op":"replace","path":"name.givenName","value":"Patricia"}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, m{"givenName": "Patricia", "familyName": "Smith", "formatted": "Pat Smith"}, u["name"])
			}},
		{name: "add sub-attribute", ops: []string{`{"op":"add","path":"name.middleName","value":"Q"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, "Q", u["name"].(map[string]any)["middleName"]) }},
		{name: "add sub-attribute of unset complex", user: `{"userName":"x"}`, ops: []string{`{"op":"add","path":"name.givenName","value":"G"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, m{"givenName": "G"}, u["name"]) }},
		{name: "sub-attribute path without case", ops: []string{`{"op":"replace","path":"Name.GivenName","value":"G"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, "G", u["name"].(map[string]any)["givenName"]) }},
		{name: "remove sub-attribute", ops: []string{`{"op":"remove","path":"name.givenName"}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, m{"familyName": "Smith", "formatted": "Pat Smith"}, u["name"])
			}},
		{name: "remove every sub-attribute unassigns", ops: []string{
			`{"op":"remove","path":"name.givenName"}`, `{"op":"remove","path":"name.familyName"}`, `{"op":"remove","path":"name.formatted"}`},
			want: func(t *testing.T, u map[string]any) { require.NotContains(t, u, "name") }},
		{name: "replace complex merges sub-attributes", ops: []string{`{"op":"replace","path":"name","value":{"givenName":"G","middleName":"M"}}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, m{"givenName": "G", "middleName": "M", "familyName": "Smith", "formatted": "Pat Smith"}, u["name"])
			}},
		{name: "remove complex", ops: []string{`{"op":"remove","path":"name"}`},
			want: func(t *testing.T, u map[string]any) { require.NotContains(t, u, "name") }},

		// --- multi-valued attributes ---
		{name: "add to multi-valued appends", ops: []string{`{"op":"add","path":"emails","value":[{"value":"new@other.example","type":"other"}]}`},
			want: func(t *testing.T, u map[string]any) {
				require.Len(t, u["emails"], 3)
				require.Equal(t, m{"value": "new@other.example", "type": "other"}, u["emails"].([]any)[2])
			}},
		{name: "add a single value to multi-valued", ops: []string{`{"op":"add","path":"roles","value":{"value":"r4"}}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, l{m{"value": "r1"}, m{"value": "r2"}, m{"value": "r3"}, m{"value": "r4"}}, u["roles"])
			}},
		{name: "add an existing value does not duplicate", noop: true, ops: []string{`{"op":"add","path":"roles","value":[{"value":"r2"}]}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, l{m{"value": "r1"}, m{"value": "r2"}, m{"value": "r3"}}, u["roles"])
			}},
		{name: "replace multi-valued replaces all", ops: []string{`{"op":"replace","path":"emails","value":[{"value":"only@example.com","type":"work"}]}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, l{m{"value": "only@example.com", "type": "work"}}, u["emails"])
			}},
		{name: "remove multi-valued", ops: []string{`{"op":"remove","path":"emails"}`},
			want: func(t *testing.T, u map[string]any) { require.NotContains(t, u, "emails") }},
		{name: "remove with a value array removes only those listed", ops: []string{`{"op":"Remove","path":"roles","value":[{"value":"r2"}]}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, l{m{"value": "r1"}, m{"value": "r3"}}, u["roles"])
			}},
		{name: "remove with a value array of several", ops: []string{`{"op":"remove","path":"roles","value":[{"value":"r1"},{"value":"r3"},{"value":"absent"}]}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, l{m{"value": "r2"}}, u["roles"]) }},
		{name: "remove by value filter", ops: []string{`{"op":"remove","path":"roles[value eq \"r1\"]"}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, l{m{"value": "r2"}, m{"value": "r3"}}, u["roles"])
			}},
		{name: "remove by value filter on type", ops: []string{`{"op":"remove","path":"emails[type eq \"home\"]"}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, l{m{"value": "pat@work.example", "type": "work", "primary": true}}, u["emails"])
			}},
		{name: "remove the last element unassigns", ops: []string{`{"op":"remove","path":"phoneNumbers[type eq \"work\"]"}`, `{"op":"remove","path":"phoneNumbers[type eq \"mobile\"]"}`},
			want: func(t *testing.T, u map[string]any) { require.NotContains(t, u, "phoneNumbers") }},

		{name: "add sub-attribute of a multi-valued attribute without values", user: `{"userName":"x"}`,
			ops:  []string{`{"op":"add","path":"emails.value","value":"a@example.com"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, l{m{"value": "a@example.com"}}, u["emails"]) }},
		{name: "replace sub-attribute of every element", ops: []string{`{"op":"replace","path":"phoneNumbers.type","value":"other"}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, l{m{"value": "555-0001", "type": "other"}, m{"value": "555-0002", "type": "other"}}, u["phoneNumbers"])
			}},

		// --- value-filter paths ---
		{name: "replace filtered sub-attribute", ops: []string{`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@work.example"}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, l{m{"value": "new@work.example", "type": "work", "primary": true}, m{"value": "pat@home.example", "type": "home"}}, u["emails"])
			}},
		{name: "filtered path without case", ops: []string{`{"op":"replace","path":"EMAILS[TYPE eq \"WORK\"].VALUE","value":"caps@work.example"}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, "caps@work.example", u["emails"].([]any)[0].(map[string]any)["value"])
				require.Equal(t, 1, countType(u, "emails", "work"))
			}},
		{name: "add filtered creates the work email", user: `{"userName":"x","emails":[{"value":"h@home.example","type":"home"}]}`,
			ops: []string{`{"op":"Add","path":"emails[type eq \"work\"].value","value":"w@work.example"}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, l{m{"value": "h@home.example", "type": "home"}, m{"value": "w@work.example", "type": "work"}}, u["emails"])
			}},
		{name: "replace filtered creates the work email when none", user: `{"userName":"x"}`,
			ops: []string{`{"op":"replace","path":"emails[type eq \"work\"].value","value":"w@work.example"}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, l{m{"value": "w@work.example", "type": "work"}}, u["emails"])
			}},
		{name: "filtered add twice never duplicates", user: `{"userName":"x"}`,
			ops: []string{
				`{"op":"add","path":"emails[type eq \"work\"].value","value":"one@work.example"}`,
				`{"op":"add","path":"emails[type eq \"work\"].value","value":"two@work.example"}`,
				`{"op":"replace","path":"emails[type eq \"work\"].value","value":"three@work.example"}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, l{m{"value": "three@work.example", "type": "work"}}, u["emails"])
			}},
		{name: "filtered on a value outside the canonical types", ops: []string{`{"op":"replace","path":"emails[type eq \"nonexistent\"].value","value":"x@example.com"}`},
			status: 400, scimType: "noTarget"},
		{name: "filtered with no equality to describe", ops: []string{`{"op":"replace","path":"emails[value co \"nowhere\"].type","value":"home"}`},
			status: 400, scimType: "noTarget"},
		{name: "replace filtered element merges", ops: []string{`{"op":"replace","path":"emails[type eq \"home\"]","value":{"value":"h2@home.example","display":"Home"}}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, m{"value": "h2@home.example", "type": "home", "display": "Home"}, u["emails"].([]any)[1])
			}},
		{name: "filter of several terms", ops: []string{`{"op":"replace","path":"phoneNumbers[type eq \"mobile\" and (value sw \"555\" or value sw \"+1\")].value","value":"555-9999"}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, l{m{"value": "555-0001", "type": "work"}, m{"value": "555-9999", "type": "mobile"}}, u["phoneNumbers"])
			}},
		{name: "remove filtered sub-attribute", ops: []string{`{"op":"remove","path":"emails[type eq \"home\"].type"}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, m{"value": "pat@home.example"}, u["emails"].([]any)[1])
			}},
		{name: "remove by filter matching nothing", noop: true, ops: []string{`{"op":"remove","path":"emails[type eq \"other\"]"}`},
			want: func(t *testing.T, u map[string]any) { require.Len(t, u["emails"], 2) }},

		// --- primary ---
		{name: "new primary email demotes the old one", ops: []string{`{"op":"add","path":"emails","value":[{"value":"p@new.example","type":"other","primary":true}]}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, l{m{"value": "pat@work.example", "type": "work"}, m{"value": "pat@home.example", "type": "home"},
					m{"value": "p@new.example", "type": "other", "primary": true}}, u["emails"])
			}},
		{name: "string primary demotes too", ops: []string{`{"op":"add","path":"emails","value":{"value":"p@new.example","primary":"True"}}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, nil, u["emails"].([]any)[0].(map[string]any)["primary"])
				require.Equal(t, true, u["emails"].([]any)[2].(map[string]any)["primary"])
			}},
		{name: "re-adding the primary email does not duplicate it", noop: true,
			ops: []string{`{"op":"add","path":"emails","value":[{"value":"pat@work.example","type":"work","primary":true}]}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, l{m{"value": "pat@work.example", "type": "work", "primary": true}, m{"value": "pat@home.example", "type": "home"}}, u["emails"])
			}},
		{name: "adding an existing email as primary promotes it",
			ops: []string{`{"op":"add","path":"emails","value":[{"value":"pat@home.example","type":"home","primary":"True"}]}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, l{m{"value": "pat@work.example", "type": "work"}, m{"value": "pat@home.example", "type": "home", "primary": true}}, u["emails"])
			}},
		{name: "filtered primary moves", ops: []string{`{"op":"replace","path":"emails[type eq \"home\"].primary","value":true}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, l{m{"value": "pat@work.example", "type": "work"}, m{"value": "pat@home.example", "type": "home", "primary": true}}, u["emails"])
			}},

		// --- path-less values ---
		{name: "path-less with dotted and URN keys", ops: []string{`{"op":"replace","value":{"displayName":"Bjfe","name.formatted":"Kkom Unua",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"Aklq"}}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, "Bjfe", u["displayName"])
				require.Equal(t, m{"givenName": "Pat", "familyName": "Smith", "formatted": "Kkom Unua"}, u["name"])
				require.NotContains(t, u, "name.formatted")
				require.Equal(t, "Aklq", ent(u)["employeeNumber"])
				require.NotContains(t, u, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber")
			}},
		{name: "path-less add with keys without case", user: `{"userName":"x"}`, ops: []string{`{"op":"add","value":{"NickName":"N","NAME.givenName":"G",
			"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:department":"D"}}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, "N", u["nickName"])
				require.Equal(t, m{"givenName": "G"}, u["name"])
				require.Equal(t, m{"department": "D"}, ent(u))
				require.Equal(t, l{userURN, enterpriseNS}, u["schemas"])
			}},
		{name: "path-less complex merges", ops: []string{`{"op":"replace","value":{"name":{"givenName":"G"}}}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, m{"givenName": "G", "familyName": "Smith", "formatted": "Pat Smith"}, u["name"])
			}},
		{name: "path-less extension object", ops: []string{`{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"New","costCenter":"CC"}}}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, m{"employeeNumber": "1", "department": "New", "costCenter": "CC", "manager": m{"value": "m1"}}, ent(u))
			}},
		{name: "path-less ignores readOnly and unknown keys", ops: []string{`{"op":"replace","value":{"id":"hijack","meta":{"created":"2001-01-01T00:00:00Z"},
			"groups":[{"value":"g"}],"department":"top-level","nickName":"ok"}}`},
			want: func(t *testing.T, u map[string]any) {
				require.Equal(t, "ok", u["nickName"])
				require.NotEqual(t, "hijack", u["id"])
				require.NotEqual(t, "2001-01-01T00:00:00Z", u["meta"].(map[string]any)["created"])
				require.NotContains(t, u, "groups")
				require.NotContains(t, u, "department")
			}},
		{name: "path-less extension key not an object", ops: []string{`{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"x"}}`},
			status: 400, scimType: "invalidValue"},
		{name: "path-less extension key null", noop: true, ops: []string{`{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":null}}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, "1", ent(u)["employeeNumber"]) }},
		{name: "path-less value not an object", ops: []string{`{"op":"replace","value":"x"}`}, status: 400, scimType: "invalidValue"},

		// --- enterprise extension ---
		{name: "extension attribute by URN path", ops: []string{`{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"42"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, "42", ent(u)["employeeNumber"]) }},
		{name: "string attribute given as a number is refused", ops: []string{`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":42}`},
			status: 400, scimType: "invalidValue"},
		{name: "manager as a bare string", ops: []string{`{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m2"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, m{"value": "m2"}, ent(u)["manager"]) }},
		{name: "manager as a bare string, path-less", user: `{"userName":"x"}`,
			ops:  []string{`{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":"m3"}}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, m{"manager": m{"value": "m3"}}, ent(u)) }},
		{name: "manager as an object", ops: []string{`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m4"}}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, m{"value": "m4"}, ent(u)["manager"]) }},
		{name: "manager.value", ops: []string{`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"m5"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, m{"value": "m5"}, ent(u)["manager"]) }},
		{name: "remove manager", ops: []string{`{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}`},
			want: func(t *testing.T, u map[string]any) { require.NotContains(t, ent(u), "manager") }},
		{name: "extension path on the whole extension", ops: []string{`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"division":"Div"}}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, "Div", ent(u)["division"]) }},
		{name: "removing every extension attribute drops the extension", ops: []string{
			`{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"}`,
			`{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}`,
			`{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}`},
			want: func(t *testing.T, u map[string]any) {
				require.NotContains(t, u, enterpriseNS)
				require.Equal(t, l{userURN}, u["schemas"])
			}},
		{name: "remove the whole extension", ops: []string{`{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}`},
			want: func(t *testing.T, u map[string]any) {
				require.NotContains(t, u, enterpriseNS)
				require.Equal(t, l{userURN}, u["schemas"])
			}},
		{name: "adding an extension attribute adds the schema", user: `{"userName":"x"}`,
			ops:  []string{`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter","value":"C"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, l{userURN, enterpriseNS}, u["schemas"]) }},

		// --- errors ---
		{name: "remove without path", ops: []string{`{"op":"remove"}`}, status: 400, scimType: "noTarget"},
		{name: "remove without path, with a value", ops: []string{`{"op":"Remove","value":{"title":"Engineer"}}`}, status: 400, scimType: "noTarget"},
		{name: "readOnly id", ops: []string{`{"op":"replace","path":"id","value":"x"}`}, status: 400, scimType: "mutability"},
		{name: "readOnly meta.created", ops: []string{`{"op":"replace","path":"meta.created","value":"2001-01-01T00:00:00Z"}`}, status: 400, scimType: "mutability"},
		{name: "readOnly meta", ops: []string{`{"op":"remove","path":"meta"}`}, status: 400, scimType: "mutability"},
		{name: "readOnly groups", ops: []string{`{"op":"add","path":"groups","value":[{"value":"g1"}]}`}, status: 400, scimType: "mutability"},
		{name: "readOnly groups filtered", ops: []string{`{"op":"remove","path":"groups[value eq \"g1\"]"}`}, status: 400, scimType: "mutability"},
		{name: "unknown path", ops: []string{`{"op":"replace","path":"noSuchAttribute","value":"x"}`}, status: 400, scimType: "invalidPath"},
		{name: "unknown sub-attribute", ops: []string{`{"op":"replace","path":"name.noSuch","value":"x"}`}, status: 400, scimType: "invalidPath"},
		{name: "unknown extension attribute", ops: []string{`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:noSuch","value":"x"}`}, status: 400, scimType: "invalidPath"},
		{name: "undeclared extension is ignored", noop: true, ops: []string{`{"op":"replace","path":"urn:example:custom:displayName","value":"x"}`},
			want: func(t *testing.T, u map[string]any) { require.NotContains(t, u, "urn:example:custom") }},
		{name: "malformed filter path", ops: []string{`{"op":"replace","path":"emails[type eq \"work\".value","value":"x"}`}, status: 400, scimType: "invalidPath"},
		{name: "unknown attribute in filter path", ops: []string{`{"op":"replace","path":"emails[noSuch eq \"x\"].value","value":"x"}`}, status: 400, scimType: "invalidPath"},
		{name: "filter on a single-valued attribute", ops: []string{`{"op":"replace","path":"name[givenName eq \"Pat\"].familyName","value":"x"}`}, status: 400, scimType: "invalidPath"},
		{name: "unknown op", ops: []string{`{"op":"copy","path":"title","value":"x"}`}, status: 400, scimType: "invalidSyntax"},
		{name: "missing op", ops: []string{`{"path":"title","value":"x"}`}, status: 400, scimType: "invalidSyntax"},
		{name: "removing userName", ops: []string{`{"op":"remove","path":"userName"}`}, status: 400, scimType: "mutability"},
		{name: "emptying userName", ops: []string{`{"op":"replace","path":"userName","value":""}`}, status: 400, scimType: "mutability"},
		{name: "two primaries", ops: []string{`{"op":"replace","path":"emails","value":[{"value":"a@x","primary":true},{"value":"b@x","primary":true}]}`},
			status: 400, scimType: "invalidValue"},

		// --- atomicity: all operations or none ---
		{name: "atomic: invalid path after a valid op", ops: []string{`{"op":"replace","path":"displayName","value":"Changed"}`, `{"op":"replace","path":"noSuch","value":"x"}`},
			status: 400, scimType: "invalidPath"},
		{name: "atomic: readOnly after a valid op", ops: []string{`{"op":"replace","path":"displayName","value":"Changed"}`, `{"op":"replace","path":"id","value":"x"}`},
			status: 400, scimType: "mutability"},
		{name: "atomic: noTarget after valid ops", ops: []string{`{"op":"replace","path":"displayName","value":"Changed"}`,
			`{"op":"add","path":"emails","value":[{"value":"x@y"}]}`, `{"op":"replace","path":"emails[type eq \"nonexistent\"].value","value":"x"}`},
			status: 400, scimType: "noTarget"},
		{name: "atomic: invalid value after a valid op", ops: []string{`{"op":"replace","path":"displayName","value":"Changed"}`, `{"op":"replace","path":"active","value":"maybe"}`},
			status: 400, scimType: "invalidValue"},
		{name: "atomic: invalid result after a valid op", ops: []string{`{"op":"replace","path":"displayName","value":"Changed"}`, `{"op":"remove","path":"userName"}`},
			status: 400, scimType: "mutability"},
		{name: "ops apply in order", ops: []string{`{"op":"replace","path":"title","value":"One"}`, `{"op":"remove","path":"title"}`, `{"op":"add","path":"title","value":"Three"}`},
			want: func(t *testing.T, u map[string]any) { require.Equal(t, "Three", u["title"]) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t)
			user := tt.user
			if user == "" {
				user = patchBase
			}
			id := s.create(user)["id"].(string)
			before := s.do("GET", "/Users/"+id, "")

			r := s.do("PATCH", "/Users/"+id, patchOp(tt.ops...))
			after := s.get(id)
			status := tt.status
			if status == 0 {
				status = http.StatusOK
			}
			if status != http.StatusOK {
				requireError(t, r, status, tt.scimType)
				require.Equal(t, before.Body, after, "a failed PATCH changes nothing")
				return
			}
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
			require.Equal(t, after, r.Body, "PATCH answers the resource as GET does")
			require.Equal(t, r.Header.Get("ETag"), after["meta"].(map[string]any)["version"])
			if tt.noop {
				require.Equal(t, before.Body, after)
			} else {
				require.NotEqual(t, before.Header.Get("ETag"), r.Header.Get("ETag"), "a change changes the version")
			}
			require.NotContains(t, after, "password")
			tt.want(t, after)
		})
	}
}

// TestPatchNoOp: a PATCH that changes nothing (an empty Operations array, or operations that set what is
// already there) answers 200 with the user, and leaves meta.lastModified and the version as they were.
func TestPatchNoOp(t *testing.T) {
	for _, ops := range [][]string{
		nil,
		{`{"op":"replace","path":"displayName","value":"Pat"}`},
		{`{"op":"add","path":"roles","value":[{"value":"r1"}]}`},
		{`{"op":"replace","path":"emails[type eq \"work\"].value","value":"pat@work.example"}`},
		{`{"op":"replace","path":"emails[type eq \"work\"].primary","value":"True"}`},
		{`{"op":"remove","path":"nickName"}`},
		{`{"op":"remove","path":"roles","value":[{"value":"absent"}]}`},
		{`{"op":"replace","value":{"name.givenName":"Pat","active":"True","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":"m1"}}`},
		{`{"op":"replace","path":"displayName","value":"Other"}`, `{"op":"replace","path":"displayName","value":"Pat"}`},
	} {
		body := patchOp(ops...)
		t.Run(body, func(t *testing.T) {
			clock := scim.NewTestClock(time.Now())
			s := newTestServer(t, scim.WithTestClock(clock.Now))
			id := s.create(patchBase)["id"].(string)
			before := s.do("GET", "/Users/"+id, "")
			clock.Advance(2 * time.Millisecond) // a write would get a later lastModified
			r := s.do("PATCH", "/Users/"+id, body)
			require.Equal(t, 200, r.Status, "%s", r.Raw)
			require.Equal(t, before.Body, r.Body)
			require.Equal(t, before.Header.Get("ETag"), r.Header.Get("ETag"))
			require.Equal(t, before.Body, s.get(id))
		})
	}
}

func TestPatchRequestShape(t *testing.T) {
	s := newTestServer(t)
	id := s.create(patchBase)["id"].(string)
	for _, tt := range []struct {
		name, body string
		status     int
		scimType   string
	}{
		{"Operations before schemas", `{"Operations":[{"op":"add","path":"nickName","value":"N"}],"schemas":["` + patchOpURN + `"]}`, 200, ""},
		{"keys without case", `{"operations":[{"OP":"add","PATH":"nickName","VALUE":"N2"}]}`, 200, ""},
		{"no Operations", `{"schemas":["` + patchOpURN + `"]}`, 400, "invalidSyntax"},
		{"Operations null", `{"Operations":null}`, 400, "invalidSyntax"},
		{"Operations an object", `{"Operations":{"op":"add"}}`, 400, "invalidSyntax"},
		{"op not a string", `{"Operations":[{"op":1,"path":"title"}]}`, 400, "invalidSyntax"},
		{"not JSON", `Operations`, 400, "invalidSyntax"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do("PATCH", "/Users/"+id, tt.body)
			if tt.status == 200 {
				require.Equal(t, 200, r.Status, "%s", r.Raw)
				return
			}
			requireError(t, r, tt.status, tt.scimType)
		})
	}
	require.Equal(t, "N2", s.get(id)["nickName"])
}

// TestPatchLastModified: a PATCH that changes the user moves meta.lastModified forward and keeps created.
func TestPatchLastModified(t *testing.T) {
	clock := scim.NewTestClock(time.Now())
	s := newTestServer(t, scim.WithTestClock(clock.Now))
	u := s.create(patchBase)
	meta := u["meta"].(map[string]any)
	clock.Advance(5 * time.Millisecond)
	r := s.do("PATCH", "/Users/"+u["id"].(string), patchOp(`{"op":"replace","path":"title","value":"CTO"}`))
	require.Equal(t, 200, r.Status)
	after := r.Body["meta"].(map[string]any)
	require.Equal(t, meta["created"], after["created"])
	t0, err := time.Parse(time.RFC3339Nano, meta["lastModified"].(string))
	require.NoError(t, err)
	t1, err := time.Parse(time.RFC3339Nano, after["lastModified"].(string))
	require.NoError(t, err)
	require.True(t, t1.After(t0), "%v then %v", t0, t1)
}
