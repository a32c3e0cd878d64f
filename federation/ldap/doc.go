// Package ldap is a federation.PasswordConnector for LDAP directories
// (OpenLDAP, Active Directory), on github.com/go-ldap/ldap/v3.
//
// A login runs on a connection of its own, opened and closed within the
// login and bounded by Config.Timeout as a whole: there is no pool to go
// stale when the directory restarts, and at the rate people sign in the
// cost of a connection (and of TLS) is small. The connection is protected
// by ldaps:// or StartTLS unless the URL says plain ldap:// without
// StartTLS, which is only for tests.
//
// A login: refuse an empty password before any bind (an LDAP simple bind
// with a DN and no password is an unauthenticated bind that succeeds);
// bind as the service account; search UserBaseDN with UserFilter, the
// username escaped (ldap.EscapeFilter); exactly one entry must match;
// bind as that entry with the password; bind as the service account again
// and find the entry's groups; map groups to roles by RoleRules.
package ldap
