package scim

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim/schema"
)

// codecUsers are users with every field, and strings that encoding/json escapes.
func codecUsers() []*User {
	users := codecUsersRaw()
	valid := *users[2]
	valid.UserName = strings.ToValidUTF8(valid.UserName, "\uFFFD")
	return append(users, &valid)
}

func codecUsersRaw() []*User {
	yes, no := true, false
	t := time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	return []*User{
		{},
		{UserName: "a", Name: &Name{}, Active: &no, Emails: []MultiValue{{}}, Enterprise: &EnterpriseUser{}},
		{
			Schemas: []string{schema.UserURN}, ID: "id", ExternalID: "x", UserName: `<b>&"\` + "\u2028\u2029\x01\t\n\r\b\f\xff é",
			Name:        &Name{Formatted: "F", FamilyName: "Fa", GivenName: "G", MiddleName: "M", HonorificPrefix: "P", HonorificSuffix: "S"},
			DisplayName: "D", NickName: "N", ProfileURL: "https://p", Title: "T", UserType: "U", PreferredLanguage: "en",
			Locale: "en-US", Timezone: "Europe/Paris", Active: &yes, PasswordHash: "secret",
			Emails:       []MultiValue{{Value: "a@b", Type: "work", Primary: true}, {Value: "c@d", Display: "C"}},
			PhoneNumbers: []MultiValue{{Value: "1"}}, IMs: []MultiValue{{Value: "im"}}, Photos: []MultiValue{{Value: "ph"}},
			Addresses:    []Address{{Formatted: "f", StreetAddress: "s", Locality: "l", Region: "r", PostalCode: "p", Country: "c", Type: "work", Primary: true}, {}},
			Groups:       []GroupRef{{Value: "g", Ref: "https://g", Display: "G", Type: "direct"}},
			Entitlements: []MultiValue{{Value: "e"}}, Roles: []MultiValue{{Value: "r", Primary: true}}, X509Certificates: []MultiValue{{Value: "x"}},
			Enterprise: &EnterpriseUser{EmployeeNumber: "1", CostCenter: "c", Organization: "o", Division: "d", Department: "dep",
				Manager: &Manager{Value: "m", Ref: "https://m", DisplayName: "M"}},
			Meta: Meta{ResourceType: "User", Created: t, LastModified: t.Add(time.Nanosecond), Location: "https://l", Version: "3"},
			Extensions: map[string]Attributes{
				"urn:example:2.0:User":  {"n": json.Number("1.50"), "s": "<x>", "b": false, "l": []any{"a", map[string]any{"k": "v"}}},
				"urn:example:2.0:Empty": {},
			},
		},
	}
}

// TestUserCodecMatchesEncodingJSON checks the hand-written conversions against what encoding/json made of
// the struct tags: the bytes, the canonical document, and the user decoded from it.
func TestUserCodecMatchesEncodingJSON(t *testing.T) {
	for i, u := range codecUsers() {
		got, err := json.Marshal(u)
		require.NoError(t, err)
		want, err := json.Marshal((*userJSON)(u)) // the struct tags' encoding
		require.NoError(t, err)
		if len(u.Extensions) > 0 { // as the former MarshalJSON spliced it
			ext, _ := json.Marshal(u.Extensions["urn:example:2.0:User"])
			want = append(append(append(want[:len(want)-1], `,"urn:example:2.0:User":`...), ext...), '}')
		}
		require.Equal(t, string(want), string(got), "user %d", i)
		if !utf8.ValidString(u.UserName) {
			// The document keeps what the user holds; encoding/json's round trip replaced invalid UTF-8
			// with U+FFFD there too, and still does wherever the document is encoded.
			continue
		}

		var viaJSON map[string]any
		d := json.NewDecoder(bytes.NewReader(got))
		d.UseNumber()
		require.NoError(t, d.Decode(&viaJSON))
		doc := u.doc()
		require.Equal(t, viaJSON, doc, "user %d", i)

		var back User
		require.NoError(t, json.Unmarshal(got, &back))
		fromDoc, err := userFromDoc(doc)
		require.NoError(t, err)
		require.Equal(t, &back, fromDoc, "user %d", i)
	}
}

func TestUserFromDocTypes(t *testing.T) {
	for _, doc := range []map[string]any{
		{"userName": true},
		{"active": "true"},
		{"emails": map[string]any{"value": "a"}},
		{"emails": []any{"a"}},
		{"name": "n"},
		{"urn:example:2.0:User": "x"},
		{"meta": map[string]any{"created": "yesterday"}},
	} {
		_, err := userFromDoc(doc)
		require.Error(t, err, "%v", doc)
	}
	u, err := userFromDoc(map[string]any{"USERNAME": "a", "urn:ietf:params:scim:schemas:core:2.0:User": map[string]any{}, "other": 1})
	require.NoError(t, err)
	require.Equal(t, &User{UserName: "a"}, u, "keys match without case, as encoding/json matches them; others are ignored")
}

func TestNewIDIsUUIDv4(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for range 100 {
		require.Regexp(t, re, newID())
	}
}
