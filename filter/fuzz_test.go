package filter

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/scimkit/scim/schema"
)

// filterSeeds are real client traffic (Entra ID, Okta, OneLogin, the RFC 7644 §3.4.2.2 examples) and the
// shapes that break the underlying parser.
var filterSeeds = []string{
	// Entra ID
	`userName eq "jane@contoso.com"`,
	`userName eq "j+d@x.com"`,
	`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`,
	`displayName eq "Jane \"JJ\" O'Neil"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915"`,
	// Okta, OneLogin
	`userName eq "isaac.brock@example.com"`,
	`externalId eq "00u1abcd2EFGH3ijk4x7"`,
	`meta.lastModified gt "2023-01-01T00:00:00.000Z"`,
	`emails[type eq "work" and primary eq true].value eq "x"`,
	`emails.value eq "a@b.c" or userName eq "a@b.c"`,
	// RFC 7644 §3.4.2.2
	`userName eq "bjensen"`,
	`name.familyName co "O'Malley"`,
	`userName sw "J"`,
	`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`,
	`title pr`,
	`meta.lastModified gt "2011-05-13T04:42:34Z"`,
	`meta.lastModified le "2011-05-13T04:42:34Z"`,
	`title pr and userType eq "Employee"`,
	`title pr or userType eq "Intern"`,
	`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
	`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
	`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
	`userType eq "Employee" and (emails.type eq "work")`,
	`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
	`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
	// the parser's gaps
	`userName eq "a\"b\\c\/d\ne\u00e9\u00E9"`,
	`emails[type eq "work" and primary eq true and value co "x"]`,
	`emails[(type eq "work" or type eq "home") and primary eq true]`,
	`emails[not (type eq "work")]`,
	`  userName   eq  "x"  `,
	`userName eq "a]b[c"`,
	`active eq "True" and active ne FALSE`,
	`title eq null or title ne NULL`,
	`USERNAME EQ "x" AND NOT (ACTIVE EQ TRUE) OR TITLE PR`,
	`id eq "1" or id eq "2" or id eq "3" or id eq "4"`,
	`((((title pr))))`,
	`meta.created ge "2010-01-23T04:56:22+02:00"`,
	`loginCount gt 99999999999999999999`,
	`score le -1.5e-3`,
	`name[givenName eq "x"]`,
	`emails[]`,
	`(((`,
	`userName eq "unterminated`,
}

var pathSeeds = []string{
	`userName`,
	`name.formatted`,
	`emails`,
	`emails[type eq "work"]`,
	`emails[type eq "work"].value`,
	`emails[type eq "work" and primary eq true].display`,
	`addresses[(type eq "work" or type eq "home") and primary eq true].locality`,
	`phoneNumbers[not (type eq "fax")].value`,
	`members[value eq "2819c223-7f76-453a-919d-413861904646"]`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`,
	`urn:ietf:params:scim:schemas:core:2.0:User:name.givenName`,
	`urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value`,
	`emails[value eq "a\"]b"].value`,
	`emails[`,
	`name.`,
}

// fuzzLimits re-parses String output: it may be longer than the input (canonical names, escapes).
var fuzzLimits = Limits{MaxLength: 1 << 20, MaxDepth: DefaultLimits.MaxDepth}

func FuzzParse(f *testing.F) {
	for _, s := range filterSeeds {
		f.Add(s)
	}
	rt := numericUser()
	f.Fuzz(func(t *testing.T, in string) {
		e, err := Parse(rt, in)
		if err != nil {
			if !errors.Is(err, ErrInvalidFilter) {
				t.Fatalf("Parse(%q): error %v does not wrap ErrInvalidFilter", in, err)
			}
			if e != nil {
				t.Fatalf("Parse(%q): error with an expression", in)
			}
			return
		}
		s := String(e)
		again, err := fuzzLimits.Parse(rt, s)
		if err != nil {
			t.Fatalf("Parse(%q) = %s, which does not re-parse: %v", in, s, err)
		}
		if s2 := String(again); s2 != s {
			t.Fatalf("Parse(%q): String %s re-parses to %s", in, s, s2)
		}
	})
}

func FuzzParsePath(f *testing.F) {
	for _, s := range pathSeeds {
		f.Add(s)
	}
	rt := schema.User()
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParsePath(rt, in)
		if err != nil {
			if !errors.Is(err, ErrInvalidPath) {
				t.Fatalf("ParsePath(%q): error %v does not wrap ErrInvalidPath", in, err)
			}
			return
		}
		if p.Path.Schema == nil || (p.Filter != nil && p.Path.Attr == nil) {
			t.Fatalf("ParsePath(%q): incomplete path %+v", in, p)
		}
		s := p.String()
		again, err := ParsePath(rt, s)
		if err != nil {
			t.Fatalf("ParsePath(%q) = %s, which does not re-parse: %v", in, s, err)
		}
		if s2 := again.String(); s2 != s {
			t.Fatalf("ParsePath(%q): String %s re-parses to %s", in, s, s2)
		}
	})
}

func FuzzMatch(f *testing.F) {
	for _, s := range filterSeeds {
		f.Add(s)
	}
	rt := numericUser()
	var doc map[string]any
	if err := json.Unmarshal([]byte(bjensen), &doc); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		e, err := Parse(rt, in)
		if err != nil {
			return
		}
		got := Match(e, doc)
		if not := Match(&Not{X: e}, doc); not == got {
			t.Fatalf("Match(%q) and its negation agree", in)
		}
		again, err := fuzzLimits.Parse(rt, String(e))
		if err != nil {
			t.Fatalf("String(%q) does not re-parse: %v", in, err)
		}
		if Match(again, doc) != got {
			t.Fatalf("Match(%q) changes through String %s", in, String(e))
		}
	})
}
