package scim

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUserExtensionsJSON: host extensions round-trip through the JSON form, under URNs in any case, beside
// the enterprise extension, and without a second decode only when there is no other URN key.
func TestUserExtensionsJSON(t *testing.T) {
	for _, in := range []string{
		`{"userName":"x","URN:my:ext":{"a":"b"}}`,
		`{"userName":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"d"},"Urn:My:Ext":{"a":"b"}}`,
		`{"userName":"x","profileUrl":"urn:isbn:1","urn:my:ext":{"a":"b"}}`,
	} {
		var u User
		require.NoError(t, json.Unmarshal([]byte(in), &u), in)
		require.Len(t, u.Extensions, 1, in)
		for _, attrs := range u.Extensions {
			require.Equal(t, Attributes{"a": "b"}, attrs, in)
		}
		out, err := json.Marshal(u)
		require.NoError(t, err)
		var again User
		require.NoError(t, json.Unmarshal(out, &again))
		require.Equal(t, u, again, "round trip of %s", out)
	}
	var u User
	require.NoError(t, json.Unmarshal([]byte(`{"userName":"x","profileUrl":"urn:isbn:1"}`), &u))
	require.Nil(t, u.Extensions)
	require.Equal(t, 0, countURNs([]byte(`{"userName":"x"}`)))
	require.Equal(t, 2, countURNs([]byte(`{"URN:a":1,"b":"urn:x"}`)))
}
