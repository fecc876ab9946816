package scim

import "golang.org/x/crypto/bcrypt"

// PasswordPolicy is what the handler does with the write-only password attribute (RFC 7643 §4.1.1).
type PasswordPolicy int

const (
	// PasswordsIgnored drops a password sent in POST, PUT or PATCH (and reports the attribute as ignored, like
	// any attribute outside the declaration). It is the default: most apps that take users from Entra ID or
	// Okta sign them in through SSO and have no use for a password. /ServiceProviderConfig advertises
	// changePassword false and /Schemas omits the attribute.
	PasswordsIgnored PasswordPolicy = iota
	// PasswordsRefused answers a request carrying a password with 400 invalidValue.
	PasswordsRefused
	// PasswordsHashed hashes a password sent in POST, PUT or PATCH with bcrypt and hands the Store only the
	// hash (User.PasswordHash), so that Okta's password sync works; the host checks a sign-in with
	// CheckPassword. changePassword is advertised as supported.
	PasswordsHashed
)

// WithPasswords sets the password policy; the default is PasswordsIgnored.
func WithPasswords(p PasswordPolicy) Option {
	return func(c *config) {
		switch p {
		case PasswordsIgnored, PasswordsRefused, PasswordsHashed:
			c.passwords = p
		default:
			c.fail("WithPasswords(%d): not a PasswordPolicy", p)
		}
	}
}

// CheckPassword reports whether password is the one u.PasswordHash was made from.
func CheckPassword(u *User, password string) bool {
	return u != nil && u.PasswordHash != "" &&
		bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) == nil
}

// passwordCost is bcrypt's cost factor: about 50 ms of one core per hash on current machines, OWASP's floor.
const passwordCost = 10
