// Package patch is the PATCH engine (RFC 7644 §3.5.2): Parse checks a PatchOp message against a resource
// type, Apply applies its operations to a canonical document within the request's work budget. The scim
// package reads the resource, calls them, validates the result and writes it with the version it read; its
// errors are *Error (400 with a scimType), the filter package's, or the budget's.
package patch
