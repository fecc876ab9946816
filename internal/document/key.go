package document

import (
	"encoding/json"
	"slices"
	"strconv"
)

// AppendKey appends to b a key for the canonical value v such that two values get equal keys exactly when
// their JSON encodings are equal (object keys sorted): what duplicate checks key their sets by. It writes no
// JSON, only an unambiguous form of it (every string length-prefixed), so that the common values (strings,
// booleans, objects of them) cost no reflection and no allocation beyond b.
func AppendKey(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, 'z')
	case string:
		return appendStr(append(b, 's'), v)
	case bool:
		if v {
			return append(b, 't')
		}
		return append(b, 'f')
	case map[string]any:
		var small [8]string // the sub-attributes of one value: a handful
		keys := small[:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for _, k := range keys {
			b = AppendKey(appendStr(b, k), v[k])
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for _, e := range v {
			b = AppendKey(b, e)
		}
		return append(b, ']')
	case json.Number: // json.Marshal writes a valid Number as its text
		if json.Valid([]byte(v)) {
			return appendStr(append(b, 'j'), string(v))
		}
	}
	// Anything else (a float64 a host put in an extension, say) by its JSON, numbers as the Number case.
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, '!') // never equal to a well-formed key's continuation; callers treat it as a value
	}
	if len(j) > 0 && (j[0] == '-' || j[0] >= '0' && j[0] <= '9') {
		return appendStr(append(b, 'j'), string(j))
	}
	return appendStr(append(b, 'J'), string(j))
}

func appendStr(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	return append(append(b, ':'), s...)
}
