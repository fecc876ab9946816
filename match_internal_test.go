package scim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

const testExtURN = "urn:ietf:params:scim:schemas:extension:Acme:2.0:User"

// matchTestType is the full User resource type with a host extension of every kind of attribute.
var matchTestType = schema.MustDeclareUser(schema.UserDeclaration{Extensions: []*schema.Schema{{
	ID: testExtURN, Name: "Acme",
	Attributes: []*schema.Attribute{
		{Name: "costCode", Type: schema.String},
		{Name: "badge", Type: schema.String, CaseExact: true},
		{Name: "remote", Type: schema.Boolean},
		{Name: "level", Type: schema.Integer},
		{Name: "score", Type: schema.Decimal},
		{Name: "hired", Type: schema.DateTime},
		{Name: "tags", Type: schema.String, MultiValued: true},
		{Name: "site", Type: schema.Complex, SubAttributes: []*schema.Attribute{
			{Name: "value", Type: schema.String}, {Name: "floor", Type: schema.Integer},
		}},
	},
}}})

func matchTestUsers() []*User {
	yes, no := true, false
	created := time.Date(2024, 3, 1, 9, 30, 0, 123_000_000, time.UTC)
	return []*User{
		{}, // nothing assigned
		{
			ID: "1", UserName: "Alice@Contoso.com", ExternalID: "EXT-1", DisplayName: "Alice Élodie Straße",
			NickName: "al", Title: "Engineer", UserType: "Employee", Locale: "fr-FR", Timezone: "Europe/Paris",
			PreferredLanguage: "fr", ProfileURL: "https://x.example/alice", Active: &yes,
			Name:         &Name{Formatted: "Alice Smith", GivenName: "ALICE", FamilyName: "Smith"},
			Emails:       []MultiValue{{Value: "alice@contoso.com", Type: "work", Primary: true}, {Value: "Alice@Home.example", Type: "home"}},
			PhoneNumbers: []MultiValue{{Value: "+1 555", Type: "mobile"}},
			Roles:        []MultiValue{{Value: "admin", Display: "Admin"}, {Value: "", Display: "empty value"}},
			Addresses:    []Address{{Locality: "Paris", Country: "FR", Primary: true}},
			Enterprise: &EnterpriseUser{Department: "R&D", EmployeeNumber: "0042", CostCenter: "cc",
				Manager: &Manager{Value: "2", DisplayName: "Bob"}},
			Meta: Meta{ResourceType: "User", Created: created, LastModified: created.Add(time.Hour), Version: "3",
				Location: "https://x.example/Users/1"},
			Extensions: map[string]Attributes{testExtURN: {
				"costCode": "CC-9", "badge": "Ab", "remote": true, "level": json.Number("7"), "score": json.Number("2.5"),
				"hired": "2020-01-02T03:04:05Z", "tags": []any{"red", "Blue"}, "site": map[string]any{"value": "HQ", "floor": json.Number("3")},
			}},
		},
		{
			ID: "2", UserName: "bob", DisplayName: "BOB", Active: &no, Title: "",
			Name:       &Name{},
			Emails:     []MultiValue{{Value: "bob@contoso.com", Primary: false}},
			Enterprise: &EnterpriseUser{},
			Meta:       Meta{Created: created.Add(-48 * time.Hour)},
			Extensions: map[string]Attributes{testExtURN: {"costCode": "", "badge": "ab", "remote": false, "tags": []any{}}},
		},
		{ID: "3", UserName: "bad", DisplayName: "in\xffvalid", ExternalID: "e\xff1", Name: &Name{Formatted: "x\xfe"},
			Emails: []MultiValue{{Value: "ok@x"}, {Value: "no\xff@x"}}, Extensions: map[string]Attributes{testExtURN: {"costCode": "c\xff", "badge": "b\xff"}}},
		{ID: "4", UserName: "clash", DisplayName: "struct", // keys that override the struct's in the document
			Extensions: map[string]Attributes{"displayName": {"x": "y"}, schema.EnterpriseUserURN: {"department": "Ops"}},
			Enterprise: &EnterpriseUser{Department: "Sales"}},
		{ID: "6", UserName: "far", DisplayName: "far", Meta: Meta{Created: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{ID: "5", UserName: "ext-empty", Extensions: map[string]Attributes{testExtURN: {}}},
	}
}

// matchTestFilters returns, for every attribute path of rt (each sub-attribute of a complex one too), every
// operator with literals taken from the users' documents (as given, case-flipped, cut to a prefix), plus
// logical and value filters.
func matchTestFilters(t *testing.T, rt *schema.ResourceType, docs []map[string]any) []filter.Expr {
	var paths []string
	for _, p := range rt.Attributes() {
		paths = append(paths, p.String())
		for _, sub := range p.Attr.SubAttributes {
			paths = append(paths, p.String()+"."+sub.Name)
		}
	}
	common := []string{`"zzz"`, `""`, "true", "false", "0", "5", "2.5",
		`"2024-03-01T09:30:00.123Z"`, `"2024-03-01T09:30:00Z"`, `"2020-01-02T03:04:05+00:00"`}
	lits := map[string][]string{} // by path: the common ones and those the users' values give
	for _, path := range paths {
		p, _ := rt.Resolve(path)
		lits[path] = common
		for _, d := range docs {
			for _, v := range filter.Values(d, p) {
				switch v := v.(type) {
				case string:
					for _, s := range []string{v, strings.ToUpper(v), strings.ToLower(v), v[:len(v)/2]} {
						b, _ := json.Marshal(s)
						lits[path] = append(lits[path], string(b))
					}
				case json.Number:
					lits[path] = append(lits[path], v.String())
				}
			}
		}
	}
	var out []filter.Expr
	add := func(s string) {
		if e, err := filter.Parse(rt, s); err == nil {
			out = append(out, e)
		}
	}
	for _, path := range paths {
		add(path + " pr")
		for _, op := range []string{"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"} {
			for _, lit := range lits[path] {
				add(path + " " + op + " " + lit)
			}
		}
	}
	for _, s := range []string{
		`emails[type eq "work" and value co "contoso"]`, `emails[primary eq true]`, `emails[value ew "EXAMPLE"]`,
		`addresses[locality eq "paris"]`, `roles[display pr]`,
		testExtURN + `:site[floor gt 2]`,
		`userName sw "a" and not (displayName co "bob")`, `active eq false or title pr`,
		`not (emails.value co "contoso") and meta.created gt "2024-01-01T00:00:00Z"`,
		`name.givenName eq "alice" or ` + testExtURN + `:level ge 7`,
	} {
		add(s) // the extension's paths resolve only in matchTestType
	}
	return out
}

// TestMatchSourceAgreesWithDocument checks that a filter over a typed User (the scan path of memstore,
// Collector and Query.Matches) matches exactly the users the filter matches over their canonical document.
func TestMatchSourceAgreesWithDocument(t *testing.T) {
	for _, rt := range []*schema.ResourceType{userType, matchTestType} {
		users := matchTestUsers()
		docs := make([]map[string]any, len(users))
		for i, u := range users {
			docs[i] = u.doc()
		}
		exprs := matchTestFilters(t, rt, docs)
		require.Greater(t, len(exprs), 1500)
		matched := 0
		for _, e := range exprs {
			for i, u := range users {
				want := filter.Match(e, docs[i])
				require.Equal(t, want, filter.MatchSource(e, newUserSource(u)), "user %d, filter %s", i, e)
				require.Equal(t, want, filter.MatchSource(e, filter.Doc(docs[i])), "user %d, filter %s", i, e)
				if want {
					matched++
				}
			}
		}
		require.Greater(t, matched, 500) // the corpus is not vacuous
	}
}

// TestMatchSourceReadsStruct checks that the common paths are read from the struct, without a document.
func TestMatchSourceReadsStruct(t *testing.T) {
	u := matchTestUsers()[1]
	for _, s := range []string{`displayName co "élodie"`, `userName eq "alice@contoso.com"`, `emails.value ew ".example"`,
		`name.givenName sw "al"`, `meta.created lt "2025-01-01T00:00:00Z"`, `active eq true`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "2"`, testExtURN + `:costCode eq "cc-9"`} {
		e, err := filter.Parse(matchTestType, s)
		require.NoError(t, err, s)
		src := newUserSource(u)
		require.True(t, filter.MatchSource(e, src), s)
		require.Nil(t, src.rt, "%s built the document", s)
	}
}
