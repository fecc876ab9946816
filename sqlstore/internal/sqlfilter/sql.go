// Package sqlfilter compiles SCIM filters and sorts (package filter's AST) to SQL for the dialects sqlstore
// serves: WHERE and ORDER BY fragments that agree with filter.Match and the handler's sort on every stored
// document. It moved here from package filter so that the root module carries no SQL.
package sqlfilter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/shared/stored"
)

// Dialect is the SQL dialect that Mapping.Compile and Mapping.OrderBy write.
type Dialect int

// The dialects: PostgreSQL (numbered placeholders, jsonb) and SQLite (? placeholders, JSON text, 3.38 or later).
const (
	Postgres Dialect = iota + 1
	SQLite
)

// ErrUnsupported is wrapped by the errors of Compile and OrderBy when the mapping cannot express a filter or a
// sort in SQL. A store then evaluates the filter in Go (filter.Match) or sorts in Go rather than failing the request.
var ErrUnsupported = errors.New("not expressible in SQL with this mapping")

// TimeLayout is the text form of a dateTime column (stored.TimeLayout).
const TimeLayout = stored.TimeLayout

// Mapping tells the compiler where each attribute of a resource lives in a table.
//
// Compile and OrderBy write the names it holds (columns, document columns) into SQL verbatim: they come from
// the store, never from a request. Values always travel as bind arguments.
type Mapping struct {
	Dialect Dialect
	// Columns maps canonical attribute paths (schema.Path.String(): "userName", "meta.created",
	// "name.familyName", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber") of
	// single-valued attributes to a column holding the value in comparable form: folded with filter.Fold for strings
	// of caseExact false attributes, TimeLayout text for dateTime, boolean for booleans; NULL when unassigned.
	// Entries for multi-valued attributes are ignored.
	Columns map[string]string
	// JSON and FoldedJSON name the columns holding the canonical document and its stored.FoldDocument copy
	// (PostgreSQL: jsonb; SQLite: JSON text). Attributes not in Columns are read from them: FoldedJSON for
	// strings of caseExact false attributes, JSON for caseExact ones, either for the rest. Empty: the filters
	// that need it are unsupported. Inside the subqueries over multi-valued attributes these names stand next
	// to the columns of json_each (SQLite: key, value, type, atom, id, parent, fullkey, path, json, root) or of
	// the index series (PostgreSQL: i): a name that collides must be qualified with its table.
	JSON, FoldedJSON string
	// Links maps canonical paths of multi-valued complex attributes whose values live in a link table rather
	// than in the document ("members" of a Group, "groups" of a User) to that table. Filters on their value
	// sub-attribute become subqueries on it: "members eq x", "members.value eq x",
	// "members[value eq x]", their negations, "pr" and "eq null". Other sub-attributes and operators wrap
	// ErrUnsupported.
	Links map[string]Link
	// Scope is the value every Link's Scope column is compared with: the tenant a query is for. It travels as a
	// bind argument inside each link subquery, so that the subquery depends on nothing of the filtered row
	// but its key (see Link).
	Scope any
}

// Link locates the values of a multi-valued attribute in a link table, one row per value. The compiler writes
// "some row of the table holds the value" in the form each planner turns into an index-driven join: EXISTS
// (PostgreSQL makes it a semi-join, or an anti-join under NOT) and, for SQLite, Key IN (subquery), which
// drives lookups of the row's key.
//
// The subquery is restricted to the link rows of Mapping.Scope, bound as an argument, never by a condition
// on the filtered row's columns: SQLite rebuilds an IN list that names the outer row (a CORRELATED LIST
// SUBQUERY) for every row it scans, which made `not (groups pr)` cost users × memberships.
type Link struct {
	// Table is the link table, and Scope its column that must equal Mapping.Scope ("scim_members.tenant"),
	// or "" when the table has no such column.
	Table, Scope string
	// Key is the filtered row's key column and Ref the link table's column holding it ("scim_users.id",
	// "scim_members.user_id"); both NOT NULL, so that NOT IN is two-valued.
	Key, Ref string
	// Value is the column holding the value sub-attribute, compared exactly: it holds ids.
	Value string
}

// linkRows returns the condition that some row of the link table, further restricted by cond (a function
// binding its own arguments, when not nil), belongs to the filtered row. Arguments are bound in the order
// they appear in the text.
func (c *compiler) linkRows(l Link, cond func() string) (string, error) {
	var where []string
	if l.Scope != "" {
		if c.m.Scope == nil {
			return "", fmt.Errorf("filter: link table %s: no Scope value to restrict it to", l.Table)
		}
		where = append(where, l.Scope+" = "+c.bind(c.m.Scope))
	}
	if cond != nil {
		where = append(where, cond())
	}
	if c.pg {
		where = append(where, l.Ref+" = "+l.Key)
		return "EXISTS (SELECT 1 FROM " + l.Table + " WHERE " + strings.Join(where, " AND ") + ")", nil
	}
	sub := "SELECT " + l.Ref + " FROM " + l.Table
	if len(where) > 0 {
		sub += " WHERE " + strings.Join(where, " AND ")
	}
	return l.Key + " IN (" + sub + ")", nil
}

// Compile returns a WHERE-clause fragment equivalent to filter.Match(e, doc) for every stored canonical document, and
// its bind arguments. The fragment is a two-valued boolean expression (never NULL), so it may be negated or
// combined freely. PostgreSQL placeholders are numbered from firstArg ($firstArg, $firstArg+1, ...); SQLite
// uses ? placeholders, in the order of the arguments. A nil e matches every resource.
//
// The semantics are filter.Match's: a multi-valued attribute matches when any of its values does; "ne" is the negation
// of "eq", so a resource without the attribute matches "title ne x"; "eq null" means unassigned; strings of
// caseExact false attributes compare folded, and every string comparison is byte-wise; dateTime values compare
// in time order. Errors that wrap ErrUnsupported mean the mapping cannot express e: evaluate it with filter.Match.
//
// A canonical document is one whose values have their attribute's JSON type, as json.Marshal of scim.User
// writes them. Columns serve comparisons with an index where the column has one ("user_name_fold = $2");
// on PostgreSQL, "eq" on an attribute without a column is jsonb containment (search @> $2), which a GIN index
// on the document column serves.
func (m Mapping) Compile(e filter.Expr, firstArg int) (string, []any, error) {
	return m.compile(e, firstArg, nil)
}

// CompileAfter is Compile for a statement whose arguments before the fragment's are args: the fragment's
// placeholders are numbered after them and its arguments appended to args (one slice for the statement).
func (m Mapping) CompileAfter(e filter.Expr, args []any) (string, []any, error) {
	return m.compile(e, len(args)+1, args)
}

func (m Mapping) compile(e filter.Expr, firstArg int, args []any) (string, []any, error) {
	c, err := m.compiler(firstArg)
	if err != nil {
		return "", nil, err
	}
	if e == nil {
		return "TRUE", args, nil
	}
	c.args = args
	s, err := c.expr(e, nil)
	if err != nil {
		return "", nil, err
	}
	return s, c.args, nil
}

// OrderBy returns an ORDER BY fragment, without the keyword, that sorts by the attribute at p as
// sortkey.Of and sortkey.Compare do: strings byte-wise (folded for caseExact false attributes), dateTime
// values in time order, false before true, unassigned values last when ascending and first when descending. The
// caller appends its tiebreaker. Multi-valued attributes (sorted by their primary value) wrap ErrUnsupported, as
// do dateTime attributes without a column: sort those in Go.
func (m Mapping) OrderBy(p schema.Path, descending bool) (string, error) {
	c, err := m.compiler(1)
	if err != nil {
		return "", err
	}
	if p.Attr == nil || p.Attr.MultiValued {
		return "", unsupported("sorting by %s", p)
	}
	target, sp := p.Attr, schema.Path{Schema: p.Schema, Attr: p.Attr}
	if p.Attr.Type == schema.Complex {
		if target = p.Sub; target == nil {
			target = p.Attr.Sub("value")
		}
		if target == nil || target.Type == schema.Complex {
			return "", unsupported("sorting by %s", p)
		}
		sp.Sub = target
	}
	col, hasCol := m.Columns[sp.String()]
	var x string
	switch {
	case target.Type == schema.DateTime:
		if !hasCol {
			return "", unsupported("sorting by %s without a column", sp)
		}
		x = c.collateC(col)
	case target.Type == schema.Boolean || target.Type == schema.Integer || target.Type == schema.Decimal:
		if hasCol {
			x = col
			break
		}
		doc, err := c.doc(either)
		if err != nil {
			return "", err
		}
		r := ref{keys: rootKeys(sp)}
		if c.pg {
			x, err = c.pgJSON(doc, r)
		} else {
			x, err = c.sqliteValue(doc, r)
		}
		if err != nil {
			return "", err
		}
	default:
		if hasCol {
			x = c.collateC(col)
			break
		}
		doc, err := c.doc(kindOf(target))
		if err != nil {
			return "", err
		}
		if x, err = c.text(doc, ref{keys: rootKeys(sp)}); err != nil {
			return "", err
		}
		x = c.collateC(x)
	}
	if descending {
		return x + " DESC NULLS FIRST", nil
	}
	return x + " ASC NULLS LAST", nil
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
}

// docKind says which document a comparison reads: the folded copy, the canonical one, or either.
type docKind int

const (
	either docKind = iota
	foldedDoc
	rawDoc
)

func kindOf(a *schema.Attribute) docKind {
	switch {
	case a.Type == schema.Boolean || a.Type == schema.Integer || a.Type == schema.Decimal ||
		a.Type == schema.DateTime || a.Type == schema.Complex:
		return either
	case a.CaseExact:
		return rawDoc
	}
	return foldedDoc
}

type compiler struct {
	m     Mapping
	pg    bool
	args  []any
	next  int // the next PostgreSQL placeholder
	elems int // element aliases handed out
}

func (m Mapping) compiler(firstArg int) (*compiler, error) {
	if m.Dialect != Postgres && m.Dialect != SQLite {
		return nil, fmt.Errorf("filter: unknown SQL dialect %d", m.Dialect)
	}
	// The subqueries over multi-valued attributes name the documents next to their FROM item's columns.
	shadowed := []string{"key", "value", "type", "atom", "id", "parent", "fullkey", "path", "json", "root"}
	if m.Dialect == Postgres {
		shadowed = []string{"i"}
	}
	for _, d := range []string{m.JSON, m.FoldedJSON} {
		for _, s := range shadowed {
			if strings.EqualFold(d, s) {
				return nil, fmt.Errorf("filter: document column %q: qualify it with its table", d)
			}
		}
	}
	return &compiler{m: m, pg: m.Dialect == Postgres, next: firstArg}, nil
}

// bind adds a bind argument and returns its placeholder. Placeholders must be requested in the order they
// appear in the text: SQLite's ? are positional.
func (c *compiler) bind(v any) string {
	c.args = append(c.args, v)
	if !c.pg {
		return "?"
	}
	s := Placeholder(c.next)
	c.next++
	return s
}

func (c *compiler) doc(k docKind) (string, error) {
	switch {
	case k == foldedDoc && c.m.FoldedJSON != "":
		return c.m.FoldedJSON, nil
	case k == rawDoc && c.m.JSON != "":
		return c.m.JSON, nil
	case k == either && c.m.JSON != "":
		return c.m.JSON, nil
	case k == either && c.m.FoldedJSON != "":
		return c.m.FoldedJSON, nil
	case k == foldedDoc:
		return "", unsupported("no FoldedJSON column for a case-insensitive attribute")
	}
	return "", unsupported("no JSON column")
}

func (c *compiler) collateC(x string) string {
	if c.pg {
		return x + ` COLLATE "C"`
	}
	return x
}

func (c *compiler) expr(e filter.Expr, el *elem) (string, error) {
	switch e := e.(type) {
	case *filter.Logical:
		if e.Op == filter.Or && el == nil {
			if merged, ok := c.mergeOr(e); ok {
				return c.expr(merged, el)
			}
		}
		l, err := c.expr(e.Left, el)
		if err != nil {
			return "", err
		}
		r, err := c.expr(e.Right, el)
		if err != nil {
			return "", err
		}
		op := " OR "
		if e.Op == filter.And {
			op = " AND "
		}
		return "(" + l + op + r + ")", nil
	case *filter.Not:
		x, err := c.expr(e.X, el)
		if err != nil {
			return "", err
		}
		return "NOT (" + x + ")", nil
	case *filter.ValuePath:
		if el != nil {
			return "", unsupported("nested value filter")
		}
		return c.valuePath(e)
	case *filter.Compare:
		if e.Path.Attr == nil || (el == nil) != (e.Path.Schema != nil) {
			return "", unsupported("attribute path %s", e.Path)
		}
		return c.compare(e, el)
	}
	return "", unsupported("expression %T", e)
}

// mergeOr rewrites a run of "or" whose comparisons on one multi-valued attribute could share one pass over
// its values (emails co "a" or emails co "b" becomes emails[value co "a" or value co "b"]): one subquery
// over the array instead of one per comparison, so a long list of alternatives costs little more than one.
// It reports false when there is nothing to merge.
func (c *compiler) mergeOr(e *filter.Logical) (filter.Expr, bool) {
	var terms []filter.Expr
	var flatten func(x filter.Expr)
	flatten = func(x filter.Expr) {
		if l, ok := x.(*filter.Logical); ok && l.Op == filter.Or {
			flatten(l.Left)
			flatten(l.Right)
			return
		}
		terms = append(terms, x)
	}
	flatten(e)
	type key struct {
		s *schema.Schema
		a *schema.Attribute
	}
	groups := map[key][]int{}
	merged := false
	for i, t := range terms {
		if x, ok := t.(*filter.Compare); ok && c.mergeable(x) {
			k := key{x.Path.Schema, x.Path.Attr}
			groups[k] = append(groups[k], i)
			merged = merged || len(groups[k]) > 1
		}
	}
	if !merged {
		return nil, false
	}
	var out filter.Expr
	or := func(x filter.Expr) {
		if out == nil {
			out = x
		} else {
			out = &filter.Logical{Op: filter.Or, Left: out, Right: x}
		}
	}
	for i, t := range terms {
		x, ok := t.(*filter.Compare)
		if !ok || !c.mergeable(x) {
			or(t)
			continue
		}
		idx := groups[key{x.Path.Schema, x.Path.Attr}]
		if len(idx) == 1 {
			or(t)
			continue
		}
		if idx[0] != i { // the group is written at its first member
			continue
		}
		var f filter.Expr
		for _, j := range idx {
			y := terms[j].(*filter.Compare)
			var inner filter.Expr = &filter.Compare{Path: schema.Path{Attr: y.Path.Sub}, Op: y.Op, Value: y.Value}
			if f == nil {
				f = inner
			} else {
				f = &filter.Logical{Op: filter.Or, Left: f, Right: inner}
			}
		}
		or(&filter.ValuePath{Path: schema.Path{Schema: x.Path.Schema, Attr: x.Path.Attr}, Filter: f})
	}
	return out, true
}

// mergeable reports whether mergeOr may fold x into a value filter: a string comparison on a sub-attribute
// of a multi-valued complex attribute, other than PostgreSQL's "eq" (jsonb containment, which a GIN index
// serves) and "ne"/"pr"/null (not an "any element" test).
func (c *compiler) mergeable(x *filter.Compare) bool {
	p := x.Path
	if p.Attr == nil || !p.Attr.MultiValued || p.Attr.Type != schema.Complex || p.Sub == nil {
		return false
	}
	switch p.Sub.Type {
	case schema.String, schema.Reference, schema.Binary:
	default:
		return false
	}
	if _, ok := x.Value.(string); !ok {
		return false
	}
	switch x.Op {
	case filter.Co, filter.Sw, filter.Ew, filter.Gt, filter.Ge, filter.Lt, filter.Le:
		return true
	case filter.Eq:
		return !c.pg
	}
	return false
}

// ref locates one value: a column, or JSON keys below the document's root or below an array element.
type ref struct {
	col  string
	keys []string
	el   *elem
}

// elem is the element of a multi-valued attribute that a subquery iterates: alias.fullkey (SQLite) or alias.i
// (PostgreSQL, the index) identifies it in either document.
type elem struct {
	alias string
	arr   []string // keys of the array from the document's root
}

// rootKeys returns the JSON keys of p from the document's root.
func rootKeys(p schema.Path) []string {
	var keys []string
	if p.Extension() {
		keys = append(keys, p.Schema.ID)
	}
	keys = append(keys, p.Attr.Name)
	if p.Sub != nil {
		keys = append(keys, p.Sub.Name)
	}
	return keys
}

// sqlitePath returns an SQL expression of the JSON path of r.
func sqlitePath(r ref) (string, error) {
	var b strings.Builder
	for _, k := range r.keys {
		if strings.ContainsAny(k, "\"\x00") {
			return "", unsupported("JSON key %q", k)
		}
		b.WriteString(`."` + strings.ReplaceAll(k, "'", "''") + `"`)
	}
	if r.el != nil {
		if b.Len() == 0 {
			return r.el.alias + ".fullkey", nil
		}
		return r.el.alias + ".fullkey || '" + b.String() + "'", nil
	}
	return "'$" + b.String() + "'", nil
}

func (c *compiler) sqliteValue(doc string, r ref) (string, error) {
	p, err := sqlitePath(r)
	return "json_extract(" + doc + ", " + p + ")", err
}

func pgKey(k string) (string, error) {
	if strings.Contains(k, "\x00") {
		return "", unsupported("JSON key %q", k)
	}
	return "'" + strings.ReplaceAll(k, "'", "''") + "'", nil
}

// pgPath returns the jsonb at r in doc; with text set, its text (->> for the last step).
func (c *compiler) pgPath(doc string, r ref, text bool) (string, error) {
	var steps []string
	if r.el != nil {
		for _, k := range r.el.arr {
			q, err := pgKey(k)
			if err != nil {
				return "", err
			}
			steps = append(steps, q)
		}
		steps = append(steps, r.el.alias+".i")
	}
	for _, k := range r.keys {
		q, err := pgKey(k)
		if err != nil {
			return "", err
		}
		steps = append(steps, q)
	}
	var b strings.Builder
	b.WriteString(doc)
	for i, s := range steps {
		if text && i == len(steps)-1 {
			b.WriteString("->>" + s)
		} else {
			b.WriteString("->" + s)
		}
	}
	if text {
		return "(" + b.String() + ")", nil
	}
	return b.String(), nil
}

func (c *compiler) pgJSON(doc string, r ref) (string, error) { return c.pgPath(doc, r, false) }

// text returns the SQL text of the string at r (NULL when unassigned).
func (c *compiler) text(doc string, r ref) (string, error) {
	if r.col != "" {
		return r.col, nil
	}
	if c.pg {
		return c.pgPath(doc, r, true)
	}
	return c.sqliteValue(doc, r)
}

// pred is a condition on one value. It returns its SQL and whether that is two-valued already; otherwise NULL
// (from an unassigned value) means false and the caller makes it two-valued.
type pred func(r ref) (sql string, total bool, err error)

// anyValue returns a two-valued expression true when some value at p satisfies f: the value itself for a
// single-valued attribute, any element's for a multi-valued one (RFC 7644 §3.4.2.2). Inside a value filter (el
// set) p names a sub-attribute of the element. useCol allows reading a column of Columns.
func (c *compiler) anyValue(p schema.Path, el *elem, useCol bool, f pred) (string, error) {
	if el != nil {
		keys := []string{p.Attr.Name}
		if p.Sub != nil {
			keys = append(keys, p.Sub.Name)
		}
		s, total, err := f(ref{keys: keys, el: el})
		return c.total(s, total, ""), err
	}
	keys := rootKeys(schema.Path{Schema: p.Schema, Attr: p.Attr})
	if p.Attr.MultiValued {
		e, from, err := c.iterate(keys)
		if err != nil {
			return "", err
		}
		var sub []string
		if p.Sub != nil {
			sub = []string{p.Sub.Name}
		}
		s, _, err := f(ref{keys: sub, el: e})
		return "EXISTS (SELECT 1 FROM " + from + " WHERE " + s + ")", err
	}
	if col, ok := c.m.Columns[p.String()]; ok && useCol {
		s, total, err := f(ref{col: col})
		return c.total(s, total, col), err
	}
	s, total, err := f(ref{keys: rootKeys(p)})
	return c.total(s, total, ""), err
}

// total makes s two-valued: NULL comes from an unassigned value and means false.
func (c *compiler) total(s string, total bool, col string) string {
	switch {
	case total:
		return s
	case col != "": // keeps "col = $1" visible to the planner: an index lookup
		return "(" + s + " AND " + col + " IS NOT NULL)"
	}
	return "COALESCE(" + s + ", FALSE)"
}

// iterate returns a new element alias over the array at keys, and the FROM item that iterates it.
func (c *compiler) iterate(keys []string) (*elem, string, error) {
	doc, err := c.doc(either)
	if err != nil {
		return nil, "", err
	}
	c.elems++
	e := &elem{alias: "scim_e" + strconv.Itoa(c.elems), arr: keys}
	if c.pg {
		arr, err := c.pgJSON(doc, ref{keys: keys})
		if err != nil {
			return nil, "", err
		}
		return e, "generate_series(0, CASE jsonb_typeof(" + arr + ") WHEN 'array' THEN jsonb_array_length(" + arr +
			") ELSE 0 END - 1) AS " + e.alias + "(i)", nil
	}
	p, err := sqlitePath(ref{keys: keys})
	return e, "json_each(" + doc + ", " + p + ") AS " + e.alias, err
}

// present is filter.Match's present: a value that is not null, "", [] or {}.
func (c *compiler) present(a *schema.Attribute) pred {
	return func(r ref) (string, bool, error) {
		if r.col != "" {
			if kindOf(a) == either {
				return r.col + " IS NOT NULL", true, nil
			}
			return r.col + " <> ''", false, nil
		}
		// A case-insensitive string's folded copy may be "" where the value is not (filter.Fold trims "  " away), and
		// "" reads as absent: presence of such a string is judged on the raw document only.
		k := either
		if stored.Folded(a) {
			k = rawDoc
		}
		doc, err := c.doc(k)
		if err != nil {
			return "", false, err
		}
		var j string
		if c.pg {
			j, err = c.pgJSON(doc, r)
		} else {
			var p string
			p, err = sqlitePath(r)
			j = "(" + doc + " -> (" + p + "))" // -> binds as tightly as ||
		}
		return j + ` NOT IN ('null', '""', '[]', '{}')`, false, err
	}
}

// placeholders are PostgreSQL's first placeholders, written once: a statement's text is built per request.
var placeholders = func() (p [64]string) {
	for i := range p {
		p[i] = "$" + strconv.Itoa(i)
	}
	return p
}()

// Placeholder returns PostgreSQL's placeholder number n ($n).
func Placeholder(n int) string {
	if n >= 0 && n < len(placeholders) {
		return placeholders[n]
	}
	return "$" + strconv.Itoa(n)
}
