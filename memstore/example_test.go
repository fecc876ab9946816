package memstore_test

import (
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// A handler over a Store in memory: users and groups, gone when the process exits.
func ExampleNew() {
	h, err := scim.New(memstore.New(), scim.WithTokens("secret"))
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest("POST", "/Users", strings.NewReader(`{"userName":"bjensen@example.com"}`))
	req.Header.Set("Authorization", "Bearer secret")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	fmt.Println(w.Code)
	// Output: 201
}
