package filter

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim/schema"
)

var simpleSeeds = []string{
	`userName eq "jane@contoso.com"`, `USERNAME EQ "Jane@Contoso.com"`, `  userName   eq   "x"  `,
	`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`, `id eq "2819c223"`, `userName eq "j+d@x.com"`,
	`userName eq "a\"b"`, `userName eq "\u00e9\u00E9"`, `userName eq "x]y[z"`, `userName eq ""`,
	`active eq true`, `active eq False`, `active ne "True"`, `title pr`, `title PR`, `emails co "@x"`,
	`emails.value sw "a"`, `meta.created gt "2011-05-13T04:42:34Z"`, `title eq null`, `title ne NULL`,
	`urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "B"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m"`,
	// Not simple, or invalid: parseSimple must decline, and the general parser decides.
	`userName eq "a" and title pr`, `emails[type eq "work"]`, `not (title pr)`, `(userName eq "x")`,
	`userName eq 1`, `active gt true`, `foo eq "x"`, `userName eq"x"`, `userName regex "x"`, `title pr x`,
	`userName eq "unterminated`, `userName eq "a" "b"`, `name eq "x"`, `password eq "x"`, `userName eq 1e3`,
	`userName`, ``, `eq "x"`, `userName eq "x"or title pr`, "userName\teq\t\"tab\"",
	// Runs of one operator (simple), and what stays with the general parser.
	`id eq "1" or id eq "2" or id eq "3"`, `title pr AND nickName pr`, `userName eq "a or b" or title eq "and"`,
	`title eq "x"   or   title eq "y"`, `title eq "a" and title eq "b" or title eq "c"`, `title eq "a" or title eq "b" and title pr`,
	"title eq \"a\" or\ttitle pr", `title eq "a" or (title pr)`, `title eq "a" or not (title pr)`, `title eq "a" or`,
	`title eq "a\" or title eq \"b"`, `title eq "a" or title eq "b`, `title eq "a" xor title pr`, `title eq "a" oR title pr`,
}

// TestSimpleAgrees: whatever the fast path accepts, the general parser parses to the same expression.
func TestSimpleAgrees(t *testing.T) {
	rt := schema.User()
	accepted := 0
	for _, s := range simpleSeeds {
		if checkSimpleAgrees(t, rt, s) {
			accepted++
		}
	}
	require.GreaterOrEqual(t, accepted, 20, "the fast path takes the common shapes")
	for _, s := range []string{`userName eq "jane@contoso.com"`, `externalId eq "x"`, `title pr`, `active eq false`,
		`id eq "1" or id eq "2" or id eq "3"`, `title pr AND nickName pr`} {
		_, ok := parseSimple(rt, s)
		require.True(t, ok, "%s is on the fast path", s)
	}
}

func checkSimpleAgrees(t *testing.T, rt *schema.ResourceType, s string) bool {
	t.Helper()
	fast, ok := parseSimple(rt, s)
	if !ok {
		return false
	}
	general, err := DefaultLimits.parseGeneral(rt, s)
	require.NoError(t, err, "the fast path accepted %q, the general parser rejects it", s)
	require.Equal(t, String(general), String(fast), "%q", s)
	require.Equal(t, general, fast, "%q", s)
	return true
}

func FuzzSimpleAgrees(f *testing.F) {
	for _, s := range simpleSeeds {
		f.Add(s)
	}
	rt := schema.User()
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > DefaultLimits.MaxLength {
			return
		}
		checkSimpleAgrees(t, rt, s)
	})
}

var simplePathSeeds = []string{
	`displayName`, `name.formatted`, `NAME.Formatted`, `emails`, `emails[type eq "work"].value`,
	`emails[TYPE EQ "work"].VALUE`, `emails[type eq "work"]`, `members[value eq "2819c223"]`,
	`addresses[type eq "work"].streetAddress`, `emails[primary eq true].value`, `emails[value co "@x"]`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`, `urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value`,
	`  emails[type eq "work"].value  `, `emails[type eq "a]b"].value`, `emails[type eq "\u00e9"].value`,
	// Not simple, or invalid: the general parser decides.
	`emails[type eq "work" and primary eq true].value`, `emails[not (type eq "work")]`, `emails[type eq "work"].foo`,
	`name[givenName eq "x"]`, `emails.value[type eq "work"]`, `emails[name.givenName eq "x"]`, `emails[type eq "work"]x`,
	`emails[type eq "work"].value.x`, `foo`, ``, `emails[]`, `emails[type eq "work"`, `userName[type eq "x"]`,
	`emails[type eq "a" or type eq "b" or type eq "c"]`, `emails[type eq "work" and primary eq true].value`,
	`emails[type eq "a" or type eq "b" and primary eq true]`, `members[value eq "1" or value eq "2"]`,
}

// TestSimplePathAgrees: whatever the fast path accepts, the general path parser parses to the same path.
func TestSimplePathAgrees(t *testing.T) {
	rt := schema.User()
	accepted := 0
	for _, s := range simplePathSeeds {
		if checkSimplePathAgrees(t, rt, s) {
			accepted++
		}
	}
	require.GreaterOrEqual(t, accepted, 14)
	_, ok := parseSimplePath(rt, `emails[type eq "work"].value`)
	require.True(t, ok, "Entra's path is on the fast path")
	_, ok = parseSimplePath(rt, `emails[type eq "work" and primary eq true].value`)
	require.True(t, ok, "a run of one operator is on the fast path")
}

func checkSimplePathAgrees(t *testing.T, rt *schema.ResourceType, s string) bool {
	t.Helper()
	fast, ok := parseSimplePath(rt, s)
	if !ok {
		return false
	}
	general, err := parseGeneralPath(rt, s)
	require.NoError(t, err, "the fast path accepted %q, the general parser rejects it", s)
	require.Equal(t, general.String(), fast.String(), "%q", s)
	require.Equal(t, general, fast, "%q", s)
	return true
}

func FuzzSimplePathAgrees(f *testing.F) {
	for _, s := range simplePathSeeds {
		f.Add(s)
	}
	rt := schema.User()
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > DefaultLimits.MaxLength {
			return
		}
		checkSimplePathAgrees(t, rt, s)
	})
}
