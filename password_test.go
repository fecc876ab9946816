package scim_test

import (
	"net/http"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// TestPasswordHashFair: while tenant A floods password writes, tenant B's own password write is hashed next,
// ahead of A's queue. A hasher that blocks until told shows the order of admission: nothing is timed.
func TestPasswordHashFair(t *testing.T) {
	h := scim.MustNew(memstore.New(), scim.WithPasswords(scim.PasswordsHashed),
		scim.WithLimits(scim.Limits{Tenant: scim.TenantLimits{MaxConcurrent: 8}}), // A's six writes all admitted
		scim.WithAuthenticator(func(r *http.Request) (string, error) {
			tok, _ := scim.BearerToken(r)
			return tok, nil // the token names the tenant
		}))
	started := make(chan string, 16) // the password each hash was started for, in order
	proceed := make(chan struct{})
	scim.SetHasher(h, 1, func(pw []byte) ([]byte, error) {
		started <- string(pw)
		<-proceed
		return []byte("hash:" + string(pw)), nil
	})
	s := serveHandler(t, h)
	var wg sync.WaitGroup
	statuses := make(chan int, 16)
	post := func(tenant, pw string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.as(tenant).send("POST", "/Users", `{"userName":"`+pw+`","password":"`+pw+`"}`)
			if err == nil {
				statuses <- r.Status
			}
		}()
	}
	waitFor := func(tenant string, n int) {
		for scim.HashWaiting(h, tenant) != n {
			runtime.Gosched()
		}
	}
	post("a", "a0")
	require.Equal(t, "a0", <-started)
	for i := 1; i <= 5; i++ {
		post("a", "a"+string(rune('0'+i)))
		waitFor("a", i)
	}
	post("b", "b0")
	waitFor("b", 1)
	var order []string
	for range 6 {
		proceed <- struct{}{}
		order = append(order, <-started)
	}
	proceed <- struct{}{}
	wg.Wait()
	close(statuses)
	for st := range statuses {
		require.Equal(t, 201, st)
	}
	require.Equal(t, []string{"b0", "a1", "a2", "a3", "a4", "a5"}, order, "B's hash is next, ahead of A's queue, which keeps its order")
}
