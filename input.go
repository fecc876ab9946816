package scim

import (
	"net/http"
	"net/url"
	"unicode/utf8"
)

// What a client sends is text: a body or query that is not valid UTF-8 is refused, never stored as U+FFFD.
// (What a client sent is quoted in an error detail through internal/echo, at most 200 bytes of it.)

// checkQuery refuses a query whose names or values do not decode to valid UTF-8: 400 invalidFilter for the
// filter, invalidValue for the others.
func checkQuery(raw string) error {
	if validQuery(raw) {
		return nil
	}
	q, _ := url.ParseQuery(raw)
	if !utf8.ValidString(q.Get("filter")) {
		return errorf(http.StatusBadRequest, InvalidFilter, "the filter is not valid UTF-8")
	}
	return errorf(http.StatusBadRequest, InvalidValue, "a query parameter is not valid UTF-8")
}

// validQuery reports whether every name and value of a raw query (RFC 3986 percent-encoding, "+" for a
// space) decodes to valid UTF-8, without allocating: a request's query is checked on every request.
func validQuery(raw string) bool {
	var buf [utf8.UTFMax]byte
	n := 0 // bytes of a multi-byte rune collected so far
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '%' && i+2 < len(raw) && isHex(raw[i+1]) && isHex(raw[i+2]):
			c = unhex(raw[i+1])<<4 | unhex(raw[i+2])
			i += 2
		case c == '&' || c == '=':
			if n > 0 { // a rune cut by a separator
				return false
			}
			continue
		}
		if n == 0 && c < utf8.RuneSelf {
			continue
		}
		buf[n] = c
		n++
		if utf8.FullRune(buf[:n]) {
			if r, size := utf8.DecodeRune(buf[:n]); r == utf8.RuneError && size <= 1 {
				return false
			}
			n = 0
		}
	}
	return n == 0
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// loneSurrogate reports whether a JSON text escapes half of a UTF-16 surrogate pair (\ud800 without the
// \udc00 that must follow it, or the second half alone): encoding/json decodes it to U+FFFD without an error,
// which would store a character the client never sent. Backslashes occur only in strings in valid JSON, and
// an escaped backslash is skipped whole, so no string state is needed.
func loneSurrogate(b []byte) bool {
	lone, _ := badEscapes(b)
	return lone
}

// badEscapes finds the \u escapes a body may not hold: a lone surrogate (loneSurrogate), and U+0000, a
// character no SCIM value holds, which PostgreSQL's text and jsonb cannot store (a Store's 500 for the
// client's byte).
func badEscapes(b []byte) (lone, nul bool) {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] != 'u' {
			i++ // \\, \" and the others: the escaped byte is not an escape
			continue
		}
		r, ok := hex4(b, i+2)
		switch {
		case !ok: // malformed: the decoder refuses it
		case r == 0:
			nul = true
		case r >= 0xdc00 && r <= 0xdfff:
			lone = true
		case r >= 0xd800 && r <= 0xdbff:
			low, ok := rune(0), i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u'
			if ok {
				low, ok = hex4(b, i+8)
			}
			if !ok || low < 0xdc00 || low > 0xdfff {
				lone = true
			}
			i += 6
		}
		i += 5
	}
	return lone, nul
}

// hex4 reads the four hex digits of a \u escape at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		if !isHex(c) {
			return 0, false
		}
		r = r<<4 | rune(unhex(c))
	}
	return r, true
}
