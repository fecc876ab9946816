package sqlfilter

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

func (c *compiler) compare(x *filter.Compare, el *elem) (string, error) {
	if l, ok := c.link(x.Path); ok && el == nil {
		return c.linkCompare(l, x)
	}
	switch {
	case x.Op == filter.Pr:
		return c.anyValue(x.Path, el, true, c.present(x.Path.Target()))
	case x.Value == nil: // eq null: unassigned; ne null: assigned (any other operator as eq, like filter.Match)
		s, err := c.anyValue(x.Path, el, true, c.present(x.Path.Target()))
		if x.Op == filter.Ne {
			return s, err
		}
		return "NOT (" + s + ")", err
	case x.Op == filter.Ne:
		s, err := c.anyMatch(x, filter.Eq, el)
		return "NOT (" + s + ")", err
	}
	return c.anyMatch(x, x.Op, el)
}

// anyMatch is filter.Match's anyMatch: some value at x.Path satisfies op with x.Value.
func (c *compiler) anyMatch(x *filter.Compare, op filter.Op, el *elem) (string, error) {
	a := x.Path.Target()
	substr := op == filter.Co || op == filter.Sw || op == filter.Ew
	if _, ordering := sqlOps[op]; !ordering && !substr { // an operator filter.Match knows nothing of matches nothing
		return "FALSE", nil
	}
	switch a.Type {
	case schema.Boolean:
		b, ok := x.Value.(bool)
		if !ok || op != filter.Eq {
			return "FALSE", nil
		}
		if s, ok, err := c.contains(x.Path, el, b); ok || err != nil {
			return s, err
		}
		return c.anyValue(x.Path, el, true, func(r ref) (string, bool, error) {
			if r.col != "" {
				return r.col + " = " + c.bind(b), false, nil
			}
			doc, err := c.doc(either)
			if err != nil {
				return "", false, err
			}
			if c.pg {
				j, err := c.pgJSON(doc, r)
				return j + " = to_jsonb(" + c.bind(b) + "::boolean)", false, err
			}
			p, err := sqlitePath(r)
			return "json_type(" + doc + ", " + p + ") = " + c.bind(strconv.FormatBool(b)), false, err
		})
	case schema.Integer, schema.Decimal:
		f, ok := number(x.Value)
		if !ok || substr {
			return "FALSE", nil
		}
		sqlOp := sqlOps[op]
		return c.anyValue(x.Path, el, true, func(r ref) (string, bool, error) {
			if r.col != "" {
				return r.col + " " + sqlOp + " " + c.bind(f), false, nil
			}
			doc, err := c.doc(either)
			if err != nil {
				return "", false, err
			}
			if c.pg {
				j, err := c.pgJSON(doc, r)
				return "CASE jsonb_typeof(" + j + ") WHEN 'number' THEN (" + j + ")::float8 END " + sqlOp + " " +
					c.bind(f) + "::float8", false, err
			}
			p, err := sqlitePath(r)
			if err != nil {
				return "", false, err
			}
			return "CASE WHEN json_type(" + doc + ", " + p + ") IN ('integer', 'real') THEN CAST(json_extract(" +
				doc + ", " + p + ") AS REAL) END " + sqlOp + " " + c.bind(f), false, nil
		})
	case schema.DateTime:
		lit, ok := x.Value.(string)
		switch {
		case !ok:
			return "FALSE", nil
		case substr: // on the text as sent, not the column's form
			return c.stringMatch(x.Path, el, op, lit, either, false)
		}
		t, err := time.Parse(time.RFC3339Nano, lit)
		if err != nil {
			return "FALSE", nil
		}
		col, hasCol := c.m.Columns[x.Path.String()]
		if el != nil || x.Path.Attr.MultiValued || !hasCol {
			return "", unsupported("%s %s a dateTime without a column", x.Path, op)
		}
		if t = t.UTC(); t.Year() < 0 || t.Year() > 9999 {
			return "", unsupported("dateTime %q out of the column's range", lit)
		}
		return c.anyValue(x.Path, el, true, func(r ref) (string, bool, error) {
			lhs := col
			if op != filter.Eq {
				lhs = c.collateC(col)
			}
			return lhs + " " + sqlOps[op] + " " + c.bind(t.Format(TimeLayout)), false, nil
		})
	case schema.Complex: // a complex value is no string: filter.Match's compareOne fails
		return "FALSE", nil
	}
	lit, ok := x.Value.(string)
	if !ok {
		return "FALSE", nil
	}
	kind := kindOf(a)
	if kind == foldedDoc {
		lit = filter.Fold(lit)
	}
	if op == filter.Eq {
		if s, ok, err := c.contains(x.Path, el, lit); ok || err != nil {
			return s, err
		}
	}
	return c.stringMatch(x.Path, el, op, lit, kind, true)
}

var sqlOps = map[filter.Op]string{filter.Eq: "=", filter.Gt: ">", filter.Ge: ">=", filter.Lt: "<", filter.Le: "<="}

// checkText rejects, for PostgreSQL, strings its text type cannot hold. No stored value holds them either, but
// the Go fallback gives the exact answer.
func (c *compiler) checkText(s string) error {
	if c.pg && (strings.Contains(s, "\x00") || !utf8.ValidString(s)) {
		return unsupported("a string PostgreSQL cannot hold: %q", s)
	}
	return nil
}

// contains writes, for PostgreSQL and an attribute without a column, "eq" as jsonb containment of the
// literal at its place in the document: two-valued, and served by a GIN index on the document column.
func (c *compiler) contains(p schema.Path, el *elem, lit any) (string, bool, error) {
	if !c.pg || el != nil {
		return "", false, nil
	}
	if _, ok := c.m.Columns[p.String()]; ok && !p.Attr.MultiValued {
		return "", false, nil
	}
	kind := kindOf(p.Target())
	doc, err := c.doc(kind)
	if err != nil {
		return "", false, err
	}
	if s, ok := lit.(string); ok {
		if err := c.checkText(s); err != nil {
			return "", false, err
		}
	}
	v := lit
	if p.Sub != nil {
		v = map[string]any{p.Sub.Name: v}
	}
	if p.Attr.MultiValued {
		v = []any{v}
	}
	v = map[string]any{p.Attr.Name: v}
	if p.Extension() {
		v = map[string]any{p.Schema.ID: v}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false, unsupported("%v", err)
	}
	return "(" + doc + " @> " + c.bind(string(b)) + "::text::jsonb)", true, nil
}

// stringMatch compares the strings at p with lit (already folded when the attribute is caseExact false) byte by
// byte, as compareOne does.
func (c *compiler) stringMatch(p schema.Path, el *elem, op filter.Op, lit string, kind docKind, useCol bool) (string, error) {
	if err := c.checkText(lit); err != nil {
		return "", err
	}
	return c.anyValue(p, el, useCol, func(r ref) (string, bool, error) {
		doc := ""
		if r.col == "" {
			var err error
			if doc, err = c.doc(kind); err != nil {
				return "", false, err
			}
		}
		x, err := c.text(doc, r)
		if err != nil {
			return "", false, err
		}
		if lit == "" && (op == filter.Co || op == filter.Sw || op == filter.Ew) { // every string contains ""
			return x + " IS NOT NULL", true, nil
		}
		if c.pg {
			switch op {
			case filter.Co:
				return "strpos(" + x + ", " + c.bind(lit) + ") > 0", false, nil
			case filter.Sw:
				return "starts_with(" + x + ", " + c.bind(lit) + ")", false, nil
			case filter.Ew:
				n := c.bind(lit)
				return "right(" + x + ", length(" + n + "::text)) = " + n, false, nil
			case filter.Eq:
				return x + " = " + c.bind(lit), false, nil
			}
			return c.collateC(x) + " " + sqlOps[op] + " " + c.bind(lit), false, nil
		}
		// SQLite: as BLOBs, since its text functions count characters and stop at NUL.
		switch op {
		case filter.Co:
			return "instr(CAST(" + x + " AS BLOB), " + c.bind([]byte(lit)) + ") > 0", false, nil
		case filter.Sw:
			return "instr(CAST(" + x + " AS BLOB), " + c.bind([]byte(lit)) + ") = 1", false, nil
		case filter.Ew:
			return "substr(CAST(" + x + " AS BLOB), -" + c.bind(len(lit)) + ") = " + c.bind([]byte(lit)), false, nil
		}
		return x + " " + sqlOps[op] + " " + c.bind(lit), false, nil
	})
}
