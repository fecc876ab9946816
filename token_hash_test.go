package scim_test

import (
	"database/sql/driver"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// A TokenHash goes into and comes out of a database column as a GORM or database/sql model field: its value
// is the hex text WithTokenHashes takes; it scans that text or a binary column's raw bytes.
func TestTokenHashColumn(t *testing.T) {
	h := scim.HashToken("secret")
	v, err := h.Value()
	require.NoError(t, err)
	require.Equal(t, driver.Value("2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"), v)
	require.Equal(t, v, h.String())
	for _, src := range []any{v, []byte(v.(string)), h[:]} {
		var got scim.TokenHash
		require.NoError(t, got.Scan(src))
		require.Equal(t, h, got)
	}
	var bad scim.TokenHash
	require.Error(t, bad.Scan("abc"))
	require.Error(t, bad.Scan(42))
	require.Error(t, bad.Scan("zz"+v.(string)[2:]))
}
