package sqlstore

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/schema"
)

// TestLongIndexedValues: values a client chose that are too long for an index entry (PostgreSQL refuses a
// btree entry past about a third of a page: an incompressible 9 KB userName was a 500) are a 400 for the
// columns the SQL compiler reads (userName, externalId, a group's displayName), and are kept by their hash
// in a declared type's keys, where an eq lookup and uniqueness still find them.
func TestLongIndexedValues(t *testing.T) {
	long := func(n int) string { // random hex does not compress: the size an index entry really needs
		b := make([]byte, n/2)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}
	agent := schema.Agent()
	for name, open := range map[string]func(testing.TB) *Store{"sqlite": newSQLite, "postgres": newPostgres} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			c := serve(t, s, scim.WithResource(scim.Resource{Type: agent, Store: s.Resources(agent)}))
			v := long(9000)
			for _, body := range []string{`{"userName":"` + v + `"}`, `{"userName":"x@example.com","externalId":"` + v + `"}`} {
				status, m, err := c.send(http.MethodPost, "/Users", body)
				require.NoError(t, err)
				require.Equal(t, http.StatusBadRequest, status, "%v", m)
				require.Equal(t, "invalidValue", m["scimType"])
			}
			status, m, err := c.send(http.MethodPost, "/Groups", `{"displayName":"`+v+`"}`)
			require.NoError(t, err)
			require.Equal(t, http.StatusBadRequest, status, "%v", m)

			v = long(1500) // past the longest key kept as it is, within a filter's length
			created := c.do(http.StatusCreated, http.MethodPost, "/Agents", `{"agentUserName":"`+v+`","displayName":"`+long(9000)+`"}`)
			list := c.do(http.StatusOK, http.MethodGet, `/Agents?filter=agentUserName%20eq%20%22`+v+`%22`, "")
			require.EqualValues(t, 1, list["totalResults"], "found through its hashed key")
			require.Equal(t, created["id"], list["Resources"].([]any)[0].(map[string]any)["id"])
			c.do(http.StatusConflict, http.MethodPost, "/Agents", `{"agentUserName":"`+v+`"}`)
			c.do(http.StatusCreated, http.MethodPost, "/Agents", `{"agentUserName":"`+v[:len(v)-1]+`"}`)
		})
	}
}
