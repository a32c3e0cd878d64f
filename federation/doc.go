// Package federation brokers upstream logins (LDAP, later social and
// OpenID Connect providers) into local users.
//
// A connector checks a person upstream and answers with an Identity: the
// connector's ID and the upstream subject, a stable key of the person
// there (an LDAP entry's entryUUID or DN), with the profile and groups it
// knows. Password connectors (LDAP) check a username and password typed
// on Gatehouse's own login form; redirect connectors send the browser to
// the upstream provider and take its answer at a callback.
//
// The Broker maps an Identity onto a local identity.User through the
// links table, keyed by (connector, subject): the first login creates
// the local user without a password (just-in-time provisioning), every
// login refreshes its profile and its roles (from the connector's group
// rules). A first login whose e-mail address belongs to an existing local
// account links to it only when the connector is trusted to verify
// addresses; otherwise it is refused (ErrEmailInUse).
//
// Authenticator puts the password connectors behind the ordinary login
// form: a login name that belongs to a linked user, or to no local user,
// is checked against the enabled connectors in order, under the local
// account's lockout.
package federation
