package scim_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// orFilter returns a value filter of n "type eq" comparisons joined by "or" that matches no email of
// emailsValue (their type is "work"), escaped for a JSON string.
func orFilter(n int) string {
	t := make([]string, n)
	for i := range t {
		t[i] = fmt.Sprintf(`type eq \"t%d\"`, i)
	}
	return strings.Join(t, " or ")
}

// TestHostilePatchWork: issue 16's PATCH (1000 filtered removes of 31-term value filters over 1000 emails,
// 990 KB, 5.4 CPU-s before) stops at the work budget with 400 tooMany naming the limit, and writes nothing;
// within the budget the same shapes are answered. Budgets count values examined times comparisons.
func TestHostilePatchWork(t *testing.T) {
	s := newTestServer(t)
	id := s.create(`{"userName":"victim","emails":` + emailsValue(1000, 0) + `}`)["id"].(string)
	before := s.get(id)

	body := hostilePatch(1000, 31)
	require.Greater(t, len(body), 900_000)
	r := s.do("PATCH", "/Users/"+id, body)
	requireError(t, r, 400, "tooMany")
	require.Contains(t, r.Body["detail"], "more than 1000000 units of work")
	require.Equal(t, before, s.get(id), "nothing written")

	// One such operation is well within the budget: 31 comparisons × 1000 emails.
	one := `{"op":"remove","path":"emails[` + orFilter(31) + `]"}`
	require.Equal(t, 200, s.patch(id, one).Status)

	for _, tt := range []struct {
		name   string
		budget int
		ops    []string
		status int
	}{
		// 1 + 10 values × 5 comparisons = 51 units an operation.
		{"within", 110, []string{`{"op":"remove","path":"emails[` + orFilter(5) + `]"}`, `{"op":"remove","path":"emails[` + orFilter(5) + `]"}`}, 200},
		{"past", 100, []string{`{"op":"remove","path":"emails[` + orFilter(5) + `]"}`, `{"op":"remove","path":"emails[` + orFilter(5) + `]"}`}, 400},
		// A sub-attribute of every value: 1 + 10 units an operation, no filter.
		{"sub-attribute", 30, []string{`{"op":"replace","path":"emails.display","value":"x"}`, `{"op":"replace","path":"emails.display","value":"y"}`, `{"op":"replace","path":"emails.display","value":"z"}`}, 400},
		// Path-less keys are operations of their own.
		{"path-less", 30, []string{`{"op":"replace","value":{"emails.display":"x","title":"t"}}`, `{"op":"replace","value":{"emails.display":"y","nickName":"n"}}`, `{"op":"replace","value":{"emails.display":"z"}}`}, 400},
		{"no bound", scim.NoLimit, []string{`{"op":"remove","path":"emails[` + orFilter(5) + `]"}`, `{"op":"remove","path":"emails[` + orFilter(5) + `]"}`}, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, scim.WithLimits(scim.Limits{MaxWork: tt.budget}))
			id := s.create(`{"userName":"u","emails":` + emailsValue(10, 0) + `}`)["id"].(string)
			before := s.get(id)
			r := s.patch(id, tt.ops...)
			require.Equal(t, tt.status, r.Status, "%s", r.Raw)
			if tt.status == 400 {
				requireError(t, r, 400, "tooMany")
				require.Contains(t, r.Body["detail"], fmt.Sprintf("more than %d units of work", tt.budget))
				require.Equal(t, before, s.get(id), "nothing written")
			}
		})
	}
}

// TestHostileGroupWork: a group PATCH is charged the members it reads and, for a member filter that is not a
// list of ids, the members it tests times the filter's comparisons; a group PUT the members it reads for its
// difference. Past the budget: 400 tooMany, nothing written.
func TestHostileGroupWork(t *testing.T) {
	for _, tt := range []struct {
		name, method, body string
		budget, status     int
	}{
		// 30 members read, then 30 tested by one comparison: 60 units.
		{"filter within", "PATCH", patchOp(`{"op":"remove","path":"members[value sw \"zz\"]"}`), 60, 204},
		{"filter past", "PATCH", patchOp(`{"op":"remove","path":"members[value sw \"zz\"]"}`), 59, 400},
		{"filters past", "PATCH", patchOp(`{"op":"remove","path":"members[value sw \"zz\"]"}`, `{"op":"remove","path":"members[value sw \"zz\" or value ew \"zz\"]"}`), 119, 400}, // 30 + 30 + 60
		// A list of ids is not a filter to test: it costs nothing over what the body holds.
		{"ids", "PATCH", patchOp(`{"op":"remove","path":"members[value eq \"1\" or value eq \"2\"]"}`), 1, 204},
		// A replace of the list reads the members for the difference.
		{"replace past", "PATCH", patchOp(`{"op":"replace","path":"members","value":[]}`), 29, 400},
		{"put within", "PUT", `{"displayName":"g","members":[]}`, 30, 200},
		{"put past", "PUT", `{"displayName":"g","members":[]}`, 29, 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, scim.WithLimits(scim.Limits{MaxWork: tt.budget}))
			var members []string
			for i := range 30 {
				members = append(members, `{"value":"`+s.createUser(fmt.Sprintf("m%d", i))+`"}`)
			}
			gid := s.createGroup(`{"displayName":"g","members":[` + strings.Join(members, ",") + `]}`)
			r := s.do(tt.method, "/Groups/"+gid, tt.body)
			require.Equal(t, tt.status, r.Status, "%s", r.Raw)
			if tt.status == 400 {
				requireError(t, r, 400, "tooMany")
				g := s.do("GET", "/Groups/"+gid, "")
				require.Len(t, g.Body["members"], 30, "nothing written")
			}
		})
	}
}

// refusingGroups is a memstore whose ListGroups refuses every query as too many groups to examine, as
// a host's GroupStore over a large table may.
type refusingGroups struct{ *memstore.Store }

func (refusingGroups) ListGroups(context.Context, scim.Query, scim.GroupRead) (*scim.GroupPage, error) {
	return nil, fmt.Errorf("host: %w", scim.ErrTooMany)
}

// TestGroupsTooMany: a Store's ErrTooMany is the client's 400 tooMany naming the limit on every route,
// /Groups included, never a 500 logged as the service's failure.
func TestGroupsTooMany(t *testing.T) {
	s := serveStoreAt(t, refusingGroups{memstore.New()}, scim.WithLimits(scim.Limits{MaxScan: 500}))
	r := s.do("GET", `/Groups?filter=displayName%20co%20%22a%22`, "")
	require.Equal(t, 400, r.Status, r)
	require.Equal(t, "tooMany", r.Body["scimType"], r)
	require.Contains(t, r.Body["detail"], "500", r)
}
