package scimtest

import (
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/scimkit/scim"
)

// HandlerOptions says how TestHandler builds the handlers it checks.
type HandlerOptions struct {
	// Options are given to every handler the suite builds, after the suite's own (an authenticator of its
	// bearer tokens, one per tenant, and scim.WithPasswords(scim.PasswordsHashed)) and before those a
	// requirement adds for itself (a smaller maximum, a body limit).
	Options []scim.Option
	// Parallel runs the requirements in parallel (t.Parallel). Every Store newStore returns is independent of
	// the others already, so this only needs the machine to bear the load (a database server's connections).
	Parallel bool
	// Tenants are two different tenants as the host's authenticator names them (an account's integer key
	// as a decimal string, say), for a Store that cannot serve the suite's own: the suite's default bearer
	// token then acts for the first, and its two tenant-isolation tokens for the first and the second. Zero
	// means the tenants "" (the default token), "tenant-a" and "tenant-b".
	Tenants [2]string
}

// TestHandler checks, black-box through HTTP (net/http/httptest), that a scim.Handler over the Stores made
// by newStore answers as RFC 7643, RFC 7644, RFC 9865 (cursors) and RFC 6750 (bearer tokens) require, and
// as this library promises beyond them (tenant isolation, concurrency): the way testing/slogtest.Run checks
// a slog.Handler. Each requirement of HandlerRequirements is a subtest named after its section, level and
// short name (RFC7644_3_4_2_2_MUST_InvalidFilter400), so that
//
//	go test -run 'TestConformance/RFC7644_3_4_2_2_'
//
// runs one section. newStore must return a fresh, empty Store that shares nothing with the others it
// returned (a new database, file or schema): a requirement may call it twice to compare two Stores, and the
// tenants "", "tenant-a" and "tenant-b" are used (or the host's, HandlerOptions.Tenants). The handler
// serves the full core and enterprise User schema, and /Groups when the Store is a scim.GroupStore.
//
// opts (at most one) adds handler options and runs the requirements in parallel.
func TestHandler(t *testing.T, newStore func(t *testing.T) scim.Store, opts ...HandlerOptions) {
	t.Helper()
	if len(opts) > 1 {
		t.Fatalf("scimtest: TestHandler takes at most one HandlerOptions, got %d", len(opts))
	}
	run := &handlerRun{newStore: newStore}
	if len(opts) == 1 {
		run.opts = opts[0]
	}
	if ts := run.opts.Tenants; ts != [2]string{} && ts[0] == ts[1] {
		t.Fatalf("scimtest: HandlerOptions.Tenants are %q twice; want two different tenants", ts[0])
	}
	for _, r := range handlerRequirements() {
		t.Run(r.name(), func(t *testing.T) {
			if run.opts.Parallel {
				t.Parallel()
			}
			store := newStore(t)
			if store == nil {
				t.Fatal("newStore returned a nil Store")
			}
			r.test(t, run.newServer(t, store))
		})
	}
}

// Requirement is one requirement TestHandler checks, as data for documentation (docs/conformance.md is
// generated from them).
type Requirement struct {
	// Section is the RFC and section: "RFC7644 §3.4.2.2".
	Section string
	// Level is the RFC 2119 keyword of the sentence checked: MUST (also SHALL, REQUIRED, and behaviour the
	// RFC defines without a keyword), SHOULD or MAY; LIB for a guarantee of this library beyond the RFC.
	Level string
	// Name is the subtest of TestHandler that checks it: the section, the level and a short name,
	// RFC7644_3_4_2_2_MUST_InvalidFilter400.
	Name string
	// Text is the requirement in a few words (markdown).
	Text string
	// File is the file of this package whose function checks it (http_query.go), for links.
	File string
}

// HandlerRequirements returns the requirements TestHandler checks, in the order it checks them.
func HandlerRequirements() []Requirement {
	var out []Requirement
	for _, r := range handlerRequirements() {
		file, _ := runtime.FuncForPC(reflect.ValueOf(r.test).Pointer()).FileLine(reflect.ValueOf(r.test).Pointer())
		out = append(out, Requirement{Section: r.id, Level: r.level, Name: r.name(), Text: r.req, File: filepath.Base(file)})
	}
	return out
}

// requirement is one requirement and the function that checks it.
type requirement struct {
	id    string // "RFC7644 §3.4.2.2"
	level string // MUST, SHOULD, MAY or LIB (Requirement.Level)
	short string // the end of the subtest name: InvalidFilter400
	req   string // the requirement in a few words, for the table
	test  func(t *testing.T, s *server)
}

// name is the subtest name: the section, the level and the short name.
func (r requirement) name() string {
	id := strings.NewReplacer(" §", "_", ".", "_", " ", "_").Replace(r.id)
	return id + "_" + r.level + "_" + r.short
}

// handlerRequirements lists every requirement, in the order of the table: protocol (http_protocol.go),
// resources, queries, groups (http_groups.go), PATCH, tenant isolation and concurrency.
func handlerRequirements() []requirement {
	return slicesConcat(protocolReqs, resourceReqs, queryReqs, groupReqs, patchReqs, tenantReqs, concurrencyReqs)
}

func slicesConcat(lists ...[]requirement) []requirement {
	var out []requirement
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
