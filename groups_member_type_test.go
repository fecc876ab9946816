package scim_test

import (
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGroupMemberType: a member is judged by its id, not by the client's labels (docs/groups.md, "Members are
// users"). What Entra ID and Okta send (no type, "$ref": null, a display) and a correct label ("User" in any
// case, a $ref to the user, on our base URL or another) are accepted alike; an id that is no user's (a group's
// included) is 400 naming it, whatever the label says; a label saying the member is something else (type
// "Group", a $ref to a group) is 400 and never read as a user with that id. Answers always type members "User"
// from the id. Over POST, PUT and PATCH on every store of the matrix.
func TestGroupMemberType(t *testing.T) {
	groupStores(t, func(t *testing.T, k groupKind) {
		s, _ := k.serve(t)
		u1, u2 := s.createUser("a@x"), s.createUser("b@x")
		other := s.createGroup(`{"displayName":"Other"}`)
		member := func(fields string) string { return `{` + fields + `}` }
		add := func(m string) string { return patchOp(`{"op":"add","path":"members","value":[` + m + `]}`) }

		tests := []struct {
			name     string
			member   string // one member object; the group starts with u1 as member
			status   int
			contains string // in the error's detail
		}{
			// Accepted: the labels are harmless, the id decides.
			{"Entra: $ref null, no type", member(`"$ref":null,"value":"` + u2 + `"`), 204, ""},
			{"Okta: display, no type", member(`"value":"` + u2 + `","display":"test.user@okta.local"`), 204, ""},
			{"type User", member(`"value":"` + u2 + `","type":"User"`), 204, ""},
			{"type in lower case", member(`"value":"` + u2 + `","type":"user"`), 204, ""},
			{"$ref to the user", member(`"value":"` + u2 + `","$ref":"` + s.URL + `/Users/` + u2 + `","type":"User"`), 204, ""},
			{"$ref on another base URL", member(`"value":"` + u2 + `","$ref":"https://idp.example/scim/v2/Users/` + u2 + `"`), 204, ""},
			// Refused: the id names no user, whatever the label.
			{"a group's id, no type", member(`"value":"` + other + `"`), 400, other},
			{"a group's id labelled User", member(`"value":"` + other + `","type":"User"`), 400, other},
			{"an unknown id", member(`"value":"no-such-id"`), 400, "no-such-id"},
			// Refused: a label that says the member is not a user, even on a user's id.
			{"type Group on a group's id", member(`"value":"` + other + `","type":"Group"`), 400, "groups cannot be members"},
			{"type Group on a user's id", member(`"value":"` + u2 + `","type":"Group"`), 400, `type "Group"`},
			{"an unknown type", member(`"value":"` + u2 + `","type":"direct"`), 400, `type "direct"`},
			{"$ref to a group", member(`"value":"` + u2 + `","$ref":"` + s.URL + `/Groups/` + other + `"`), 400, "$ref to a group"},
			{"no value", member(`"type":"User"`), 400, "needs a value"},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := *s
				s.t = t
				check := func(method string, r result) {
					t.Helper()
					if tt.status >= 400 {
						requireError(t, r, 400, "invalidValue")
						require.Contains(t, r.Body["detail"], tt.contains, "%s", method)
						return
					}
					require.Contains(t, []int{200, 201, 204}, r.Status, "%s %s", method, r.Raw)
				}
				want := []string{u1}
				if tt.status < 400 {
					want = sorted(u1, u2)
				}
				name := "case-" + strconv.Itoa(i)
				body := `{"displayName":"` + name + `","members":[{"value":"` + u1 + `"},` + tt.member + `]}`

				// POST: the group is created only when the member is accepted, members typed from the id.
				r := s.do("POST", "/Groups", body)
				check("POST", r)
				if r.Status == 201 {
					id := r.Body["id"].(string)
					require.Equal(t, want, s.memberIDs(id))
					for _, m := range asList(s.do("GET", "/Groups/"+id, "").Body["members"]) {
						require.Equal(t, "User", m["type"], "typed from the id, not the label")
						require.Equal(t, s.URL+"/Users/"+m["value"].(string), m["$ref"])
					}
					require.Equal(t, 204, s.do("DELETE", "/Groups/"+id, "").Status)
				}
				require.Equal(t, 0.0, s.do("GET", "/Groups?filter="+url.QueryEscape(`displayName eq "`+name+`"`), "").Body["totalResults"])

				// PATCH (Entra's and Okta's add) and PUT (Okta's App Integration Wizard) on a group of u1: a
				// refused request changes nothing.
				id := s.createGroup(`{"displayName":"` + name + `","members":[{"value":"` + u1 + `"}]}`)
				check("PATCH", s.do("PATCH", "/Groups/"+id, add(tt.member)))
				require.Equal(t, want, s.memberIDs(id))
				require.Equal(t, 204, s.do("PATCH", "/Groups/"+id, patchOp(`{"op":"replace","path":"members","value":[{"value":"`+u1+`"}]}`)).Status)
				check("PUT", s.do("PUT", "/Groups/"+id, body))
				require.Equal(t, want, s.memberIDs(id))
				require.Equal(t, 204, s.do("DELETE", "/Groups/"+id, "").Status)
			})
		}
	})
}

// TestGroupSchemaMemberTypes: /Schemas advertises only the member type the handler accepts (RFC 7643 §7:
// canonicalValues and referenceTypes say what a client may send).
func TestGroupSchemaMemberTypes(t *testing.T) {
	s := newTestServer(t)
	r := s.do("GET", "/Schemas/"+groupURN, "")
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	var members map[string]any
	for _, a := range asList(r.Body["attributes"]) {
		if a["name"] == "members" {
			members = a
		}
	}
	require.NotNil(t, members)
	subs := map[string]map[string]any{}
	for _, sa := range asList(members["subAttributes"]) {
		subs[sa["name"].(string)] = sa
	}
	require.Equal(t, []any{"User"}, subs["type"]["canonicalValues"])
	require.Equal(t, []any{"User"}, subs["$ref"]["referenceTypes"])
}
