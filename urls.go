package scim

import (
	"strings"
)

// base returns the absolute URL of the mount point: the configured base URL, else the request's scheme and
// host with the prefix http.StripPrefix removed (found by comparing RequestURI with the stripped path).
func (h *handler) base(r *request) string {
	if h.baseURL != "" {
		return h.baseURL
	}
	if r.base != "" { // computed once a request: a list renders many locations
		return r.base
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	orig, _, _ := strings.Cut(r.RequestURI, "?")
	prefix := strings.TrimSuffix(orig, r.URL.EscapedPath())
	if prefix == orig { // not stripped as we thought: assume the root
		prefix = ""
	}
	r.base = scheme + "://" + r.Host + prefix
	return r.base
}

func (h *handler) location(r *request, id string) string {
	return h.base(r) + h.rt.Endpoint + "/" + id
}

func etag(version string) string { return `W/"` + version + `"` }

// etagMatches reports whether an If-Match or If-None-Match header value names version: "*" or a list of
// entity tags, compared weakly (RFC 9110 §8.8.3.2).
func etagMatches(header, version string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		t = strings.TrimPrefix(t, "W/")
		if strings.Trim(t, `"`) == version {
			return true
		}
	}
	return false
}
