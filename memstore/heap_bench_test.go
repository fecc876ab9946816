package memstore_test

import (
	"context"
	"flag"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

var heapUsers = flag.Int("heap-users", 100_000, "users BenchmarkHeap seeds")

// BenchmarkHeap reports the live heap a Store holds per Entra-mapped user (the users of
// bench's heap measurement: the same fields, every string its own allocation as a decoded body's are), as
// bytes/user: the heap after GC with the store seeded, minus before. Its ns/op means nothing.
//
//	go test -run '^$' -bench Heap -benchtime 1x .                       # 100k users
//	go test -run '^$' -bench Heap -benchtime 1x -heap-users 1000000 .   # 1M, as bench measures
func BenchmarkHeap(b *testing.B) {
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	n := *heapUsers
	ctx := scim.ContextWithTenant(context.Background(), "")
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		before := heap()
		s := memstore.New()
		for i := range n {
			if _, err := s.Create(ctx, entraHeapUser(i, epoch)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(heap()-before)/float64(n), "bytes/user")
		runtime.KeepAlive(s)
	}
}

// entraHeapUser is bench's entraUser(i): user i as a Store holds it after Entra's POST.
func entraHeapUser(i int, epoch time.Time) *scim.User {
	pad := func(s string, w int) string { return strings.Repeat("0", max(0, w-len(s))) + s }
	x := strconv.FormatInt(int64(i), 16)
	active := true
	created := epoch.Add(time.Duration(i) * time.Second)
	display := func() string { return "Given" + strconv.Itoa(i) + " Family" + strconv.Itoa(i) }
	userName := func() string { return "user" + pad(strconv.Itoa(i), 7) + "@contoso.com" }
	return &scim.User{
		ID:          "00000000-0000-4000-8000-" + pad(strconv.Itoa(i), 12),
		ExternalID:  pad(x, 8) + "-8d2a-4f8e-bf98-" + pad(x, 12),
		UserName:    userName(),
		DisplayName: display(),
		Active:      &active,
		Name:        &scim.Name{Formatted: display(), FamilyName: "Family" + strconv.Itoa(i), GivenName: "Given" + strconv.Itoa(i)},
		Emails:      []scim.MultiValue{{Value: userName(), Type: strings.Clone("work"), Primary: true}},
		Meta:        scim.Meta{ResourceType: strings.Clone("User"), Created: created, LastModified: created},
	}
}
