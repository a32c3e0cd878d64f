// Package access owns who may do what: the permissions of the admin
// area, the built-in roles defined here in code (user, manager, admin),
// the rules for the names of custom roles that administrators create and
// keep in the roles table, and the permission set a list of role names
// grants. It holds no storage and no I/O: identity grants roles and
// checks them, identity/sqlstore keeps custom roles.
package access
