package filter

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim/schema"
)

// bjensen is the canonical JSON form of RFC 7643 §8.2's full User, trimmed, as json.Unmarshal gives it.
const bjensen = `{
	"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
	"id": "2819c223-7f76-453a-919d-413861904646",
	"externalId": "Ext-701984",
	"userName": "BJensen@Example.com",
	"name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara"},
	"displayName": "Babs Jensen",
	"nickName": "",
	"title": "Tour Guide",
	"userType": "Employee",
	"active": true,
	"emails": [
		{"value": "bjensen@example.com", "type": "work", "primary": true},
		{"value": "babs@jensen.org", "type": "home"}
	],
	"phoneNumbers": [],
	"ims": [{"value": "someaimhandle", "type": "aim"}],
	"addresses": [{"type": "work", "locality": "Hollywood", "primary": true}, {"type": "home", "locality": "Anytown"}],
	"groups": [{"value": "e9e30dba-f08f-4109-8486-d5c6a331660a", "display": "Tour Guides"}],
	"x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}],
	"meta": {
		"resourceType": "User",
		"created": "2010-01-23T04:56:22Z",
		"lastModified": "2011-05-13T04:42:34.5+02:00",
		"version": "W/\"a330bc54f0671c9\""
	},
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
		"employeeNumber": "701984",
		"costCenter": "4130",
		"department": "Tour Operations",
		"manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
	},
	"loginCount": 42,
	"score": 2.5
}`

func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &doc))
	return doc
}

func TestMatch(t *testing.T) {
	rt := numericUser()
	doc := decode(t, bjensen)
	tests := []struct {
		filter string
		want   bool
	}{
		// userName is caseExact false.
		{`userName eq "bjensen@example.com"`, true},
		{`userName eq "BJENSEN@EXAMPLE.COM"`, true},
		{`USERNAME Eq "bjensen@example.com"`, true},
		{`userName eq "bjensen"`, false},
		{`userName ne "bjensen@example.com"`, false},
		{`userName ne "bjensen"`, true},
		{`userName sw "bjen"`, true},
		{`userName sw "BJEN"`, true},
		{`userName ew "@EXAMPLE.com"`, true},
		{`userName co "jensen@"`, true},
		{`userName co "smith"`, false},
		{`userName gt "a"`, true},
		{`userName gt "c"`, false},
		{`userName lt "C"`, true},
		{`userName ge "bjensen@example.com"`, true},
		{`userName le "bjensen@example.com"`, true},
		{`userName lt "bjensen@example.com"`, false},

		// externalId and id are caseExact true.
		{`externalId eq "Ext-701984"`, true},
		{`externalId eq "ext-701984"`, false},
		{`externalId sw "Ext"`, true},
		{`externalId sw "EXT"`, false},
		{`id eq "2819c223-7f76-453a-919d-413861904646"`, true},
		{`id eq "2819C223-7F76-453A-919D-413861904646"`, false},
		{`urn:ietf:params:scim:schemas:core:2.0:User:id pr`, true},

		// Multi-valued attributes match when any value does.
		{`emails.value eq "babs@jensen.org"`, true},
		{`emails eq "BJENSEN@example.com"`, true},
		{`emails co "jensen.org"`, true},
		{`emails.type eq "home"`, true},
		{`emails.type eq "other"`, false},
		{`emails.type ne "other"`, true},
		{`emails.type ne "home"`, false}, // ne is not eq: some email is "home"
		{`emails.primary eq true`, true},
		{`emails.primary eq false`, false}, // the home email has no primary: unassigned is not false
		{`addresses.locality sw "any"`, true},

		// Value paths: all conditions on the same element.
		{`emails[type eq "work"]`, true},
		{`emails[type eq "work" and primary eq true]`, true},
		{`emails[type eq "home" and primary eq true]`, false},
		{`emails[type eq "work" and primary eq true and value co "example"]`, true},
		{`emails[type eq "work" and primary eq true and value co "jensen.org"]`, false},
		{`emails[(type eq "work" or type eq "home") and primary eq true]`, true},
		{`emails[(type eq "other" or type eq "home") and primary eq true]`, false},
		{`emails[not (type eq "work")]`, true},
		{`emails[not (value co "@")]`, false},
		{`emails[primary pr]`, true},
		{`emails[display pr]`, false},
		{`emails[primary ne true]`, true}, // the home email
		{`ims[type eq "aim"]`, true},
		{`phoneNumbers[type eq "work"]`, false},
		{`groups[display eq "tour guides"]`, true},
		{`name[givenName eq "barbara"]`, true},
		{`meta[created lt "2011-01-01T00:00:00Z"]`, true},

		// Presence.
		{`title pr`, true},
		{`nickName pr`, false},     // empty string
		{`phoneNumbers pr`, false}, // empty array
		{`emails pr`, true},
		{`name pr`, true},
		{`locale pr`, false}, // absent
		{`emails.display pr`, false},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager pr`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization pr`, false},

		// null and absent attributes.
		{`title eq null`, false},
		{`title ne null`, true},
		{`locale eq null`, true},
		{`locale ne null`, false},
		{`nickName eq null`, true},
		{`phoneNumbers eq null`, true},
		{`locale eq "en"`, false},
		{`locale ne "en"`, true}, // ne on an absent attribute matches
		{`not (locale eq "en")`, true},
		{`emails.display ne "x"`, true},

		// Booleans.
		{`active eq true`, true},
		{`active eq TRUE`, true},
		{`active eq "True"`, true},
		{`active eq false`, false},
		{`active ne false`, true},
		{`active ne true`, false},

		// dateTimes compare as instants, whatever their zone.
		{`meta.created eq "2010-01-23T04:56:22Z"`, true},
		{`meta.created eq "2010-01-23T05:56:22+01:00"`, true},
		{`meta.created eq "2010-01-22T23:56:22-05:00"`, true},
		{`meta.created eq "2010-01-23T04:56:22.000Z"`, true},
		{`meta.created ne "2010-01-23T05:56:22+01:00"`, false},
		{`meta.created gt "2010-01-23T05:00:00+01:00"`, true}, // 04:00Z
		{`meta.created gt "2010-01-23T04:56:22Z"`, false},
		{`meta.created ge "2010-01-23T04:56:22Z"`, true},
		{`meta.created lt "2010-01-23T06:00:00+01:00"`, true},  // 05:00Z
		{`meta.created lt "2010-01-23T04:00:00-01:00"`, true},  // 05:00Z
		{`meta.created lt "2010-01-23T03:00:00-01:00"`, false}, // 04:00Z
		{`meta.created le "2010-01-23T04:56:22Z"`, true},
		{`meta.lastModified eq "2011-05-13T02:42:34.5Z"`, true},
		{`meta.lastModified gt "2011-05-13T02:42:34Z"`, true},
		{`meta.lastModified lt "2011-05-13T04:00:00Z"`, true}, // 02:42Z, although "04:42" sorts later as text
		{`meta.created sw "2010-01"`, true},
		{`meta.lastModified gt "2000-01-01T00:00:00Z" and meta.lastModified lt "2020-01-01T00:00:00Z"`, true},

		// Extension attributes live under their URN.
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`, true},
		{`URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER eq "701984"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1"`, false},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value sw "2611"]`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department co "operations"`, true},

		// Numbers.
		{`loginCount eq 42`, true},
		{`loginCount eq 42.0`, true},
		{`loginCount gt 41`, true},
		{`loginCount gt 42`, false},
		{`loginCount ge 42`, true},
		{`loginCount lt 1e3`, true},
		{`loginCount lt 99999999999999999999`, true},
		{`score eq 2.5`, true},
		{`score le 2`, false},
		{`score ne 2`, true},

		// binary and reference.
		{`x509Certificates.value sw "MIIDQzCC"`, true},
		{`x509Certificates.value sw "miidqzcc"`, false},

		// Logic.
		{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`, true},
		{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`, false},
		{`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`, true},
		{`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`, true},
		{`title pr and locale pr`, false},
		{`title pr or locale pr`, true},
		{`locale pr or nickName pr or userType eq "x" or title eq "tour guide"`, true},
		{`not (title pr)`, false},
		{`not (not (title pr))`, true},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			e, err := Parse(rt, tt.filter)
			require.NoError(t, err)
			require.Equal(t, tt.want, Match(e, doc))
			again, err := Parse(rt, String(e))
			require.NoError(t, err)
			require.Equal(t, tt.want, Match(again, doc), "String keeps the meaning: %s", String(e))
		})
	}
}

func TestMatchEntra(t *testing.T) {
	rt := schema.User()
	docs := []map[string]any{
		decode(t, `{"userName": "jane@contoso.com", "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", "displayName": "Jane \"JJ\" O'Neil"}`),
		decode(t, `{"userName": "j+d@x.com", "externalId": "0A21F0F2-8D2A-4F8E-BF98-7363C4AED4EF"}`),
		decode(t, `{"userName": "Jane@Contoso.com"}`),
	}
	tests := []struct {
		filter string
		want   []bool // per doc
	}{
		{`userName eq "jane@contoso.com"`, []bool{true, false, true}},
		{`userName eq "j+d@x.com"`, []bool{false, true, false}},
		{`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`, []bool{true, false, false}},
		{`displayName eq "Jane \"JJ\" O'Neil"`, []bool{true, false, false}},
		{`displayName eq "jane \u0022jj\u0022 o'neil"`, []bool{true, false, false}},
		{`externalId ne "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`, []bool{false, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			e, err := Parse(rt, tt.filter)
			require.NoError(t, err)
			for i, doc := range docs {
				require.Equal(t, tt.want[i], Match(e, doc), "doc %d", i)
			}
		})
	}
}

func TestMatchOddDocuments(t *testing.T) {
	rt := numericUser()
	filters := []string{
		`userName eq "x"`, `active eq true`, `emails[type eq "work"]`, `emails.value co "x"`, `meta.created gt "2010-01-01T00:00:00Z"`,
		`loginCount gt 1`, `name.givenName pr`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`,
		`title ne "x"`, `title eq null`,
	}
	docs := []map[string]any{
		nil,
		{},
		decode(t, `{"userName": 5, "active": "true", "emails": "x", "meta": "x", "loginCount": "NaN-ish", "name": ["x"]}`),
		decode(t, `{"userName": null, "active": null, "emails": [null, 5, "x", {"type": 5}], "meta": {"created": 7}, "loginCount": true}`),
		decode(t, `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "x", "name": {"givenName": null}}`),
		decode(t, `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": ["x"]}, "meta": {"created": "not a date"}}`),
	}
	for _, f := range filters {
		e, err := Parse(rt, f)
		require.NoError(t, err)
		for _, doc := range docs {
			require.NotPanics(t, func() { Match(e, doc) }, "%s on %v", f, doc)
		}
	}
	// Documents of the wrong shape match nothing, and ne / eq null treat the attribute as unassigned.
	e, err := Parse(rt, `emails[type eq "work"]`)
	require.NoError(t, err)
	require.False(t, Match(e, docs[2]))
	e, err = Parse(rt, `title ne "x"`)
	require.NoError(t, err)
	require.True(t, Match(e, nil))
}

func TestMatchHandBuilt(t *testing.T) {
	rt := schema.User()
	active, ok := rt.Resolve("active")
	require.True(t, ok)
	created, ok := rt.Resolve("meta.created")
	require.True(t, ok)
	userName, ok := rt.Resolve("userName")
	require.True(t, ok)
	doc := decode(t, bjensen)
	// Literals of the wrong type in an Expr built by hand match nothing rather than panic.
	for _, e := range []Expr{
		&Compare{Path: active, Op: Eq, Value: "yes"},
		&Compare{Path: created, Op: Gt, Value: 5},
		&Compare{Path: userName, Op: Eq, Value: 5},
		&Compare{Path: userName, Op: Co, Value: true},
		nil,
	} {
		require.NotPanics(t, func() { require.False(t, Match(e, doc)) })
	}
}

func TestValues(t *testing.T) {
	rt := schema.User()
	doc := decode(t, bjensen)
	path := func(s string) schema.Path {
		p, ok := rt.Resolve(s)
		require.True(t, ok, s)
		return p
	}
	require.Equal(t, []any{"BJensen@Example.com"}, Values(doc, path("userName")))
	require.Equal(t, []any{"bjensen@example.com", "babs@jensen.org"}, Values(doc, path("emails.value")))
	require.Equal(t, []any{true}, Values(doc, path("emails.primary")))
	require.Len(t, Values(doc, path("emails")), 2)
	require.Empty(t, Values(doc, path("locale")))
	require.Empty(t, Values(doc, path("phoneNumbers")))
	require.Equal(t, []any{"701984"}, Values(doc, path(entURN+":employeeNumber")))
	require.Equal(t, []any{"26118915-6090-4610-87e4-49d8ca9f808d"}, Values(doc, path(entURN+":manager.value")))
	require.Empty(t, Values(doc, path(entURN)), "a whole extension has no values")
	require.Empty(t, Values(map[string]any{}, path(entURN+":employeeNumber")))
}

func TestFold(t *testing.T) {
	require.Equal(t, "bjensen@example.com", Fold("BJensen@Example.COM"))
	require.Equal(t, Fold("ÅNGSTRÖM"), Fold("ångström"))
}
