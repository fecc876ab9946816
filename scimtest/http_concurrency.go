package scimtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// Concurrency through HTTP, for every store (run with -race): parallel creates of one userName, parallel
// PATCHes of one user, PATCH racing DELETE, and lists during writes. No answer is ever a 5xx.

// confRace runs f(0..n-1) in n goroutines released together and returns their answers; an error (a failed
// request, a malformed answer, a 5xx) fails the test.
func confRace(t *testing.T, n int, f func(i int) (response, error)) []response {
	t.Helper()
	out := make([]response, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			out[i], errs[i] = f(i)
			if errs[i] == nil && out[i].Status >= 500 {
				errs[i] = fmt.Errorf("goroutine %d: %s", i, out[i])
			}
		})
	}
	close(start)
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	return out
}

// confStatuses counts the answers by status.
func confStatuses(rs []response) map[int]int {
	m := map[int]int{}
	for _, r := range rs {
		m[r.Status]++
	}
	return m
}

var concurrencyReqs = []requirement{
	{"RFC7644 §3.3", "MUST", "ParallelCreateOneUserName",
		"of many parallel POSTs of one userName (in any case) exactly one gets 201, every other 409 `uniqueness`, none a 5xx",
		checkParallelCreateOneUserName},
	{"RFC7644 §3.14", "MUST", "ParallelIfMatchOneWinner",
		"of parallel PUTs and PATCHes conditioned on one ETag exactly one succeeds, the others get 412",
		checkParallelIfMatchOneWinner},
	{"RFC7644 §3.5.2", "LIB", "ParallelPatchNoLostUpdate",
		"parallel PATCHes (no If-Match) of different attributes of one user all succeed and none is lost",
		checkParallelPatchNoLostUpdate},
	{"RFC7644 §3.6", "LIB", "PatchRacingDelete",
		"PATCHes racing a DELETE get 200 or 404, the DELETE 204, never a 5xx; afterwards the user is gone everywhere",
		checkPatchRacingDelete},
	{"RFC7644 §3.4.2", "LIB", "ListDuringWrites",
		"lists (index and cursor, filtered, sorted) during creates, PATCHes and DELETEs always answer 200, well-formed: `itemsPerPage` is the number of `Resources`, each a matching user",
		checkListDuringWrites},
	{"RFC7644 §3.4.2", "LIB", "ListTotalConsistentDuringWrites",
		"during writes, a list whose one page holds every match has `totalResults` equal to its number of `Resources` (one snapshot)",
		checkListTotalConsistentDuringWrites},
}

// checkParallelCreateOneUserName checks RFC7644 §3.3 MUST: of many parallel POSTs of one userName (in any case) exactly one gets 201, every other 409 `uniqueness`, none a 5xx.
func checkParallelCreateOneUserName(t *testing.T, s *server) {
	const n = 24
	names := []string{"race@example.com", "RACE@example.com", "Race@Example.com", "race@EXAMPLE.COM"}
	rs := confRace(t, n, func(i int) (response, error) {
		return confSend(s.URL+"/Users", "POST", `{"userName":"`+names[i%len(names)]+`","title":"t`+strconv.Itoa(i)+`"}`, confToken)
	})
	require.Equal(t, map[int]int{201: 1, 409: n - 1}, confStatuses(rs))
	for _, r := range rs {
		if r.Status == 409 {
			require.Equal(t, "uniqueness", r.Body["scimType"])
		}
	}
	require.Len(t, s.filter(`userName eq "race@example.com"`), 1)
	require.Equal(t, 1.0, s.list("")["totalResults"])
}

// checkParallelIfMatchOneWinner checks RFC7644 §3.14 MUST: of parallel PUTs and PATCHes conditioned on one ETag exactly one succeeds, the others get 412.
func checkParallelIfMatchOneWinner(t *testing.T, s *server) {
	const n = 16
	r := s.do("POST", "/Users", `{"userName":"cond@example.com"}`)
	id, etag := r.Body["id"].(string), r.Header.Get("ETag")
	rs := confRace(t, n, func(i int) (response, error) {
		if i%2 == 0 {
			return confSend(s.URL+"/Users/"+id, "PATCH", confPatchOp(`{"op":"replace","path":"title","value":"t`+strconv.Itoa(i)+`"}`), confToken, "If-Match", etag)
		}
		return confSend(s.URL+"/Users/"+id, "PUT", `{"userName":"cond@example.com","title":"t`+strconv.Itoa(i)+`"}`, confToken, "If-Match", etag)
	})
	require.Equal(t, map[int]int{200: 1, 412: n - 1}, confStatuses(rs))
	for _, r := range rs {
		if r.Status == 200 {
			require.Equal(t, r.Body["title"], s.get(id)["title"], "the winner's write is the one kept")
		}
	}
}

// checkParallelPatchNoLostUpdate checks RFC7644 §3.5.2 LIB: parallel PATCHes (no If-Match) of different attributes of one user all succeed and none is lost.
func checkParallelPatchNoLostUpdate(t *testing.T, s *server) {
	id := s.create(`{"userName":"busy@example.com"}`)["id"].(string)
	paths := []string{"displayName", "nickName", "title", "userType", "locale", "name.givenName", "name.familyName",
		`emails[type eq "work"].value`, enterpriseNS + ":employeeNumber", enterpriseNS + ":department"}
	const rounds = 3
	var ok atomic.Int64
	confRace(t, len(paths), func(w int) (response, error) {
		var last response
		for j := range rounds {
			v := "v" + strconv.Itoa(w) + "-" + strconv.Itoa(j)
			if w == 7 {
				v += "@work.example"
			}
			r, err := confSend(s.URL+"/Users/"+id, "PATCH", confPatchOp(confJSON(map[string]string{"op": "add", "path": paths[w], "value": v})), confToken)
			if err != nil || r.Status != 200 {
				return r, fmt.Errorf("%s: %v %s", paths[w], err, r)
			}
			ok.Add(1)
			last = r
		}
		return last, nil
	})
	require.Equal(t, int64(len(paths)*rounds), ok.Load())
	u := s.get(id)
	last := func(w int) string { return "v" + strconv.Itoa(w) + "-" + strconv.Itoa(rounds-1) }
	require.Equal(t, last(0), u["displayName"])
	require.Equal(t, last(1), u["nickName"])
	require.Equal(t, last(2), u["title"])
	require.Equal(t, last(3), u["userType"])
	require.Equal(t, last(4), u["locale"])
	require.Equal(t, confObj{"givenName": last(5), "familyName": last(6)}, u["name"])
	require.Equal(t, confList{confObj{"type": "work", "value": last(7) + "@work.example"}}, u["emails"])
	require.Equal(t, confObj{"employeeNumber": last(8), "department": last(9)}, u[enterpriseNS])
}

// checkPatchRacingDelete checks RFC7644 §3.6 LIB: PATCHes racing a DELETE get 200 or 404, the DELETE 204, never a 5xx; afterwards the user is gone everywhere.
func checkPatchRacingDelete(t *testing.T, s *server) {
	for round := range 4 {
		name := "victim" + strconv.Itoa(round) + "@example.com"
		id := s.user(name)
		const n = 12
		rs := confRace(t, n, func(i int) (response, error) {
			if i == n/2 {
				return confSend(s.URL+"/Users/"+id, "DELETE", "", confToken)
			}
			return confSend(s.URL+"/Users/"+id, "PATCH", confPatchOp(`{"op":"add","path":"roles","value":[{"value":"r`+strconv.Itoa(i)+`"}]}`), confToken)
		})
		for i, r := range rs {
			if i == n/2 {
				require.Equal(t, 204, r.Status, "%s", r)
				continue
			}
			require.Contains(t, []int{200, 404}, r.Status, "%s", r)
		}
		confError(t, s.do("GET", "/Users/"+id, ""), 404, "")
		require.Empty(t, s.filter(`userName eq "`+name+`"`))
		require.Equal(t, 0.0, s.list("")["totalResults"])
		s.user(name) // the userName is free again
		require.NoError(t, s.Store.Delete(inTenant(t, s.tenant()), s.filterIDs(`userName eq "` + name + `"`)[0], ""))
	}
}

// checkListDuringWrites checks RFC7644 §3.4.2 LIB: lists (index and cursor, filtered, sorted) during creates, PATCHes and DELETEs always answer 200, well-formed: `itemsPerPage` is the number of `Resources`, each a matching user.
func checkListDuringWrites(t *testing.T, s *server) {
	confListsDuringWrites(t, s, false)
}

// checkListTotalConsistentDuringWrites checks RFC7644 §3.4.2 LIB: during writes, a list whose one page holds every match has `totalResults` equal to its number of `Resources` (one snapshot).
func checkListTotalConsistentDuringWrites(t *testing.T, s *server) {
	confListsDuringWrites(t, s, true)
}

// confListsDuringWrites runs lists while three writers create, PATCH and delete users, and checks every
// answer: 200, well-formed, `itemsPerPage` the number of Resources, each resource a matching user; with
// totals, also that a page holding every match has `totalResults` equal to its number of Resources.
func confListsDuringWrites(t *testing.T, s *server, totals bool) {
	for i := range 10 {
		s.user("base" + strconv.Itoa(i) + "@example.com")
	}
	stop := make(chan struct{})
	var writes atomic.Int64
	var wg sync.WaitGroup
	var writeErr error
	var mu sync.Mutex
	for w := range 3 {
		wg.Go(func() {
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				name := "w" + strconv.Itoa(w) + "-" + strconv.Itoa(j) + "@example.com"
				c, err := confSend(s.URL+"/Users", "POST", `{"userName":"`+name+`","active":true}`, confToken)
				if err == nil && c.Status == 201 {
					id := c.Body["id"].(string)
					if _, err = confSend(s.URL+"/Users/"+id, "PATCH", confPatchOp(`{"op":"replace","path":"active","value":false}`), confToken); err == nil && j%2 == 0 {
						_, err = confSend(s.URL+"/Users/"+id, "DELETE", "", confToken)
					}
				} else if err == nil {
					err = fmt.Errorf("create: %s", c)
				}
				if err != nil {
					mu.Lock()
					writeErr = errors.Join(writeErr, err)
					mu.Unlock()
					return
				}
				writes.Add(1)
			}
		})
	}
	queries := []string{"count=1000", "count=1000&filter=" + url.QueryEscape("active eq true"), "count=1000&sortBy=userName",
		"count=1000&filter=" + url.QueryEscape(`userName sw "w" and active eq false`), "count=1000&cursor=",
		"count=1000&cursor=&filter=" + url.QueryEscape("active eq true"), "count=5&startIndex=3", "count=5&cursor="}
	confRace(t, 24, func(i int) (response, error) {
		var last response
		for j := range 8 {
			q := queries[(i+j)%len(queries)]
			r, err := confSend(s.URL+"/Users?"+q, "GET", "", confToken)
			if err != nil {
				return r, err
			}
			if r.Status != 200 {
				return r, fmt.Errorf("%s: %s", q, r)
			}
			var page struct {
				TotalResults int               `json:"totalResults"`
				ItemsPerPage int               `json:"itemsPerPage"`
				NextCursor   *string           `json:"nextCursor"`
				Resources    []json.RawMessage `json:"Resources"`
			}
			if err := json.Unmarshal(r.Raw, &page); err != nil {
				return r, err
			}
			if page.ItemsPerPage != len(page.Resources) || len(page.Resources) > 1000 || strings.HasPrefix(q, "count=5") && len(page.Resources) > 5 {
				return r, fmt.Errorf("%s: itemsPerPage %d, %d Resources", q, page.ItemsPerPage, len(page.Resources))
			}
			if totals && strings.HasPrefix(q, "count=1000") && (page.TotalResults != len(page.Resources) || page.NextCursor != nil) {
				return r, fmt.Errorf("%s: totalResults %d with %d Resources (nextCursor %v): one page holds every match",
					q, page.TotalResults, len(page.Resources), page.NextCursor != nil)
			}
			for _, raw := range page.Resources {
				var u map[string]any
				if err := json.Unmarshal(raw, &u); err != nil || u["id"] == nil || u["userName"] == nil {
					return r, fmt.Errorf("%s: a malformed resource %s", q, raw)
				}
				if strings.Contains(q, "active+eq+true") && u["active"] != true {
					return r, fmt.Errorf("%s: a resource that does not match: %s", q, raw)
				}
			}
			last = r
		}
		return last, nil
	})
	close(stop)
	wg.Wait()
	require.NoError(t, writeErr)
	require.Positive(t, writes.Load(), "the lists ran during writes")
}

// filterIDs lists the users matching the filter and returns their ids.
func (s *server) filterIDs(f string) []string {
	s.t.Helper()
	var ids []string
	for _, u := range confResources(s.t, s.list("filter="+url.QueryEscape(f))) {
		ids = append(ids, u["id"].(string))
	}
	return ids
}
