package scimtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/scimtest"
	"github.com/scimkit/scim/shared/sortkey"
)

// The kit checks itself: each broken store below has one mistake a real Store makes, and the kit must fail
// it in the subtest named. Without this, a check that silently stopped checking would go unnoticed.

var brokenStores = []struct {
	bug, group, subtest string // the subtest expected to fail (a prefix of its name); "" for the group itself
}{
	{"noID", "preflight", ""},
	{"getByGivenID", "preflight", ""},
	{"listGivenIDs", "preflight", ""},
	{"hostIDParseError", "not found", "Get, Replace and Delete of an unknown id"},
	{"reusesIDs", "not found", "Get, Replace and Delete of a deleted user"},
	{"caseSensitiveUserName", "userName uniqueness", "Create fails with ErrConflict when the tenant has the userName in any case"},
	{"asciiOnlyFold", "userName uniqueness", "userName comparison folds non-ASCII letters"},
	{"lowerOnlyFold", "userName uniqueness", "userName uniqueness and userName eq agree with filter.Fold's key"},
	{"accentBlindFold", "userName uniqueness", "userName uniqueness and userName eq agree with filter.Fold's key"},
	{"replaceSkipsUniqueness", "userName uniqueness", "Replace fails with ErrConflict when renaming"},
	{"ignoresVersion", "versions", "Replace with a stale version fails"},
	{"constantVersion", "versions", "Replace sets a new Meta.Version every time"},
	{"getAnyTenant", "tenants", "Get, Replace and Delete never reach another tenant's user"},
	{"tenantWithoutCase", "tenants", "Get, Replace and Delete never reach another tenant's user"},
	{"listAnyTenant", "tenants", "List only ever returns the context's tenant's users"},
	{"activeFalseUnassigned", "round trip", "Get returns every attribute as created"},
	{"timesInOtherZone", "round trip", "Get returns every attribute as created"},
	{"timesToSeconds", "round trip", "Get returns every attribute as created"},
	{"emptyNameAssigned", "round trip", "a user with only id, userName and meta"},
	{"mutatesReturnedUsers", "round trip", "users returned earlier do not change"},
	{"listPartialUsers", "round trip", "List returns complete users"},
	{"ignoresContext", "context", "every method fails when the context is cancelled"},
	{"defaultsTenant", "context", "every method fails when the context carries no tenant"},
	{"checkThenCreate", "concurrency", "64 parallel Creates of one userName"},
	{"checkThenReplace", "concurrency", "64 parallel Replaces with the same version"},
	{"neSkipsUnassigned", "filter", "every operator on displayName"},
	{"likeWildcards", "filter", "LIKE wildcards"},
	{"valueFilterAcrossElements", "filter", "and, or, not, grouping and value filters"},
	{"datesAsStrings", "filter", "every operator on meta.created"},
	{"filteredInOtherOrder", "filter", "every operator on userName"},
	{"punctuationBlindCollation", "sort", "sortBy orders as the kit states"},
	{"descendingTiesReversed", "sort", "sortBy orders every attribute type"},
	{"startIndexZeroSkipsOne", "pagination", "startIndex and count cut the page"},
	{"totalOfThePage", "pagination", "count 0 gives TotalResults"},
	{"replaceMovesUser", "pagination", "Replace does not move a user"},
	{"cursorIsAnIndex", "cursor pagination", "ListCursor pages stay correct"},
	{"cursorAcceptsAnything", "cursor pagination", "ListCursor rejects a cursor it did not make"},
}

// TestBrokenStore runs the kit against the broken store named by $SCIMTEST_BROKEN; TestKitCatchesBrokenStores
// runs it in a child process and expects it to fail.
func TestBrokenStore(t *testing.T) {
	bug := os.Getenv("SCIMTEST_BROKEN")
	if bug == "" {
		t.Skip("run by TestKitCatchesBrokenStores")
	}
	scimtest.TestStore(t, func(*testing.T) scim.Store { return &brokenStore{bug: bug} })
}

func TestKitCatchesBrokenStores(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary once per broken store")
	}
	for _, bug := range []string{"none", "hostIDs"} { // hostIDs: its own integer ids, correctly
		t.Run(bug, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenStore$", "-test.count=1")
			cmd.Env = append(os.Environ(), "SCIMTEST_BROKEN="+bug)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("the broken store without a bug (%s) fails the kit, so the other cases prove nothing: %v\n%s", bug, err, out)
			}
		})
	}
	// A broken basic contract stops the whole run with one message.
	t.Run("preflight stops the run", func(t *testing.T) {
		t.Parallel()
		cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenStore$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "SCIMTEST_BROKEN=noID")
		out, err := cmd.CombinedOutput()
		const msg = "Create returned a user without an ID: a Store must keep the handler's ID or assign its own"
		if err == nil || !bytes.Contains(out, []byte(msg)) || bytes.Contains(out, []byte("TestBrokenStore/round_trip")) ||
			bytes.Count(out, []byte("--- FAIL")) != 2 {
			t.Errorf("a Store whose Create loses the ID: want the run to stop after the preflight with %q; its output:\n%s", msg, out)
		}
	})
	for _, b := range brokenStores {
		t.Run(b.bug, func(t *testing.T) {
			t.Parallel()
			group := strings.ReplaceAll(b.group, " ", "_")
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenStore$/^"+regexp.QuoteMeta(group)+"$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "SCIMTEST_BROKEN="+b.bug)
			out, err := cmd.CombinedOutput()
			want := "--- FAIL: TestBrokenStore/" + group + "/" + strings.ReplaceAll(b.subtest, " ", "_")
			if b.subtest == "" {
				want = "--- FAIL: TestBrokenStore/" + group + " "
			}
			if err == nil || !bytes.Contains(out, []byte(want)) {
				t.Errorf("the kit did not fail a Store with bug %q in %q (exit: %v); its output:\n%s", b.bug, want, err, out)
			}
		})
	}
}

// brokenStore is the docs' example Store with one bug switched on.
type brokenStore struct {
	bug    string
	mu     sync.Mutex
	users  []brokenEntry
	seq    int
	nextID int // the last id given, for the bugs of a Store with its own integer ids
	// waiting is closed by the second caller to reach meet while the first waits there.
	waiting chan struct{}
	// writing counts the Creates and Replaces in progress: meet holds a caller only when another is.
	writing atomic.Int32
}

// meet is where the check-then-write bugs let a race in: while another write is in progress, it holds the
// first caller (s.mu released) until a second one has passed the same check, so the two always write over
// each other. A sleep in its place raced only when the scheduler happened to interleave, which under load
// it sometimes did not. A write alone (the kit's sequential checks) yields to the goroutines that may be
// starting beside it (for up to 10 ms), then goes on: there is no race to let in. The timeout only keeps a caller
// from hanging when the other write fails its check.
func (s *brokenStore) meet() {
	// Up to 10 ms for another write to start: yielding a hundred times was not always enough under -race
	// on a loaded machine, where the first of the 64 racers then finished alone and the kit saw no race.
	for deadline := time.Now().Add(10 * time.Millisecond); s.writing.Load() < 2 && time.Now().Before(deadline); {
		runtime.Gosched()
		if s.writing.Load() < 2 {
			time.Sleep(50 * time.Microsecond)
		}
	}
	if s.writing.Load() < 2 {
		return
	}
	s.mu.Lock()
	if ch := s.waiting; ch != nil {
		s.waiting = nil
		s.mu.Unlock()
		close(ch)
		return
	}
	ch := make(chan struct{})
	s.waiting = ch
	s.mu.Unlock()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
		s.mu.Lock()
		if s.waiting == ch {
			s.waiting = nil
		}
		s.mu.Unlock()
	}
}

type brokenEntry struct {
	tenant string
	user   *scim.User
	seq    int
	given  string // the id the handler gave Create
}

// hostIDs reports whether the store assigns its own integer ids.
func (s *brokenStore) hostIDs() bool {
	return slices.Contains([]string{"hostIDs", "noID", "getByGivenID", "listGivenIDs", "hostIDParseError", "reusesIDs"}, s.bug)
}

// assign gives u the store's own id.
func (s *brokenStore) assign(u *scim.User) {
	if s.is("reusesIDs") { // the largest id in use, plus one: SQLite's rowid without AUTOINCREMENT
		top := 0
		for _, e := range s.users {
			n, _ := strconv.Atoi(e.user.ID)
			top = max(top, n)
		}
		u.ID = strconv.Itoa(top + 1)
		return
	}
	s.nextID++
	u.ID = strconv.Itoa(s.nextID)
}

// checkID is what a Store with integer ids does first with an id; the bug hostIDParseError reports a
// malformed one as a failure rather than as not found.
func (s *brokenStore) checkID(id string) error {
	if !s.hostIDs() {
		return nil
	}
	if _, err := strconv.Atoi(id); err != nil {
		if s.is("hostIDParseError") {
			return fmt.Errorf("parse id: %w", err)
		}
		return scim.ErrNotFound
	}
	return nil
}

func (s *brokenStore) is(bug string) bool { return s.bug == bug }

func (s *brokenStore) ctxErr(ctx context.Context) error {
	if _, err := scim.Tenant(ctx); err != nil && !s.is("defaultsTenant") {
		return err
	}
	if s.is("ignoresContext") {
		return nil
	}
	return ctx.Err()
}

func (s *brokenStore) tenant(ctx context.Context) string {
	t, _ := scim.Tenant(ctx) // "" without a tenant: the bug tenantWithoutCase keeps; ctxErr refuses it otherwise
	if s.is("tenantWithoutCase") {
		return strings.ToLower(t)
	}
	return t
}

func (s *brokenStore) fold(name string) string {
	switch {
	case s.is("caseSensitiveUserName"):
		return name
	case s.is("asciiOnlyFold"):
		return strings.Map(func(r rune) rune {
			if 'A' <= r && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		}, name)
	case s.is("lowerOnlyFold"): // the key before Unicode identity: ß, ς, fullwidth, NFD and spaces kept apart
		return strings.ToLower(name)
	case s.is("accentBlindFold"): // an accent-insensitive collation: more than filter.Fold identifies
		return strings.NewReplacer("é", "e", "ı", "i").Replace(filter.Fold(name))
	}
	return filter.Fold(name)
}

func (s *brokenStore) version() string {
	if s.is("constantVersion") {
		return "v"
	}
	s.seq++
	return strconv.Itoa(s.seq)
}

// store applies the storage bugs to a user being written.
func (s *brokenStore) store(u *scim.User) *scim.User {
	switch {
	case s.is("activeFalseUnassigned") && u.Active != nil && !*u.Active:
		u.Active = nil
	case s.is("timesInOtherZone"):
		u.Meta.Created = u.Meta.Created.In(time.FixedZone("CET", 3600))
	case s.is("timesToSeconds"):
		u.Meta.LastModified = u.Meta.LastModified.Truncate(time.Second)
	case s.is("emptyNameAssigned") && u.Name == nil:
		u.Name = &scim.Name{}
	}
	return u
}

func (s *brokenStore) find(tenant, id string) int {
	return slices.IndexFunc(s.users, func(e brokenEntry) bool {
		return (tenant == e.tenant || s.is("getAnyTenant")) && e.user.ID == id
	})
}

func (s *brokenStore) taken(tenant, userName, except string) bool {
	return slices.ContainsFunc(s.users, func(e brokenEntry) bool {
		return e.tenant == tenant && e.user.ID != except && s.fold(e.user.UserName) == s.fold(userName)
	})
}

func (s *brokenStore) Create(ctx context.Context, u *scim.User) (*scim.User, error) {
	s.writing.Add(1)
	defer s.writing.Add(-1)
	if err := s.ctxErr(ctx); err != nil {
		return nil, err
	}
	tenant := s.tenant(ctx)
	s.mu.Lock()
	if s.taken(tenant, u.UserName, "") {
		s.mu.Unlock()
		return nil, scim.ErrConflict
	}
	if s.is("checkThenCreate") {
		s.mu.Unlock()
		s.meet()
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	u = s.store(u)
	u.Meta.Version = s.version()
	s.seq++
	given := u.ID
	if s.hostIDs() {
		s.assign(u)
	}
	switch {
	case s.is("getByGivenID"): // keeps the handler's id, returns its own
		kept := *u
		kept.ID = given
		s.users = append(s.users, brokenEntry{tenant, &kept, s.seq, given})
		return u, nil
	case s.is("noID"):
		s.users = append(s.users, brokenEntry{tenant, u, s.seq, given})
		out := *u
		out.ID = ""
		return &out, nil
	}
	s.users = append(s.users, brokenEntry{tenant, u, s.seq, given})
	return u, nil
}

func (s *brokenStore) Get(ctx context.Context, id string) (*scim.User, error) {
	if err := s.ctxErr(ctx); err != nil {
		return nil, err
	}
	if err := s.checkID(id); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.find(s.tenant(ctx), id); i >= 0 {
		return s.users[i].user, nil
	}
	return nil, scim.ErrNotFound
}

func (s *brokenStore) Replace(ctx context.Context, u *scim.User, version string) (*scim.User, error) {
	s.writing.Add(1)
	defer s.writing.Add(-1)
	if err := s.ctxErr(ctx); err != nil {
		return nil, err
	}
	if err := s.checkID(u.ID); err != nil {
		return nil, err
	}
	tenant := s.tenant(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(tenant, u.ID)
	switch {
	case i < 0:
		return nil, scim.ErrNotFound
	case version != "" && version != s.users[i].user.Meta.Version && !s.is("ignoresVersion"):
		return nil, scim.ErrVersionMismatch
	case s.taken(tenant, u.UserName, u.ID) && !s.is("replaceSkipsUniqueness"):
		return nil, scim.ErrConflict
	}
	if s.is("checkThenReplace") {
		s.mu.Unlock()
		s.meet()
		s.mu.Lock()
		if i = s.find(tenant, u.ID); i < 0 {
			return nil, scim.ErrNotFound
		}
	}
	u = s.store(u)
	u.Meta.Version = s.version()
	switch {
	case s.is("mutatesReturnedUsers"):
		*s.users[i].user = *u
		return s.users[i].user, nil
	case s.is("replaceMovesUser"):
		e := s.users[i]
		e.user = u
		s.users = append(slices.Delete(s.users, i, i+1), e)
	default:
		s.users[i].user = u
	}
	return u, nil
}

func (s *brokenStore) Delete(ctx context.Context, id, version string) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	if err := s.checkID(id); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(s.tenant(ctx), id)
	switch {
	case i < 0:
		return scim.ErrNotFound
	case version != "" && version != s.users[i].user.Meta.Version && !s.is("ignoresVersion"):
		return scim.ErrVersionMismatch
	}
	s.users = slices.Delete(s.users, i, i+1)
	return nil
}

func (s *brokenStore) snapshot(ctx context.Context) ([]*scim.User, []int) {
	tenant := s.tenant(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	var users []*scim.User
	var seqs []int
	for _, e := range s.users {
		if e.tenant == tenant || s.is("listAnyTenant") {
			u := e.user
			if s.is("listGivenIDs") { // builds users from a copy that still has the handler's id
				c := *u
				c.ID = e.given
				u = &c
			}
			users, seqs = append(users, u), append(seqs, e.seq)
		}
	}
	return users, seqs
}

func (s *brokenStore) List(ctx context.Context, q scim.Query) (*scim.Page, error) {
	if err := s.ctxErr(ctx); err != nil {
		return nil, err
	}
	users, _ := s.snapshot(ctx)
	if q.Filter != nil && s.is("filteredInOtherOrder") {
		slices.Reverse(users)
	}
	if s.is("startIndexZeroSkipsOne") && q.StartIndex == 0 {
		q.StartIndex = 2
	}
	// The filter as a careless SQL translation would evaluate it.
	if q.Filter != nil {
		f := q.Filter
		users = slices.DeleteFunc(users, func(u *scim.User) bool { return !s.match(f, docOf(u)) })
		q.Filter = nil
	}
	var page *scim.Page
	switch {
	case q.SortBy.Attr != nil && s.is("descendingTiesReversed") && q.Descending:
		asc := scim.ApplyQuery(users, scim.Query{SortBy: q.SortBy, StartIndex: 1, Count: len(users)})
		slices.Reverse(asc.Users)
		page = scim.ApplyQuery(asc.Users, scim.Query{StartIndex: q.StartIndex, Count: q.Count})
	case q.SortBy.Attr != nil && s.is("punctuationBlindCollation"):
		sorted := slices.Clone(users)
		key := func(u *scim.User) any {
			k := sortkey.Of(docOf(u), q.SortBy)
			if str, ok := k.(string); ok {
				return strings.Map(func(r rune) rune {
					if r < 'a' || r > 'z' {
						return -1
					}
					return r
				}, str)
			}
			return k
		}
		slices.SortStableFunc(sorted, func(a, b *scim.User) int { return sortkey.Compare(key(a), key(b), q.Descending) })
		page = scim.ApplyQuery(sorted, scim.Query{StartIndex: q.StartIndex, Count: q.Count})
	default:
		page = scim.ApplyQuery(users, q)
	}
	if s.is("totalOfThePage") {
		page.TotalResults = len(page.Users)
	}
	if s.is("listPartialUsers") {
		for i, u := range page.Users {
			page.Users[i] = &scim.User{ID: u.ID, UserName: u.UserName, ExternalID: u.ExternalID, DisplayName: u.DisplayName,
				Name: u.Name, Active: u.Active, Emails: u.Emails, Enterprise: u.Enterprise, Meta: u.Meta}
		}
	}
	return page, nil
}

// match is filter.Match with the mistakes of a careless SQL translation.
func (s *brokenStore) match(e filter.Expr, doc map[string]any) bool {
	switch e := e.(type) {
	case *filter.Logical:
		if e.Op == filter.And {
			return s.match(e.Left, doc) && s.match(e.Right, doc)
		}
		return s.match(e.Left, doc) || s.match(e.Right, doc)
	case *filter.Not:
		return !s.match(e.X, doc)
	case *filter.ValuePath:
		if l, ok := e.Filter.(*filter.Logical); ok && l.Op == filter.And && s.is("valueFilterAcrossElements") {
			return s.match(&filter.ValuePath{Path: e.Path, Filter: l.Left}, doc) && s.match(&filter.ValuePath{Path: e.Path, Filter: l.Right}, doc)
		}
	case *filter.Compare:
		values := filter.Values(doc, e.Path)
		lit, isString := e.Value.(string)
		switch {
		case s.is("neSkipsUnassigned") && e.Op == filter.Ne && e.Value != nil && len(values) == 0: // NULL <> 'x'
			return false
		case s.is("likeWildcards") && isString && (e.Op == filter.Co || e.Op == filter.Sw || e.Op == filter.Ew):
			fold := filter.Fold
			if e.Path.Target().CaseExact {
				fold = func(s string) string { return s }
			}
			pattern := regexp.QuoteMeta(fold(lit))
			pattern = strings.NewReplacer("_", ".", "%", ".*").Replace(pattern)
			switch e.Op {
			case filter.Co:
				pattern = ".*" + pattern + ".*"
			case filter.Sw:
				pattern += ".*"
			case filter.Ew:
				pattern = ".*" + pattern
			}
			re := regexp.MustCompile("^(?s)" + pattern + "$")
			for _, v := range values {
				if str, ok := v.(string); ok && re.MatchString(fold(str)) {
					return true
				}
			}
			return false
		case s.is("datesAsStrings") && isString && e.Path.Target().Type == schema.DateTime && e.Op != filter.Pr:
			for _, v := range values {
				c := strings.Compare(v.(string), lit)
				switch e.Op {
				case filter.Eq, filter.Ne:
					if c == 0 {
						return e.Op == filter.Eq
					}
				case filter.Gt, filter.Ge, filter.Lt, filter.Le:
					if c > 0 && (e.Op == filter.Gt || e.Op == filter.Ge) || c < 0 && (e.Op == filter.Lt || e.Op == filter.Le) || c == 0 && (e.Op == filter.Ge || e.Op == filter.Le) {
						return true
					}
				default:
					return filter.Match(e, doc)
				}
			}
			return e.Op == filter.Ne
		}
	}
	return filter.Match(e, doc)
}

func (s *brokenStore) ListCursor(ctx context.Context, q scim.Query, cursor string) (*scim.Page, error) {
	if err := s.ctxErr(ctx); err != nil {
		return nil, err
	}
	after, err := strconv.Atoi(cursor)
	switch {
	case cursor == "":
		after = 0
	case err != nil && s.is("cursorAcceptsAnything"):
		after = 0
	case err != nil:
		return nil, scim.ErrInvalidCursor
	}
	users, seqs := s.snapshot(ctx)
	page := &scim.Page{}
	last := 0
	for i, u := range users {
		if !q.Matches(u) {
			continue
		}
		page.TotalResults++
		pos := seqs[i]
		if s.is("cursorIsAnIndex") {
			pos = page.TotalResults // the position among the matches, which shifts when users are deleted
		}
		switch {
		case pos <= after:
		case len(page.Users) < q.Count:
			page.Users = append(page.Users, u)
			last = pos
		case page.NextCursor == "":
			page.NextCursor = strconv.Itoa(last) // a match follows the page
		}
	}
	return page, nil
}

// docOf returns the canonical JSON form of u as generic values, as filter.Match takes it.
func docOf(u *scim.User) map[string]any {
	b, _ := json.Marshal(u)
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	_ = d.Decode(&m)
	return m
}
