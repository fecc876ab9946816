package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// Servers in child processes (the default; -inprocess runs them in the load generator's process, as the
// benchmark first did). The bench re-executes itself with the hidden argument -serve=<kind>: the child
// listens on two loopback ports, one serving the server under test and one for the parent's control
// requests (seed the data, load the ceiling's answers, read the resource usage). The parent drives the load
// and reads, around every measured run, the child's CPU time (getrusage: user + system) and its
// runtime.MemStats.Mallocs: server CPU and allocations per request, net/http and the garbage collector
// included, without the load generator's share. With -pin (the default when taskset is there and the
// machine has 2 cores or more), every child seeds its data on every core, then runs on the last core only
// (GOMAXPROCS 1), and the load generator on the others.

// kinds are the servers a child can be: ours over a store, elimity's, the bare net/http ceiling.
var kinds = map[string][2]string{ // kind → server, store (the table's names)
	"memory":   {"ours", "memory"},
	"sqlite":   {"ours", "sqlite"},
	"postgres": {"ours", "postgres"},
	"elimity":  {"elimity", "map"},
	"ceiling":  {"ceiling", "-"},
}

// seedSpec is the data a server starts with: users 0..Users-1, or the group data of Groups (and its users).
type seedSpec struct {
	Users      int        `json:"users,omitempty"`
	Docs       int        `json:"docs,omitempty"` // declared Accounts (docs.go) ours serves beside the users
	Groups     *groupSpec `json:"groups,omitempty"`
	Capacity   int        `json:"capacity,omitempty"`     // users elimity's maps are sized for (the initial sync)
	SQLMaxIdle int        `json:"sql_max_idle,omitempty"` // -sql-max-idle
	// FairDBUsers, for the SQL stores, seeds the fairness benchmark's two tenants (A with that many users)
	// and serves them with its handler (fairdb.go) instead.
	FairDBUsers int `json:"fairdb_users,omitempty"`
	// FairDBConcurrent is that handler's Limits.Tenant.MaxConcurrent (0: the default).
	FairDBConcurrent int `json:"fairdb_concurrent,omitempty"`
}

type groupSpec struct{ Big, ListGroups, ListMembers, SyncGroups, SyncMembers int }

func specOf(sc groupScale) *groupSpec {
	return &groupSpec{sc.big, sc.listGroups, sc.listMembers, sc.syncGroups, sc.syncMembers}
}

func (g *groupSpec) scale() groupScale {
	return groupScale{big: g.Big, listGroups: g.ListGroups, listMembers: g.ListMembers, syncGroups: g.SyncGroups, syncMembers: g.SyncMembers}
}

// server is a server under test, built and seeded in whichever process serves it.
type server struct {
	h     http.Handler
	db    *sql.DB  // the SQL stores' pool
	ceil  *ceiling // the ceiling's answers, loaded after
	close func()
}

// buildServer makes and seeds the server of kind: the one place both modes build servers.
func buildServer(kind string, spec seedSpec) (*server, error) {
	var sc groupScale
	n := spec.Users
	if spec.Groups != nil {
		sc = spec.Groups.scale()
		n = sc.users()
	}
	switch kind {
	case "memory":
		var s *memstore.Store
		var err error
		if spec.Groups != nil {
			s, err = seedGroupsMemory(sc)
		} else {
			s, err = seedMemory(n)
		}
		if err != nil {
			return nil, err
		}
		var opts []scim.Option
		if spec.Docs > 0 {
			docs, err := seedDocsMemory(spec.Docs)
			if err != nil {
				return nil, err
			}
			opts = append(opts, withAccounts(docs))
		}
		return &server{h: ourHandler(s, opts...), close: func() {}}, nil
	case "ceiling":
		c := &ceiling{answers: map[string]map[string]*canned{}}
		return &server{h: c, ceil: c, close: func() {}}, nil
	case "elimity":
		users := seedElimity(n)
		if spec.Capacity > n {
			users = newElimityHandler(spec.Capacity)
		}
		if spec.Groups == nil {
			h, err := newElimityServer(users, benchToken)
			return &server{h: h, close: func() {}}, err
		}
		groups, err := seedElimityGroups(users, sc)
		if err != nil {
			return nil, err
		}
		h, err := newElimityServerWithGroups(users, groups, benchToken)
		return &server{h: h, close: func() {}}, err
	case "sqlite", "postgres":
		if spec.FairDBUsers > 0 {
			s, closeStore, err := seedFairDB(kind, spec.FairDBUsers)
			if err != nil {
				return nil, err
			}
			return &server{h: fairDBHandler(s, spec.FairDBConcurrent), db: s.DB(), close: closeStore}, nil
		}
		s, closeStore, err := openSQLStore(kind)
		if err != nil {
			return nil, err
		}
		if spec.Groups != nil {
			err = seedGroupsSQL(singleTenant(), s, sc, kind == "postgres")
		} else if n > 0 {
			err = seedSQL(singleTenant(), s, n, kind == "postgres")
		}
		var opts []scim.Option
		if err == nil && spec.Docs > 0 {
			err = seedDocsSQL(singleTenant(), s, spec.Docs, kind == "postgres")
			opts = append(opts, withAccounts(s.Resources(accountType)))
		}
		if err != nil {
			closeStore()
			return nil, fmt.Errorf("seeding %s: %w", kind, err)
		}
		if spec.SQLMaxIdle > 0 {
			s.DB().SetMaxIdleConns(spec.SQLMaxIdle)
		}
		return &server{h: ourHandler(s, opts...), db: s.DB(), close: closeStore}, nil
	}
	return nil, fmt.Errorf("no server kind %q", kind)
}

// startServers starts the servers of kinds at once (their seeding overlaps), in the order given.
func startServers(o options, kinds []string, spec seedSpec, conc int) ([]*target, error) {
	ts := make([]*target, len(kinds))
	errs := make([]error, len(kinds))
	var wg sync.WaitGroup
	for i, kind := range kinds {
		wg.Go(func() { ts[i], errs[i] = startServer(o, kind, spec, conc) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, t := range ts {
			if t != nil {
				t.close()
			}
		}
		return nil, err
	}
	return ts, nil
}

// startServer starts the server of kind seeded with spec, in a child process unless o.inProcess, and
// returns the target the load generator drives.
func startServer(o options, kind string, spec seedSpec, conc int) (*target, error) {
	names, ok := kinds[kind]
	if !ok {
		return nil, fmt.Errorf("no server kind %q", kind)
	}
	t0 := time.Now()
	where := "in process"
	defer func() {
		logf("  started %s/%s (%s) in %s", names[0], names[1], where, time.Since(t0).Round(time.Millisecond))
	}()
	if o.inProcess {
		s, err := buildServer(kind, spec)
		if err != nil {
			return nil, err
		}
		t, err := startTarget(names[0], names[1], s.h, conc)
		if err != nil {
			s.close()
			return nil, err
		}
		t.db, t.ceil, t.closers = s.db, s.ceil, append(t.closers, s.close)
		return t, nil
	}
	c, err := spawnChild(kind, o.pin)
	if err != nil {
		return nil, err
	}
	if err := c.post("/seed", spec); err != nil {
		c.stop()
		return nil, err
	}
	if err := c.pinAfterSeeding(); err != nil {
		c.stop()
		return nil, err
	}
	if err := c.calibrate(); err != nil {
		c.stop()
		return nil, err
	}
	where = fmt.Sprintf("child process %d, not pinned", c.childPID)
	if u, err := c.usage(); err == nil && c.pinned != "" {
		where = fmt.Sprintf("child process %d, pinned to cpu %s, GOMAXPROCS %d", c.childPID, c.pinned, u.GOMAXPROCS)
	}
	t := newTarget(names[0], names[1], "http://"+c.serveAddr, conc)
	t.proc = c
	return t, nil
}

// loadCanned gives the ceiling t its answers.
func (t *target) loadCanned(c *ceiling) error {
	if t.proc == nil {
		t.ceil.answers = c.answers
		return nil
	}
	var list []cannedJSON
	for m, byURI := range c.answers {
		for uri, a := range byURI {
			list = append(list, cannedJSON{m, uri, a.status, a.header, a.body})
		}
	}
	return t.proc.post("/canned", list)
}

type cannedJSON struct {
	Method, URI string
	Status      int
	Header      http.Header
	Body        []byte
}

// usage is what a child reports of itself.
type usage struct {
	CPU        time.Duration // user + system
	Mallocs    uint64
	GOMAXPROCS int
	HasDB      bool
	DB         struct {
		Open          int
		MaxIdleClosed int64
		WaitCount     int64
	}
}

// child is a server under test in its own process.
type child struct {
	kind                 string
	cmd                  *exec.Cmd
	stdin                io.WriteCloser
	ctlAddr, serveAddr   string
	ctl                  *http.Client
	overCPU              time.Duration // what one usage read costs the child, subtracted from every delta
	overMallocs          uint64
	pin                  bool
	pinned               string // the taskset core list, or ""
	stopOnce             sync.Once
	gomaxprocs, childPID int
}

// pinCPUs returns the core list of the children and of the load generator, when pinning is possible.
func pinCPUs() (server, load string, ok bool) {
	n := runtime.NumCPU()
	if n < 2 {
		return "", "", false
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return "", "", false
	}
	load = "0"
	if n > 2 {
		load = "0-" + strconv.Itoa(n-2)
	}
	return strconv.Itoa(n - 1), load, true
}

// pinAfterSeeding pins the child, seeded on every core, to the last one, and sets its GOMAXPROCS to 1.
func (c *child) pinAfterSeeding() error {
	cpu, _, ok := pinCPUs()
	if !c.pin || !ok {
		return nil
	}
	out, err := exec.Command("taskset", "-a", "-p", "-c", cpu, strconv.Itoa(c.childPID)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("taskset: %v: %s", err, out)
	}
	c.pinned = cpu
	return c.post("/gomaxprocs", 1)
}

// pinSelf pins every thread of this process (the load generator) to the cores the children leave.
func pinSelf() (string, error) {
	_, load, ok := pinCPUs()
	if !ok {
		return "", errors.New("taskset or a second core is missing")
	}
	out, err := exec.Command("taskset", "-a", "-p", "-c", load, strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("taskset: %v: %s", err, out)
	}
	return load, nil
}

func spawnChild(kind string, pin bool) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	c := &child{kind: kind, pin: pin}
	args := []string{exe, "-serve=" + kind}
	if _, _, ok := pinCPUs(); pin && ok { // every core to seed on (the pinned load generator's mask is inherited)
		args = append([]string{"taskset", "-c", "0-" + strconv.Itoa(runtime.NumCPU()-1)}, args...)
	}
	c.cmd = exec.Command(args[0], args[1:]...)
	c.cmd.Stderr = os.Stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	var ctlAddr, serveAddr string
	var procs, pid int
	if err == nil {
		_, err = fmt.Sscanf(line, "ready %s %s %d %d", &ctlAddr, &serveAddr, &procs, &pid)
	}
	if err != nil {
		c.stdin.Close()
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
		return nil, fmt.Errorf("child %s did not start: %v (%q)", kind, err, line)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	c.ctlAddr, c.serveAddr, c.gomaxprocs, c.childPID = ctlAddr, serveAddr, procs, pid
	c.ctl = &http.Client{Timeout: 30 * time.Minute} // seeding a million users into PostgreSQL takes minutes
	return c, nil
}

func (c *child) post(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	resp, err := c.ctl.Post("http://"+c.ctlAddr+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("child %s %s: %w", c.kind, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("child %s %s: %d %s", c.kind, path, resp.StatusCode, body)
	}
	return nil
}

func (c *child) usage() (usage, error) {
	var u usage
	resp, err := c.ctl.Get("http://" + c.ctlAddr + "/usage")
	if err != nil {
		return u, fmt.Errorf("child %s usage: %w", c.kind, err)
	}
	defer resp.Body.Close()
	return u, json.NewDecoder(resp.Body).Decode(&u)
}

// calibrate measures what a usage read costs the child (its CPU and allocations), the least of a few.
func (c *child) calibrate() error {
	prev, err := c.usage()
	if err != nil {
		return err
	}
	c.overCPU, c.overMallocs = time.Hour, 1<<62
	for range 5 {
		u, err := c.usage()
		if err != nil {
			return err
		}
		c.overCPU, c.overMallocs = min(c.overCPU, u.CPU-prev.CPU), min(c.overMallocs, u.Mallocs-prev.Mallocs)
		prev = u
	}
	return nil
}

// since returns the CPU and allocations of the child since before (a usage read), minus the reads' own.
func (c *child) since(before usage) (time.Duration, int64, usage, error) {
	u, err := c.usage()
	if err != nil {
		return 0, 0, u, err
	}
	return max(u.CPU-before.CPU-c.overCPU, 0), max(int64(u.Mallocs-before.Mallocs)-int64(c.overMallocs), 0), u, nil
}

// stop closes the child's stdin: it closes its store (removing its files or its PostgreSQL schema) and exits.
func (c *child) stop() {
	c.stopOnce.Do(func() {
		c.stdin.Close()
		done := make(chan struct{})
		go func() { _ = c.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			_ = c.cmd.Process.Kill()
			<-done
		}
	})
}

// serveKind returns the kind of -serve=<kind> (or -serve <kind>) in args: whether this process is a child.
func serveKind(args []string) (string, bool) {
	for i, a := range args {
		a = strings.TrimPrefix(a, "-")
		if v, ok := strings.CutPrefix(a, "-serve="); ok {
			return v, true
		}
		if v, ok := strings.CutPrefix(a, "serve="); ok {
			return v, true
		}
		if (a == "serve" || a == "-serve") && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

// serveChild is a child's life: listen, print the addresses, seed on request, serve until stdin closes.
func serveChild(kind string) int {
	ctlLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		logf("child %s: %v", kind, err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		logf("child %s: %v", kind, err)
		return 1
	}
	fmt.Printf("ready %s %s %d %d\n", ctlLn.Addr(), ln.Addr(), runtime.GOMAXPROCS(0), os.Getpid())
	var (
		mu  sync.Mutex
		srv *server
		hs  *http.Server
	)
	fail := func(w http.ResponseWriter, err error) { http.Error(w, err.Error(), http.StatusInternalServerError) }
	mux := http.NewServeMux()
	mux.HandleFunc("POST /seed", func(w http.ResponseWriter, r *http.Request) {
		var spec seedSpec
		if err := json.NewDecoder(r.Body).Decode(&spec); err != nil {
			fail(w, err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if srv != nil {
			fail(w, errors.New("seeded already"))
			return
		}
		s, err := buildServer(kind, spec)
		if err != nil {
			fail(w, err)
			return
		}
		freeMemory() // no collection of the seeding's garbage during the measurements
		srv = s
		hs = &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = hs.Serve(ln) }()
	})
	mux.HandleFunc("POST /canned", func(w http.ResponseWriter, r *http.Request) {
		var list []cannedJSON
		if err := json.NewDecoder(r.Body).Decode(&list); err != nil {
			fail(w, err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if srv == nil || srv.ceil == nil {
			fail(w, errors.New("not a seeded ceiling"))
			return
		}
		answers := map[string]map[string]*canned{}
		for _, a := range list {
			if answers[a.Method] == nil {
				answers[a.Method] = map[string]*canned{}
			}
			answers[a.Method][a.URI] = &canned{status: a.Status, header: a.Header, body: a.Body}
		}
		srv.ceil.answers = answers
		freeMemory()
	})
	mux.HandleFunc("POST /gomaxprocs", func(w http.ResponseWriter, r *http.Request) {
		var n int
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil || n < 1 {
			fail(w, fmt.Errorf("gomaxprocs: %v", err))
			return
		}
		runtime.GOMAXPROCS(n)
	})
	mux.HandleFunc("GET /usage", func(w http.ResponseWriter, r *http.Request) {
		var u usage
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		u.Mallocs, u.CPU, u.GOMAXPROCS = ms.Mallocs, selfCPU(), runtime.GOMAXPROCS(0)
		mu.Lock()
		if srv != nil && srv.db != nil {
			st := srv.db.Stats()
			u.HasDB = true
			u.DB.Open, u.DB.MaxIdleClosed, u.DB.WaitCount = st.OpenConnections, st.MaxIdleClosed, st.WaitCount
		}
		mu.Unlock()
		_ = json.NewEncoder(w).Encode(u)
	})
	ctl := &http.Server{Handler: mux}
	go func() { _ = ctl.Serve(ctlLn) }()
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it, or dies
	mu.Lock()
	defer mu.Unlock()
	_ = ctl.Close()
	if hs != nil {
		_ = hs.Close()
	}
	if srv != nil {
		srv.close()
	}
	return 0
}
