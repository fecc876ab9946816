package filter

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim/schema"
)

const (
	coreURN = schema.UserURN
	entURN  = schema.EnterpriseUserURN
)

// numericUser is the User resource type with an integer and a decimal attribute added, since the User schema
// has no numeric attribute to exercise number literals on.
func numericUser() *schema.ResourceType {
	rt := schema.User()
	rt.Core.Attributes = append(rt.Core.Attributes,
		&schema.Attribute{Name: "loginCount", Type: schema.Integer, Mutability: schema.ReadWrite, Returned: schema.ByDefault},
		&schema.Attribute{Name: "score", Type: schema.Decimal, Mutability: schema.ReadWrite, Returned: schema.ByDefault},
	)
	return rt
}

// groupType is a Group-like resource type with a multi-valued "members" attribute, for PATCH paths.
func groupType() *schema.ResourceType {
	str := func(name string) *schema.Attribute {
		return &schema.Attribute{Name: name, Type: schema.String, Mutability: schema.ReadWrite, Returned: schema.ByDefault}
	}
	return &schema.ResourceType{
		Name: "Group", Endpoint: "/Groups",
		Core: &schema.Schema{ID: schema.GroupURN, Name: "Group", Attributes: []*schema.Attribute{
			str("displayName"),
			{Name: "members", Type: schema.Complex, MultiValued: true, Mutability: schema.ReadWrite, Returned: schema.ByDefault,
				SubAttributes: []*schema.Attribute{str("value"), str("display"), str("type"),
					{Name: "$ref", Type: schema.Reference, Mutability: schema.Immutable, Returned: schema.ByDefault}}},
		}},
	}
}

func TestParse(t *testing.T) {
	rt := schema.User()
	tests := []struct {
		name, filter string
		want         string // String of the parsed expression
	}{
		// Every operator.
		{"eq", `userName eq "bjensen"`, `userName eq "bjensen"`},
		{"ne", `userName ne "bjensen"`, `userName ne "bjensen"`},
		{"co", `name.familyName co "O'Malley"`, `name.familyName co "O'Malley"`},
		{"sw", `userName sw "J"`, `userName sw "J"`},
		{"ew", `userName ew "@example.com"`, `userName ew "@example.com"`},
		{"gt", `meta.lastModified gt "2011-05-13T04:42:34Z"`, `meta.lastModified gt "2011-05-13T04:42:34Z"`},
		{"ge", `meta.lastModified ge "2011-05-13T04:42:34Z"`, `meta.lastModified ge "2011-05-13T04:42:34Z"`},
		{"lt", `meta.lastModified lt "2011-05-13T04:42:34Z"`, `meta.lastModified lt "2011-05-13T04:42:34Z"`},
		{"le", `meta.lastModified le "2011-05-13T04:42:34Z"`, `meta.lastModified le "2011-05-13T04:42:34Z"`},
		{"gt string", `userName gt "m"`, `userName gt "m"`},
		{"pr", `title pr`, `title pr`},
		{"pr complex", `name pr`, `name pr`},
		{"pr multi-valued", `emails pr`, `emails pr`},
		{"and", `title pr and userType eq "Employee"`, `(title pr and userType eq "Employee")`},
		{"or", `title pr or userType eq "Intern"`, `(title pr or userType eq "Intern")`},
		{"not", `not (title pr)`, `not (title pr)`},
		{"not without space", `not(title pr)`, `not (title pr)`},
		{"and not", `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
			`(userType ne "Employee" and not ((emails.value co "example.com" or emails.value co "example.org")))`},
		{"grouping", `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
			`(userType eq "Employee" and (emails.value co "example.com" or emails.value co "example.org"))`},
		{"redundant parentheses", `((userName eq "x"))`, `userName eq "x"`},
		{"precedence: and binds tighter", `title pr or userType eq "a" and active eq true`,
			`(title pr or (userType eq "a" and active eq true))`},
		{"precedence: and first", `title pr and userType eq "a" or active eq true`,
			`((title pr and userType eq "a") or active eq true)`},
		{"run of or", `id eq "1" or id eq "2" or id eq "3"`, `(id eq "1" or id eq "2" or id eq "3")`},
		{"right-nested run keeps its shape", `id eq "1" or (id eq "2" or id eq "3")`, `(id eq "1" or (id eq "2" or id eq "3"))`},

		// Case of operators, keywords, literals and attribute names.
		{"upper operator", `userName EQ "x"`, `userName eq "x"`},
		{"mixed keywords", `userName Eq "x" And NOT (active EQ TRUE) oR title PR`,
			`((userName eq "x" and not (active eq true)) or title pr)`},
		{"upper attribute", `USERNAME eq "x"`, `userName eq "x"`},
		{"mixed sub-attribute", `NAME.GIVENNAME eq "x"`, `name.givenName eq "x"`},
		{"null any case", `title eq NULL`, `title eq null`},
		{"false any case", `active eq False`, `active eq false`},

		// URN-qualified names.
		{"core URN", `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, `userName sw "J"`},
		{"core URN sub-attribute", coreURN + `:name.givenName eq "Barbara"`, `name.givenName eq "Barbara"`},
		{"core URN any case", `URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:userName eq "x"`, `userName eq "x"`},
		{"core URN common attribute", coreURN + `:id eq "1"`, `id eq "1"`},
		{"enterprise attribute", entURN + `:employeeNumber eq "701984"`, entURN + `:employeeNumber eq "701984"`},
		{"enterprise sub-attribute", entURN + `:manager.value eq "26118915"`, entURN + `:manager.value eq "26118915"`},
		{"enterprise complex means its value", entURN + `:manager eq "26118915"`, entURN + `:manager.value eq "26118915"`},
		{"enterprise URN any case", strings.ToLower(entURN) + `:EMPLOYEENUMBER eq "1"`, entURN + `:employeeNumber eq "1"`},

		// Sub-attributes and common attributes.
		{"name.familyName", `name.familyName eq "Jensen"`, `name.familyName eq "Jensen"`},
		{"emails.value", `emails.value ew "@example.com"`, `emails.value ew "@example.com"`},
		{"emails means emails.value", `emails co "example.com"`, `emails.value co "example.com"`},
		{"meta.created", `meta.created gt "2011-05-13T04:42:34.123+02:00"`, `meta.created gt "2011-05-13T04:42:34.123+02:00"`},
		{"dateTime substring", `meta.created sw "2011"`, `meta.created sw "2011"`},
		{"id", `id eq "2819c223-7f76-453a-919d-413861904646"`, `id eq "2819c223-7f76-453a-919d-413861904646"`},
		{"$ref", `groups.$ref pr`, `groups.$ref pr`},
		{"x509 binary", `x509Certificates.value eq "MIIDQzCC"`, `x509Certificates.value eq "MIIDQzCC"`},
		{"photos reference", `photos.value sw "https://"`, `photos.value sw "https://"`},

		// Value paths.
		{"value path", `emails[type eq "work"]`, `emails[type eq "work"]`},
		{"value path and", `emails[type eq "work" and primary eq true]`, `emails[(type eq "work" and primary eq true)]`},
		{"value path three terms", `emails[type eq "work" and primary eq true and value co "x"]`,
			`emails[(type eq "work" and primary eq true and value co "x")]`},
		{"value path parentheses", `emails[(type eq "work" or type eq "home") and primary eq true]`,
			`emails[((type eq "work" or type eq "home") and primary eq true)]`},
		{"value path not", `emails[not (type eq "work")]`, `emails[not (type eq "work")]`},
		{"value path spaces", `emails [ ( type eq "work" ) ]`, `emails[type eq "work"]`},
		{"value path sub-attribute case", `EMAILS[TYPE eq "work"]`, `emails[type eq "work"]`},
		{"value path in and", `userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
			`(userType eq "Employee" and emails[(type eq "work" and value co "@example.com")])`},
		{"two value paths", `emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
			`(emails[(type eq "work" and value co "@example.com")] or ims[(type eq "xmpp" and value co "@foo.com")])`},
		{"value path on single complex", `name[givenName eq "Barbara"]`, `name[givenName eq "Barbara"]`},
		{"value path on extension", entURN + `:manager[value eq "1"]`, entURN + `:manager[value eq "1"]`},
		{"value path with URN", coreURN + `:emails[type eq "work"]`, `emails[type eq "work"]`},
		{"brackets in value path strings", `emails[value eq "a]b" or value eq "c[d"]`, `emails[(value eq "a]b" or value eq "c[d")]`},

		// Whitespace the underlying parser rejects.
		{"leading and trailing spaces", `  userName eq "x"  `, `userName eq "x"`},
		{"multiple spaces", `userName   eq    "x"   and  title pr`, `(userName eq "x" and title pr)`},
		{"tabs and newlines", "userName\teq \"x\"\n\tor\r\ntitle pr", `(userName eq "x" or title pr)`},
		{"spaces inside parentheses", `( userName eq "x" or  ( title pr ) )`, `(userName eq "x" or title pr)`},
		{"spaces inside strings are kept", `userName eq "  a  b  "`, `userName eq "  a  b  "`},

		// Booleans and nulls.
		{"string boolean", `active eq "True"`, `active eq true`},
		{"string boolean false", `active eq "FALSE"`, `active eq false`},
		{"eq null", `title eq null`, `title eq null`},
		{"ne null", `title ne null`, `title ne null`},
		{"ne boolean", `emails[primary ne true]`, `emails[primary ne true]`},

		// Entra ID and Okta traffic.
		{"entra userName", `userName eq "jane@contoso.com"`, `userName eq "jane@contoso.com"`},
		{"entra plus address", `userName eq "j+d@x.com"`, `userName eq "j+d@x.com"`},
		{"entra externalId", `externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`, `externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`},
		{"entra quotes", `displayName eq "Jane \"JJ\" O'Neil"`, `displayName eq "Jane \"JJ\" O'Neil"`},
		{"entra group member", `userName eq "a.b-c_d@sub.contoso.onmicrosoft.com"`, `userName eq "a.b-c_d@sub.contoso.onmicrosoft.com"`},
		{"okta lastModified", `meta.lastModified gt "2023-01-01T00:00:00.000Z"`, `meta.lastModified gt "2023-01-01T00:00:00.000Z"`},
		{"okta externalId", `externalId eq "00u1abcd2EFGH3ijk4x7"`, `externalId eq "00u1abcd2EFGH3ijk4x7"`},
		{"html characters stay readable", `displayName eq "a<b>&c"`, `displayName eq "a<b>&c"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(rt, tt.filter)
			require.NoError(t, err)
			require.Equal(t, tt.want, String(e))
			again, err := Parse(rt, String(e))
			require.NoError(t, err, "String output re-parses")
			require.Equal(t, e, again, "String output re-parses to the same expression")
		})
	}
}

func TestParseStringLiterals(t *testing.T) {
	rt := schema.User()
	tests := []struct {
		name, filter, want string
	}{
		{"escaped quote", `userName eq "a\"b"`, `a"b`},
		{"escaped backslash", `userName eq "a\\b"`, `a\b`},
		{"escaped newline", `userName eq "a\nb"`, "a\nb"},
		{"escaped tab", `userName eq "a\tb"`, "a\tb"},
		{"escaped slash", `userName eq "a\/b"`, `a/b`},
		{"lower-case unicode escape", `userName eq "\u00e9"`, "é"},
		{"upper-case unicode escape", `userName eq "\u00E9"`, "é"},
		{"surrogate pair", `userName eq "\ud83d\ude00"`, "😀"},
		{"raw unicode", `userName eq "Zoë Ångström"`, "Zoë Ångström"},
		{"closing bracket", `userName eq "a]b"`, "a]b"},
		{"opening bracket", `userName eq "a[b"`, "a[b"},
		{"parentheses", `userName eq "(a))"`, "(a))"},
		{"keywords", `userName eq " and or not pr eq "`, " and or not pr eq "},
		{"placeholder lookalike", `userName eq "0"`, "0"},
		{"placeholder lookalike 2", `userName eq "scimkitvf0 pr"`, "scimkitvf0 pr"},
		{"empty", `userName eq ""`, ""},
		{"at plus dot", `userName eq "j+d.e@x.com"`, "j+d.e@x.com"},
		{"single quote", `name.familyName eq "O'Malley"`, "O'Malley"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(rt, tt.filter)
			require.NoError(t, err)
			c, ok := e.(*Compare)
			require.True(t, ok, "%T", e)
			require.Equal(t, tt.want, c.Value)
			again, err := Parse(rt, String(e))
			require.NoError(t, err)
			require.Equal(t, e, again)
		})
	}
}

func TestParseValueTypes(t *testing.T) {
	rt := numericUser()
	tests := []struct {
		filter string
		want   any
	}{
		{`loginCount eq 42`, int64(42)},
		{`loginCount eq -42`, int64(-42)},
		{`loginCount eq 0`, int64(0)},
		{`loginCount eq 9223372036854775807`, int64(9223372036854775807)},
		{`loginCount eq -9223372036854775808`, int64(-9223372036854775808)},
		{`loginCount gt 9223372036854775808`, 9223372036854775808.0},         // out of int64: float, not wrapped
		{`loginCount lt -9223372036854775809`, -9223372036854775809.0},       // likewise
		{`loginCount eq 99999999999999999999999`, 99999999999999999999999.0}, // never wrapped
		{`score eq 1.5`, 1.5},
		{`score eq 5.0`, 5.0},
		{`score eq 1E2`, 100.0},
		{`score eq 1.5e-3`, 0.0015},
		{`score eq -0.25`, -0.25},
		{`active eq true`, true},
		{`active eq "true"`, true},
		{`active eq "False"`, false},
		{`title eq null`, nil},
		{`title eq "x"`, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			e, err := Parse(rt, tt.filter)
			require.NoError(t, err)
			c, ok := e.(*Compare)
			require.True(t, ok, "%T", e)
			require.Equal(t, tt.want, c.Value)
			require.IsType(t, tt.want, c.Value)
			again, err := Parse(rt, String(e))
			require.NoError(t, err, String(e))
			require.Equal(t, e, again, "a float stays a float through String: %s", String(e))
		})
	}
}

func TestParseStructure(t *testing.T) {
	rt := schema.User()
	e, err := Parse(rt, `emails[type eq "work" and primary eq true] and `+entURN+`:manager.value eq "m"`)
	require.NoError(t, err)
	and, ok := e.(*Logical)
	require.True(t, ok)
	require.Equal(t, And, and.Op)

	vp, ok := and.Left.(*ValuePath)
	require.True(t, ok)
	require.Equal(t, "emails", vp.Path.Attr.Name)
	require.Nil(t, vp.Path.Sub)
	inner, ok := vp.Filter.(*Logical)
	require.True(t, ok)
	typ, ok := inner.Left.(*Compare)
	require.True(t, ok)
	require.Nil(t, typ.Path.Schema, "inside a value filter paths are relative to the element")
	require.Equal(t, "type", typ.Path.Attr.Name)
	require.Equal(t, Eq, typ.Op)
	require.Equal(t, "work", typ.Value)

	mgr, ok := and.Right.(*Compare)
	require.True(t, ok)
	require.True(t, mgr.Path.Extension())
	require.Equal(t, entURN, mgr.Path.Schema.ID)
	require.Equal(t, "manager", mgr.Path.Attr.Name)
	require.Equal(t, "value", mgr.Path.Sub.Name)

	// Precedence: a or b and c is a or (b and c).
	e, err = Parse(rt, `title pr or userType pr and nickName pr`)
	require.NoError(t, err)
	or, ok := e.(*Logical)
	require.True(t, ok)
	require.Equal(t, Or, or.Op)
	right, ok := or.Right.(*Logical)
	require.True(t, ok)
	require.Equal(t, And, right.Op)

	// not binds to its parenthesised filter only.
	e, err = Parse(rt, `not (title pr) and userType pr`)
	require.NoError(t, err)
	and, ok = e.(*Logical)
	require.True(t, ok)
	require.IsType(t, &Not{}, and.Left)
}

func TestParseErrors(t *testing.T) {
	rt := numericUser()
	tests := []struct{ name, filter string }{
		{"empty", ``},
		{"blank", "  \t\n "},
		{"open parentheses", `(((`},
		{"close parentheses", `)))`},
		{"unbalanced parentheses", `(userName eq "x"`},
		{"unbalanced close parenthesis", `userName eq "x")`},
		{"empty parentheses", `()`},
		{"unknown operator", `userName regex "x"`},
		{"missing value", `userName eq`},
		{"missing operator", `userName "x"`},
		{"attribute only", `userName`},
		{"unquoted value", `userName eq bjensen`},
		{"single-quoted value", `userName eq 'bjensen'`},
		{"unterminated string", `userName eq "abc`},
		{"unterminated escape", `userName eq "abc\"`},
		{"bad escape", `userName eq "a\qb"`},
		{"short unicode escape", `userName eq "\u12"`},
		{"raw control character", "userName eq \"a\x01b\""},
		{"raw tab in string", "userName eq \"a\tb\""},
		{"unbalanced open bracket", `emails[type eq "work"`},
		{"unbalanced close bracket", `emails type eq "work"]`},
		{"nested brackets", `emails[type[value eq "x"] pr]`},
		{"empty brackets", `emails[]`},
		{"blank brackets", `emails[  ]`},
		{"bracket without attribute", `[type eq "work"]`},
		{"value path on simple attribute", `userName[value eq "x"]`},
		{"value path on sub-attribute", `emails.value[type eq "x"]`},
		{"unknown attribute", `foo eq "x"`},
		{"unknown sub-attribute", `name.foo eq "x"`},
		{"unknown sub-attribute in value path", `emails[foo eq "x"]`},
		{"too many dots", `name.givenName.x eq "x"`},
		{"qualified name in value path", `emails[emails.type eq "work"]`},
		{"unknown URN", `urn:ietf:params:scim:schemas:extension:other:2.0:User:employeeNumber eq "1"`},
		{"extension attribute without URN", `employeeNumber eq "1"`},
		{"core attribute with extension URN", entURN + `:userName eq "x"`},
		{"bare extension URN", entURN + ` pr`},
		{"boolean ordering", `active gt true`},
		{"boolean substring", `active co true`},
		{"boolean maybe", `active eq "maybe"`},
		{"boolean one", `active eq "1"`},
		{"boolean number", `active eq 1`},
		{"string compared with number", `userName eq 1`},
		{"string compared with boolean", `userName eq true`},
		{"complex without value sub-attribute", `name eq "x"`},
		{"complex gt null", `title gt null`},
		{"co null", `title co null`},
		{"number substring", `loginCount co 1`},
		{"number with string", `loginCount eq "1"`},
		{"number out of float range", `loginCount eq 1e400`},
		{"leading zero", `loginCount eq 007`},
		{"dateTime not a date", `meta.created gt "yesterday"`},
		{"dateTime without zone", `meta.created gt "2011-05-13"`},
		{"dateTime with number", `meta.created gt 2011`},
		{"binary ordering", `x509Certificates.value gt "x"`},
		{"dangling and", `userName eq "x" and`},
		{"leading or", `or userName eq "x"`},
		{"double operator", `userName eq eq "x"`},
		{"not without parentheses", `not userName eq "x"`},
		{"and without spaces", `userName eq "x"and title pr`},
		{"two strings", `userName eq "a""b"`},
		{"string as attribute", `"userName" eq "x"`},
		{"placeholder as attribute", `scimkitvf0 pr`},
		{"placeholder in value path", `emails[scimkitvf0 pr]`},
		{"nested value filters in value path", `emails[type eq "work" and emails[type eq "x"]]`},
		{"trailing colon URN", entURN + `: pr`},
		{"invalid UTF-8", "userName eq \"\xff\" and \xfe pr"},
		{"NUL", "userName\x00 pr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Expr
			var err error
			require.NotPanics(t, func() { e, err = Parse(rt, tt.filter) })
			require.Error(t, err, "parsed as %s", func() string {
				if e == nil {
					return "<nil>"
				}
				return String(e)
			}())
			require.ErrorIs(t, err, ErrInvalidFilter)
			require.Nil(t, e)
		})
	}
}

func TestParseLimits(t *testing.T) {
	rt := schema.User()
	run := func(op string, n int) string {
		terms := make([]string, n)
		for i := range terms {
			terms[i] = fmt.Sprintf(`id eq "%d"`, i)
		}
		return strings.Join(terms, " "+op+" ")
	}
	nest := func(n int) string { // n levels of alternating and/or nesting
		f := `title pr`
		for i := range n {
			op := "and"
			if i%2 == 1 {
				op = "or"
			}
			f = `userType pr ` + op + ` (` + f + `)`
		}
		return f
	}
	tests := []struct {
		name   string
		limits Limits
		filter string
		ok     bool
	}{
		{"at max length", Limits{MaxLength: 15}, `userName eq "x"`, true},
		{"over max length", Limits{MaxLength: 14}, `userName eq "x"`, false},
		{"default max length", DefaultLimits, `userName eq "` + strings.Repeat("a", 4096) + `"`, false},
		{"long run of or is one level", DefaultLimits, run("or", 100), true},
		{"long run of and is one level", DefaultLimits, run("and", 100), true},
		{"mixed run within depth", Limits{MaxDepth: 2}, `title pr or userType pr and nickName pr or id pr`, true},
		{"nesting within depth", Limits{MaxDepth: 10}, nest(9), true},
		{"nesting over depth", Limits{MaxDepth: 10}, nest(11), false},
		{"nesting over default depth", DefaultLimits, nest(40), false},
		{"not nesting over depth", Limits{MaxDepth: 3}, `not (not (not (not (title pr))))`, false},
		{"not nesting within depth", Limits{MaxDepth: 4}, `not (not (not (title pr)))`, true},
		{"parentheses over depth", Limits{MaxDepth: 3}, `((((title pr))))`, false},
		{"parentheses over default depth", DefaultLimits, strings.Repeat("(", 2000) + "title pr" + strings.Repeat(")", 2000), false},
		{"open parentheses", DefaultLimits, strings.Repeat("(", 4000), false},
		{"value path counts", Limits{MaxDepth: 1}, `emails[type eq "work"]`, true},
		{"value path with not over depth", Limits{MaxDepth: 1}, `emails[not (type eq "work")]`, false},
		{"zero limits mean defaults", Limits{}, `userName eq "x"`, true},
		{"zero max length means default", Limits{MaxDepth: 3}, `userName eq "x"`, true},
		{"zero max depth means default", Limits{MaxLength: 100}, `not (not (title pr))`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := tt.limits.Parse(rt, tt.filter)
			if tt.ok {
				require.NoError(t, err)
				again, err := tt.limits.Parse(rt, String(e))
				require.NoError(t, err, "String output stays within the limits")
				require.Equal(t, e, again)
				return
			}
			require.ErrorIs(t, err, ErrInvalidFilter)
		})
	}
}

func TestParsePath(t *testing.T) {
	rt := schema.User()
	tests := []struct {
		name, path string
		want       string // String of the parsed path
		attr, sub  string // Path.Attr.Name, Path.Sub.Name ("" for nil)
		filter     bool
	}{
		{"attribute", `userName`, `userName`, "userName", "", false},
		{"attribute any case", `USERNAME`, `userName`, "userName", "", false},
		{"sub-attribute", `name.formatted`, `name.formatted`, "name", "formatted", false},
		{"multi-valued", `emails`, `emails`, "emails", "", false},
		{"multi-valued sub-attribute", `emails.value`, `emails.value`, "emails", "value", false},
		{"value filter", `emails[type eq "work"]`, `emails[type eq "work"]`, "emails", "", true},
		{"value filter sub-attribute", `emails[type eq "work"].value`, `emails[type eq "work"].value`, "emails", "value", true},
		{"value filter any case", `Emails[Type EQ "work"].Value`, `emails[type eq "work"].value`, "emails", "value", true},
		{"value filter three terms", `emails[type eq "work" and primary eq true and value co "@"].display`,
			`emails[(type eq "work" and primary eq true and value co "@")].display`, "emails", "display", true},
		{"value filter parentheses", `addresses[(type eq "work" or type eq "home") and primary eq true].locality`,
			`addresses[((type eq "work" or type eq "home") and primary eq true)].locality`, "addresses", "locality", true},
		{"value filter not", `phoneNumbers[not (type eq "fax")].value`, `phoneNumbers[not (type eq "fax")].value`, "phoneNumbers", "value", true},
		{"value filter spaces", ` emails[ type eq "work" ].value `, `emails[type eq "work"].value`, "emails", "value", true},
		{"value filter escapes", `emails[value eq "a\"]b"]`, `emails[value eq "a\"]b"]`, "emails", "", true},
		{"core URN", coreURN + `:name.givenName`, `name.givenName`, "name", "givenName", false},
		{"core URN value filter", coreURN + `:emails[type eq "work"].value`, `emails[type eq "work"].value`, "emails", "value", true},
		{"common attribute", `externalId`, `externalId`, "externalId", "", false},
		{"enterprise attribute", entURN + `:employeeNumber`, entURN + `:employeeNumber`, "employeeNumber", "", false},
		{"enterprise sub-attribute", entURN + `:manager.value`, entURN + `:manager.value`, "manager", "value", false},
		{"enterprise complex", entURN + `:manager`, entURN + `:manager`, "manager", "", false},
		{"enterprise any case", strings.ToUpper(entURN) + `:MANAGER`, entURN + `:manager`, "manager", "", false},
		{"whole extension", entURN, entURN, "", "", false},
		{"whole extension any case", strings.ToLower(entURN), entURN, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePath(rt, tt.path)
			require.NoError(t, err)
			require.Equal(t, tt.want, p.String())
			if tt.attr == "" {
				require.Nil(t, p.Path.Attr)
				require.Equal(t, entURN, p.Path.Schema.ID)
			} else {
				require.Equal(t, tt.attr, p.Path.Attr.Name)
			}
			if tt.sub == "" {
				require.Nil(t, p.Path.Sub)
			} else {
				require.Equal(t, tt.sub, p.Path.Sub.Name)
			}
			require.Equal(t, tt.filter, p.Filter != nil)
			again, err := ParsePath(rt, p.String())
			require.NoError(t, err)
			require.Equal(t, p, again)
		})
	}
}

func TestParsePathMembers(t *testing.T) {
	rt := groupType()
	for _, path := range []string{
		`members`,
		`members[value eq "2819c223-7f76-453a-919d-413861904646"]`,
		`members[value eq "2819c223" or value eq "902c246b"]`,
		`members[value eq "2819c223"].display`,
		`members[type eq "User"].$ref`,
		`urn:ietf:params:scim:schemas:core:2.0:Group:members[value eq "1"]`,
	} {
		t.Run(path, func(t *testing.T) {
			p, err := ParsePath(rt, path)
			require.NoError(t, err)
			require.Equal(t, "members", p.Path.Attr.Name)
		})
	}
	_, err := ParsePath(rt, `members[foo eq "1"]`)
	require.ErrorIs(t, err, ErrInvalidPath)
	_, err = ParsePath(schema.User(), `members[value eq "1"]`)
	require.ErrorIs(t, err, ErrInvalidPath, "User has no members")
}

func TestParsePathErrors(t *testing.T) {
	rt := schema.User()
	for _, path := range []string{
		``,
		`   `,
		`foo`,
		`members`,
		`name.foo`,
		`name.givenName.x`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:Usr`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:foo`,
		entURN + `:userName`,
		`emails[`,
		`emails]`,
		`emails[]`,
		`emails[type eq "work"`,
		`emails[type eq "work"]]`,
		`emails[type eq "work"].foo`,
		`emails[type eq "work"].value.x`,
		`emails[type eq "work"] .value`,
		`emails[type eq "work"]value`,
		`emails[foo eq "work"]`,
		`emails[type eq "work" and emails[type eq "x"]]`,
		`emails[type eq 1]`,
		`emails[type regex "x"]`,
		`emails[type eq "unterminated]`,
		`emails.value[type eq "work"]`,
		`name[givenName eq "x"]`,
		`userName[value eq "x"]`,
		entURN + `:manager[value eq "x"]`,
		`userName eq "x"`,
		`userName"x"`,
		`(userName)`,
		strings.Repeat("a", 5000),
		`emails[` + strings.Repeat("(", 100) + `type pr` + strings.Repeat(")", 100) + `]`,
	} {
		t.Run(path, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { _, err = ParsePath(rt, path) })
			require.ErrorIs(t, err, ErrInvalidPath)
			require.False(t, errors.Is(err, ErrInvalidFilter), "a path error is invalidPath only")
		})
	}
}

func TestParsePathTrailingColon(t *testing.T) {
	_, err := ParsePath(schema.User(), entURN+":")
	require.ErrorIs(t, err, ErrInvalidPath)
}

// TestParseTrailingSubAttributeCompare: Entra's validator filters on emails[type eq "work"].value eq "…",
// which is read as emails[type eq "work" and value eq "…"] and matches exactly what that filter matches.
func TestParseTrailingSubAttributeCompare(t *testing.T) {
	rt := schema.User()
	doc := map[string]any{"emails": []any{
		map[string]any{"type": "home", "value": "x@contoso.com"},
		map[string]any{"type": "work", "value": "y@contoso.com"},
	}}
	for _, tt := range []struct {
		filter string
		match  bool
	}{
		{`emails[type eq "work"].value eq "y@contoso.com"`, true},
		{`emails[type eq "work"].value eq "x@contoso.com"`, false}, // the home address is not the work one
		{`emails[type eq "work"].value eq "Y@CONTOSO.COM" and emails[type eq "home"].value pr`, true},
		{`emails[type eq "work" or type eq "home"].value sw "x"`, true},
		{`not (emails[type eq "work"].value co "x")`, true},
	} {
		t.Run(tt.filter, func(t *testing.T) {
			e, err := Parse(rt, tt.filter)
			require.NoError(t, err)
			require.Equal(t, tt.match, Match(e, doc))
		})
	}
	for _, bad := range []string{`emails[type eq "work"].value eq`, `emails[type eq "work"].value zz "x"`, `emails[type eq "work"].nope eq "x"`} {
		_, err := Parse(rt, bad)
		require.ErrorIs(t, err, ErrInvalidFilter, bad)
	}
	pp, err := ParsePath(rt, `emails[type eq "work"].value`) // a PATCH path keeps its sub-attribute
	require.NoError(t, err)
	require.Equal(t, "value", pp.Path.Sub.Name)
}
