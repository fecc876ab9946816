package normalize

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim/schema"
)

func TestIdentifierRefusesInvisibleCharacters(t *testing.T) {
	rt := schema.User()
	for _, name := range []string{
		"ad\u200bmin", // zero-width space
		"ad\u200dmin", // zero-width joiner
		"\u202eadmin", // right-to-left override
		"admin\u2066", // left-to-right isolate
		"ad\u00admin", // soft hyphen
		"\ufeffadmin", // byte order mark
		"ad\x00min",   // NUL
		"admin\n",     // a control character
		"ad\u0085min", // NEL
	} {
		_, err := Resource(rt, map[string]any{"userName": name}, nil)
		require.ErrorIs(t, err, ErrInvalidValue, "%q", name)
	}
	// Other attributes keep what they are sent: only identifiers (uniqueness server or global) are checked.
	doc, err := Resource(rt, map[string]any{"userName": "admin", "displayName": "Ad\u200bmin", "title": "a\nb"}, nil)
	require.NoError(t, err)
	require.Equal(t, "Ad\u200bmin", doc["displayName"])
	for _, name := range []string{"Ａdmin", "straße", "ΣΊΣΥΦΟΣ", "cafe\u0301", "Barbara Jensen", "admin "} {
		_, err := Resource(rt, map[string]any{"userName": name}, nil)
		require.NoError(t, err, "%q: visible characters are accepted; the comparison key identifies look-alikes", name)
	}
}
