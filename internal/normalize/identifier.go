package normalize

import (
	"strings"
	"unicode"

	"github.com/scimkit/scim/schema"
)

// checkIdentifier refuses control and format characters (Unicode Cc and Cf: zero-width space and joiner,
// bidi controls) in a string sent for an attribute whose uniqueness is "server" or "global", such as
// userName. They are invisible or reorder what is shown, so two accounts could look like one identity to a
// person; the comparison key (filter.Fold) drops format characters too, and refusing them keeps the stored
// name what an administrator reads. Only values a client sends pass here, so a user stored before the check
// can still be patched.
func checkIdentifier(a *schema.Attribute, s string) error {
	if a.Uniqueness != schema.UniqueServer && a.Uniqueness != schema.UniqueGlobal {
		return nil
	}
	if i := strings.IndexFunc(s, invisible); i >= 0 {
		return invalid("%s must not contain control or format characters (%U at byte %d)", a.Name, []rune(s[i:])[0], i)
	}
	return nil
}

func invisible(r rune) bool { return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) }
