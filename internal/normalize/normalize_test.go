package normalize

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim/schema"
)

// body decodes a request body the way the handler does: numbers as json.Number.
func body(t testing.TB, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	require.NoError(t, d.Decode(&m))
	return m
}

const ent = schema.EnterpriseUserURN

func TestNormalize(t *testing.T) {
	rt := schema.User()
	tests := []struct {
		name, in, want string
	}{
		{"canonical names", `{"USERNAME": "bjensen", "Name": {"GivenName": "Barbara"}, "EMAILS": [{"VALUE": "b@x.com"}]}`,
			`{"userName": "bjensen", "name": {"givenName": "Barbara"}, "emails": [{"value": "b@x.com"}]}`},
		{"string booleans", `{"active": "True", "emails": [{"value": "a@x.com", "primary": "FALSE"}, {"value": "b@x.com", "primary": "true"}]}`,
			`{"active": true, "emails": [{"value": "a@x.com", "primary": false}, {"value": "b@x.com", "primary": true}]}`},
		{"booleans", `{"active": false}`, `{"active": false}`},
		{"nulls dropped", `{"userName": "u", "title": null, "name": {"givenName": null, "familyName": "F"}, "emails": [null, {"value": null}]}`,
			`{"userName": "u", "name": {"familyName": "F"}}`},
		{"empty values dropped", `{"userName": "u", "title": "", "emails": [], "name": {}, "phoneNumbers": [{}]}`, `{"userName": "u"}`},
		{"unknown attributes dropped", `{"userName": "u", "foo": 1, "name": {"foo": "x", "givenName": "G"}, "urn:example:ext:1.0:Thing": {"a": 1}}`,
			`{"userName": "u", "name": {"givenName": "G"}}`},
		{"schemas dropped", `{"schemas": ["` + schema.UserURN + `"], "SCHEMAS": 5, "userName": "u"}`, `{"userName": "u"}`},
		{"read-only dropped", `{"id": "x", "meta": {"created": "2010-01-23T04:56:22Z"}, "groups": [{"value": "g"}], "userName": "u"}`, `{"userName": "u"}`},
		{"read-only wrong types dropped", `{"id": 5, "meta": "x", "groups": true, "userName": "u"}`, `{"userName": "u"}`},
		{"read-only sub-attribute dropped", `{"` + ent + `": {"manager": {"value": "m", "displayName": "Boss"}}}`,
			`{"` + ent + `": {"manager": {"value": "m"}}}`},
		{"read-only sub-attribute path dropped", `{"` + ent + `:manager.displayName": "Boss", "meta.created": "2010-01-23T04:56:22Z"}`, `{}`},
		{"write-only kept", `{"password": "t1meMa$heen"}`, `{"password": "t1meMa$heen"}`},
		{"dotted key", `{"name.formatted": "Ms. Barbara J Jensen III"}`, `{"name": {"formatted": "Ms. Barbara J Jensen III"}}`},
		{"dotted keys merge", `{"name.givenName": "B", "NAME.familyName": "J", "name": {"formatted": "F"}}`,
			`{"name": {"givenName": "B", "familyName": "J", "formatted": "F"}}`},
		{"dotted key wins over object", `{"name": {"givenName": "x"}, "name.givenName": "y"}`, `{"name": {"givenName": "y"}}`},
		{"dotted key on multi-valued dropped", `{"emails.value": "a@x.com"}`, `{}`},
		{"URN key", `{"` + ent + `:employeeNumber": "701984"}`, `{"` + ent + `": {"employeeNumber": "701984"}}`},
		{"URN key any case", `{"` + strings.ToLower(ent) + `:EMPLOYEENUMBER": "701984"}`, `{"` + ent + `": {"employeeNumber": "701984"}}`},
		{"URN sub-attribute key", `{"` + ent + `:manager.value": "m"}`, `{"` + ent + `": {"manager": {"value": "m"}}}`},
		{"core URN key", `{"` + schema.UserURN + `:userName": "u", "` + schema.UserURN + `:name.givenName": "G"}`, `{"userName": "u", "name": {"givenName": "G"}}`},
		{"extension object", `{"` + ent + `": {"employeeNumber": "1", "costCenter": "4130", "Department": "Ops"}}`,
			`{"` + ent + `": {"employeeNumber": "1", "costCenter": "4130", "department": "Ops"}}`},
		{"extension object any case", `{"` + strings.ToUpper(ent) + `": {"employeeNumber": "1"}}`, `{"` + ent + `": {"employeeNumber": "1"}}`},
		{"extension object and URN keys merge", `{"` + ent + `": {"employeeNumber": "1"}, "` + ent + `:costCenter": "2"}`,
			`{"` + ent + `": {"employeeNumber": "1", "costCenter": "2"}}`},
		{"empty extension object", `{"` + ent + `": {}}`, `{}`},
		{"null extension", `{"` + ent + `": null}`, `{}`},
		{"misspelled extension URN ignored", `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:Usr": {"employeeNumber": "1"},
			"urn:ietf:params:scim:schemas:extensions:enterprise:2.0:User:employeeNumber": "2"}`, `{}`},
		{"extension attribute without URN ignored", `{"employeeNumber": "1"}`, `{}`},
		{"single email wrapped", `{"emails": {"value": "b@x.com", "type": "work", "primary": true}}`,
			`{"emails": [{"value": "b@x.com", "type": "work", "primary": true}]}`},
		{"single email object wrapped", `{"emails": {"value": "b@x.com"}}`, `{"emails": [{"value": "b@x.com"}]}`},
		{"manager as an array of one (Entra)", `{"` + ent + `:manager": [{"value": "26118915"}]}`, `{"` + ent + `": {"manager": {"value": "26118915"}}}`},
		{"app role as stringified JSON (Entra)", `{"roles": [{"value": "{\"id\":\"06b0\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}]}`,
			`{"roles": [{"value": "25", "display": "Role1234"}]}`},
		{"bare manager", `{"` + ent + `": {"manager": "26118915"}}`, `{"` + ent + `": {"manager": {"value": "26118915"}}}`},
		{"bare manager URN key", `{"` + ent + `:manager": "26118915"}`, `{"` + ent + `": {"manager": {"value": "26118915"}}}`},
		{"manager object", `{"` + ent + `:manager": {"value": "26118915", "$ref": "../Users/26118915"}}`,
			`{"` + ent + `": {"manager": {"value": "26118915", "$ref": "../Users/26118915"}}}`},
		{"Entra create", `{
			"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
			"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", "userName": "Test_User_ab6490ee@contoso.com", "active": "True",
			"displayName": "Test User", "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@contoso.com"}],
			"meta": {"resourceType": "User"}, "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
			"roles": [],
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "1", "department": "Sales", "manager": "mgr-id"}}`,
			`{"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", "userName": "Test_User_ab6490ee@contoso.com", "active": true,
			"displayName": "Test User", "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@contoso.com"}],
			"name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "1", "department": "Sales", "manager": {"value": "mgr-id"}}}`},
		{"Okta create", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "isaac.brock@example.com",
			"name": {"givenName": "Isaac", "familyName": "Brock"}, "emails": [{"primary": true, "value": "isaac.brock@example.com", "type": "work"}],
			"displayName": "Isaac Brock", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7", "groups": [], "password": "1mz050nq", "active": true}`,
			`{"userName": "isaac.brock@example.com", "name": {"givenName": "Isaac", "familyName": "Brock"},
			"emails": [{"primary": true, "value": "isaac.brock@example.com", "type": "work"}], "displayName": "Isaac Brock", "locale": "en-US",
			"externalId": "00ujl29u0le5T6Aj10h7", "password": "1mz050nq", "active": true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := body(t, tt.in)
			got, err := Resource(rt, in, nil)
			require.NoError(t, err)
			require.Equal(t, body(t, tt.want), got)
			requireNoPathKeys(t, got)
			again, err := Resource(rt, got, nil)
			require.NoError(t, err)
			require.Equal(t, got, again, "Normalize is idempotent")
		})
	}
}

// requireNoPathKeys checks that no key of a canonical document is a path ("name.formatted", "urn:...:x").
func requireNoPathKeys(t *testing.T, doc map[string]any) {
	t.Helper()
	for k, v := range doc {
		if strings.HasPrefix(k, "urn:") {
			require.Equal(t, schema.EnterpriseUserURN, k)
		} else {
			require.NotContains(t, k, ".", "literal path key %q", k)
		}
		if m, ok := v.(map[string]any); ok {
			for sk := range m {
				require.NotContains(t, sk, ".", "literal path key %q in %q", sk, k)
				require.NotContains(t, sk, ":", "literal URN key %q in %q", sk, k)
			}
		}
	}
}

func TestNormalizeInvalid(t *testing.T) {
	rt := schema.User()
	for _, in := range []string{
		`{"userName": true}`,
		`{"userName": ["a"]}`,
		`{"userName": {"value": "a"}}`,
		`{"active": "maybe"}`,
		`{"active": "yes"}`,
		`{"active": "1"}`,
		`{"active": 1}`,
		`{"active": [true]}`,
		`{"name": "Barbara"}`,
		`{"name": ["x"]}`,
		`{"name": {"givenName": true}}`,
		`{"name.givenName": {"x": 1}}`,
		`{"emails": [5]}`,
		`{"emails": [true]}`,
		`{"emails": [{"value": "a", "primary": "sometimes"}]}`,
		`{"emails": [{"value": ["a"]}]}`,
		`{"emails": [[{"value": "a"}]]}`,
		`{"` + ent + `": "x"}`,
		`{"` + ent + `": ["x"]}`,
		`{"` + ent + `": {"employeeNumber": true}}`,
		`{"` + ent + `": {"manager": 5}}`,
		`{"` + ent + `:manager": true}`,
		`{"` + ent + `:costCenter": {"value": "x"}}`,
		`{"profileUrl": false}`,
		`{"userName": 5}`,
		`{"emails": "notalist"}`,
		`{"emails": ["b@x.com"]}`,
		`{"` + ent + `:employeeNumber": 701984}`,
	} {
		t.Run(in, func(t *testing.T) {
			got, err := Resource(rt, body(t, in), nil)
			require.ErrorIs(t, err, ErrInvalidValue)
			require.Nil(t, got)
		})
	}
}

func TestNormalizeExtensionEmptyKey(t *testing.T) {
	rt := schema.User()
	got, err := Resource(rt, body(t, `{"`+ent+`:": {"costCenter": "1"}, "`+ent+`": {"": "x", "department": "d"}}`), nil)
	require.NoError(t, err)
	require.Equal(t, body(t, `{"`+ent+`": {"department": "d"}}`), got)
}

func TestPut(t *testing.T) {
	rt := schema.User()
	doc := map[string]any{"name": map[string]any{"givenName": "B"}}
	require.NoError(t, Put(rt, doc, "name.familyName", "Jensen"))
	require.NoError(t, Put(rt, doc, "NAME", map[string]any{"formatted": "Barbara Jensen"}))
	require.NoError(t, Put(rt, doc, ent+":manager", "m1"))
	require.NoError(t, Put(rt, doc, ent+":manager.$ref", "../Users/m1"))
	require.NoError(t, Put(rt, doc, "emails", map[string]any{"value": "b@x.com"}))
	require.NoError(t, Put(rt, doc, "id", "ignored"))
	require.NoError(t, Put(rt, doc, "nope", "ignored"))
	require.NoError(t, Put(rt, doc, "title", nil))
	require.ErrorIs(t, Put(rt, doc, "active", "perhaps"), ErrInvalidValue)
	require.Equal(t, map[string]any{
		"name":   map[string]any{"givenName": "B", "familyName": "Jensen", "formatted": "Barbara Jensen"},
		"emails": []any{map[string]any{"value": "b@x.com"}},
		ent:      map[string]any{"manager": map[string]any{"value": "m1", "$ref": "../Users/m1"}},
	}, doc)

	// A multi-valued attribute is replaced, not merged.
	require.NoError(t, Put(rt, doc, "emails", []any{map[string]any{"value": "c@x.com"}}))
	require.Equal(t, []any{map[string]any{"value": "c@x.com"}}, doc["emails"])
}

func TestCoerce(t *testing.T) {
	rt := schema.User()
	attr := func(path string) *schema.Attribute {
		p, ok := rt.Resolve(path)
		require.True(t, ok, path)
		return p.Target()
	}
	num := &schema.Attribute{Name: "n", Type: schema.Integer}
	dec := &schema.Attribute{Name: "d", Type: schema.Decimal}
	when := &schema.Attribute{Name: "w", Type: schema.DateTime}
	tests := []struct {
		a       *schema.Attribute
		in, out any
		err     bool
	}{
		{attr("userName"), "u", "u", false},
		{attr("userName"), "", nil, false},
		{attr("userName"), nil, nil, false},
		{attr("userName"), json.Number("12"), nil, true},
		{attr("userName"), 12.0, nil, true},
		{attr("active"), "tRUE", true, false},
		{attr("active"), "False", false, false},
		{attr("active"), "", nil, true},
		{num, json.Number("42"), json.Number("42"), false},
		{num, 42.0, json.Number("42"), false},
		{num, " 42 ", json.Number("42"), false},
		{num, json.Number("4.2"), nil, true},
		{num, json.Number("99999999999999999999"), nil, true},
		{num, true, nil, true},
		{dec, json.Number("4.2"), json.Number("4.2"), false},
		{dec, "x", nil, true},
		{when, "2010-01-23T04:56:22Z", "2010-01-23T04:56:22Z", false},
		{when, "2010-01-23T04:56:22.123+02:00", "2010-01-23T04:56:22.123+02:00", false},
		{when, "", nil, false},
		{when, "2010-01-23", nil, true},
		{when, 5.0, nil, true},
		{attr("emails"), []any{}, nil, false},
		{attr("emails"), []any{map[string]any{}}, nil, false},
		{attr("emails"), map[string]any{"Value": "a"}, []any{map[string]any{"value": "a"}}, false},
		{attr("name"), map[string]any{"givenName": ""}, nil, false},
		{attr("name"), "x", nil, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v", tt.a.Name, tt.in), func(t *testing.T) {
			got, err := Coerce(tt.a, tt.in)
			if tt.err {
				require.ErrorIs(t, err, ErrInvalidValue)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.out, got)
		})
	}
}

func TestValidate(t *testing.T) {
	rt := schema.User()
	tests := []struct {
		name, doc string
		ok        bool
	}{
		{"userName present", `{"userName": "u"}`, true},
		{"userName missing", `{"displayName": "u"}`, false},
		{"empty document", `{}`, false},
		{"id is not required of a request", `{"userName": "u"}`, true},
		{"extension present without required attributes", `{"userName": "u", "` + ent + `": {"costCenter": "1"}}`, true},
		{"one primary", `{"userName": "u", "emails": [{"value": "a", "primary": true}, {"value": "b", "primary": false}]}`, true},
		{"two primaries", `{"userName": "u", "emails": [{"value": "a", "primary": true}, {"value": "b", "primary": true}]}`, false},
		{"two primaries in another attribute", `{"userName": "u", "addresses": [{"locality": "a", "primary": true}, {"locality": "b", "primary": true}]}`, false},
		{"same value twice", `{"userName": "u", "emails": [{"value": "a", "type": "work"}, {"value": "a", "type": "work"}]}`, false},
		{"same address different type", `{"userName": "u", "emails": [{"value": "a", "type": "work"}, {"value": "a", "type": "home"}]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Resource(rt, body(t, tt.doc), nil)
			require.NoError(t, err)
			err = Validate(rt, doc)
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrInvalidValue)
			}
		})
	}
	err := Validate(rt, map[string]any{})
	require.ErrorContains(t, err, "userName")
}

// largeArray is a user with 5000 emails.
func largeArray() map[string]any {
	list := make([]any, 5000)
	for i := range list {
		list[i] = map[string]any{"value": fmt.Sprintf("user%d@example.com", i)}
	}
	return map[string]any{"userName": "u", "emails": list}
}

func TestValidateLargeArray(t *testing.T) {
	require.NoError(t, Validate(schema.User(), largeArray()))
}

// BenchmarkValidateLargeArray: validating 5000 values is linear (no pairwise checks); its time belongs in a
// benchmark, not in a test's assertion.
func BenchmarkValidateLargeArray(b *testing.B) {
	rt, doc := schema.User(), largeArray()
	for b.Loop() {
		if err := Validate(rt, doc); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWholeCoreSchema: core attributes nested under the core schema's URN land at the top.
func TestWholeCoreSchema(t *testing.T) {
	doc, err := Resource(schema.User(), map[string]any{schema.UserURN: map[string]any{"userName": "nested"}}, nil)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"userName": "nested"}, doc)
}
