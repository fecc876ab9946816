package sqlfilter

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// valuePath compiles attr[filter]: for a multi-valued attribute, some element is an object satisfying the
// filter; for a single-valued complex one, the value is an object satisfying it.
func (c *compiler) valuePath(v *filter.ValuePath) (string, error) {
	p := v.Path
	if p.Attr == nil || p.Sub != nil || p.Attr.Type != schema.Complex {
		return "", unsupported("value filter on %s", p)
	}
	if l, ok := c.link(p); ok {
		return c.linkValueFilter(l, p, v.Filter)
	}
	if !p.Attr.MultiValued {
		doc, err := c.doc(either)
		if err != nil {
			return "", err
		}
		var obj string
		if c.pg {
			j, err := c.pgJSON(doc, ref{keys: rootKeys(p)})
			if err != nil {
				return "", err
			}
			obj = "COALESCE(jsonb_typeof(" + j + ") = 'object', FALSE)"
		} else {
			q, err := sqlitePath(ref{keys: rootKeys(p)})
			if err != nil {
				return "", err
			}
			obj = "COALESCE(json_type(" + doc + ", " + q + ") = 'object', FALSE)"
		}
		f, err := lift(v.Filter, p)
		if err != nil {
			return "", err
		}
		s, err := c.expr(f, nil)
		return "(" + obj + " AND " + s + ")", err
	}
	e, from, err := c.iterate(rootKeys(p))
	if err != nil {
		return "", err
	}
	var obj string
	if c.pg {
		doc, _ := c.doc(either)
		j, err := c.pgJSON(doc, ref{el: e})
		if err != nil {
			return "", err
		}
		obj = "jsonb_typeof(" + j + ") = 'object'"
	} else {
		obj = e.alias + ".type = 'object'"
	}
	s, err := c.expr(v.Filter, e)
	return "EXISTS (SELECT 1 FROM " + from + " WHERE " + obj + " AND " + s + ")", err
}

// lift rewrites a value filter of the single-valued complex attribute at p into a filter on its
// sub-attributes' full paths: name[givenName eq "x"] compares name.givenName, which may have a column.
func lift(e filter.Expr, p schema.Path) (filter.Expr, error) {
	switch e := e.(type) {
	case *filter.Logical:
		l, err := lift(e.Left, p)
		if err != nil {
			return nil, err
		}
		r, err := lift(e.Right, p)
		if err != nil {
			return nil, err
		}
		return &filter.Logical{Op: e.Op, Left: l, Right: r}, nil
	case *filter.Not:
		x, err := lift(e.X, p)
		if err != nil {
			return nil, err
		}
		return &filter.Not{X: x}, nil
	case *filter.Compare:
		if e.Path.Schema != nil || e.Path.Sub != nil || e.Path.Attr == nil {
			return nil, unsupported("attribute path %s in a value filter", e.Path)
		}
		return &filter.Compare{Path: schema.Path{Schema: p.Schema, Attr: p.Attr, Sub: e.Path.Attr}, Op: e.Op, Value: e.Value}, nil
	}
	return nil, unsupported("expression %T in a value filter", e)
}

// link returns the Link of the attribute at p, when it has one.
func (c *compiler) link(p schema.Path) (Link, bool) {
	if p.Attr == nil || !p.Attr.MultiValued || len(c.m.Links) == 0 {
		return Link{}, false
	}
	l, ok := c.m.Links[schema.Path{Schema: p.Schema, Attr: p.Attr}.String()]
	return l, ok
}

// linkCompare compiles a comparison of a linked attribute's value: some row of the link table holds it.
func (c *compiler) linkCompare(l Link, x *filter.Compare) (string, error) {
	if x.Path.Sub != nil && !strings.EqualFold(x.Path.Sub.Name, "value") {
		return "", unsupported("%s: only the value of a linked attribute is in its table", x.Path)
	}
	switch {
	case x.Op == filter.Pr:
		return c.linkRows(l, nil)
	case x.Value == nil: // eq null: no value; ne null: some value
		s, err := c.linkRows(l, nil)
		if x.Op == filter.Ne {
			return s, err
		}
		return "NOT " + s, err
	case x.Op != filter.Eq && x.Op != filter.Ne:
		return "", unsupported("%s %s on a linked attribute", x.Path, x.Op)
	}
	lit, ok := x.Value.(string)
	if !ok {
		return "FALSE", nil
	}
	if err := c.checkText(lit); err != nil {
		return "", err
	}
	s, err := c.linkRows(l, func() string { return l.Value + " = " + c.bind(lit) })
	if x.Op == filter.Ne {
		return "NOT " + s, err
	}
	return s, err
}

// linkValueFilter compiles attr[filter] on a linked attribute: value eq, value pr, and their or, which say
// the same of the element as of the attribute. Anything else (and, not, ne, other sub-attributes) could need
// two conditions on one element: unsupported.
func (c *compiler) linkValueFilter(l Link, p schema.Path, f filter.Expr) (string, error) {
	switch f := f.(type) {
	case *filter.Logical:
		if f.Op != filter.Or {
			return "", unsupported("%s[... and ...] on a linked attribute", p)
		}
		left, err := c.linkValueFilter(l, p, f.Left)
		if err != nil {
			return "", err
		}
		right, err := c.linkValueFilter(l, p, f.Right)
		if err != nil {
			return "", err
		}
		return "(" + left + " OR " + right + ")", nil
	case *filter.Compare:
		if f.Path.Schema != nil || f.Path.Sub != nil || f.Path.Attr == nil || !strings.EqualFold(f.Path.Attr.Name, "value") ||
			(f.Op != filter.Eq && f.Op != filter.Pr) || (f.Op == filter.Eq && f.Value == nil) {
			return "", unsupported("%s[%s] on a linked attribute", p, f.Path)
		}
		return c.linkCompare(l, &filter.Compare{Path: schema.Path{Schema: p.Schema, Attr: p.Attr, Sub: p.Attr.Sub("value")}, Op: f.Op, Value: f.Value})
	}
	return "", unsupported("expression %T in a value filter of a linked attribute", f)
}

// number is the numeric value of a literal as filter.Match reads it (filter's own number, which is not API):
// FuzzCompileSQLite keeps the two in agreement.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}
