package filter

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/scimkit/scim/schema"
)

// Expr is a parsed, resolved filter: *Compare, *Logical, *Not or *ValuePath.
type Expr interface{ isExpr() }

// Op is a comparison or logical operator, lower case.
type Op string

// The operators of RFC 7644 §3.4.2.2.
const (
	Eq  Op = "eq"
	Ne  Op = "ne"
	Co  Op = "co"
	Sw  Op = "sw"
	Ew  Op = "ew"
	Gt  Op = "gt"
	Ge  Op = "ge"
	Lt  Op = "lt"
	Le  Op = "le"
	Pr  Op = "pr"
	And Op = "and"
	Or  Op = "or"
)

// Compare is an attribute expression: Path Op Value. Inside a value filter Path.Schema is nil and Path.Attr is
// a sub-attribute of the filtered attribute. Value is a string, bool, int64, float64 or nil.
type Compare struct {
	Path  schema.Path
	Op    Op
	Value any
}

// Logical is Left and Right joined by And or Or.
type Logical struct {
	Op          Op
	Left, Right Expr
}

// Not negates X.
type Not struct{ X Expr }

// ValuePath matches when some element of the multi-valued attribute Path matches Filter, which is resolved
// against the attribute's sub-attributes (emails[type eq "work" and primary eq true]).
type ValuePath struct {
	Path   schema.Path
	Filter Expr
}

func (*Compare) isExpr()   {}
func (*Logical) isExpr()   {}
func (*Not) isExpr()       {}
func (*ValuePath) isExpr() {}

// check rejects comparisons that RFC 7644 §3.4.2.2 does not define for the attribute's type, so that a client
// learns of its mistake (invalidFilter) instead of silently matching nothing.
func (c *Compare) check() error {
	a := c.Path.Target()
	switch c.Op {
	case Pr:
		return nil
	case Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le:
	default:
		return fmt.Errorf("unknown operator %q", c.Op)
	}
	if c.Value == nil {
		if c.Op == Eq || c.Op == Ne {
			return nil
		}
		return fmt.Errorf("%s %s null is not defined", c.Path, c.Op)
	}
	ordering := c.Op == Gt || c.Op == Ge || c.Op == Lt || c.Op == Le
	substring := c.Op == Co || c.Op == Sw || c.Op == Ew
	switch a.Type {
	case schema.Boolean:
		if s, ok := c.Value.(string); ok { // a string boolean, as Entra writes them elsewhere ("True", "False")
			switch {
			case strings.EqualFold(s, "true"):
				c.Value = true
			case strings.EqualFold(s, "false"):
				c.Value = false
			}
		}
		if _, ok := c.Value.(bool); !ok {
			return fmt.Errorf("%s is a boolean: compare it with true or false", c.Path)
		}
		if ordering || substring {
			return fmt.Errorf("%s is a boolean: %s is not defined for it", c.Path, c.Op)
		}
	case schema.Integer, schema.Decimal:
		switch c.Value.(type) {
		case int64, float64:
		default:
			return fmt.Errorf("%s is a number: compare it with a number", c.Path)
		}
		if substring {
			return fmt.Errorf("%s is a number: %s is not defined for it", c.Path, c.Op)
		}
	case schema.DateTime:
		s, ok := c.Value.(string)
		if !ok {
			return fmt.Errorf("%s is a dateTime: compare it with a string", c.Path)
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil && !substring {
			return fmt.Errorf("%s is a dateTime: the value is not an xsd:dateTime such as 2011-05-13T04:42:34Z", c.Path)
		}
	case schema.Binary:
		if _, ok := c.Value.(string); !ok || ordering {
			return fmt.Errorf("%s is binary: only eq, ne, co, sw, ew and pr with a string are defined", c.Path)
		}
	case schema.Complex:
		return fmt.Errorf("%s is complex: name one of its sub-attributes", c.Path)
	default: // string, reference
		if _, ok := c.Value.(string); !ok {
			return fmt.Errorf("%s is a string: compare it with a quoted string", c.Path)
		}
	}
	return nil
}

// String returns the filter in SCIM syntax with canonical attribute names, every and/or run parenthesised.
// Parse(String(e)) yields an expression equal to e.
func String(e Expr) string {
	var b strings.Builder
	write(&b, e)
	return b.String()
}

func write(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *Compare:
		b.WriteString(e.Path.String())
		b.WriteByte(' ')
		b.WriteString(string(e.Op))
		if e.Op != Pr {
			b.WriteByte(' ')
			b.WriteString(literalString(e.Value))
		}
	case *Logical:
		b.WriteByte('(')
		writeRun(b, e)
		b.WriteByte(')')
	case *Not:
		b.WriteString("not (")
		write(b, e.X)
		b.WriteByte(')')
	case *ValuePath:
		b.WriteString(e.Path.String())
		b.WriteByte('[')
		write(b, e.Filter)
		b.WriteByte(']')
	}
}

// writeRun writes a run of one operator without inner parentheses: the parser nests a or b or c to the left,
// ((a or b) or c), so "a or b or c" parses back to the same tree and stays as shallow as it was written.
func writeRun(b *strings.Builder, e *Logical) {
	if l, ok := e.Left.(*Logical); ok && l.Op == e.Op {
		writeRun(b, l)
	} else {
		write(b, e.Left)
	}
	b.WriteString(" " + string(e.Op) + " ")
	write(b, e.Right)
}

func literalString(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		// SCIM string literals are JSON strings; "<", ">" and "&" need no escaping in them.
		var q strings.Builder
		enc := json.NewEncoder(&q)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v) // a string always encodes
		return strings.TrimSuffix(q.String(), "\n")
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		// Keep a float a float: 5.0 must not print as 5, which parses back as an int64.
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEN") { // N: NaN and Inf, which no parse produces
			s += ".0"
		}
		return s
	}
	return fmt.Sprint(v)
}
