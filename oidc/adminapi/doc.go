// Package adminapi serves the admin API, /admin/api/v1: users, roles,
// OAuth clients and the audit trail, for administrators' scripts and for
// other services, authorised by Gatehouse's own access tokens.
//
// The API is written spec-first. openapi.yaml is the one description of
// it: `go generate` turns it into the server interface and types of
// api.gen.go; every request is checked against it (parameters, body,
// the scope its route needs) before a handler runs; tests check every
// answer against it too; and it is served, as JSON, at
// /admin/api/v1/openapi.json. A route cannot exist without being in the
// document, nor take input the document does not describe.
//
// The handlers only translate between HTTP and the identity and client
// services (identity.UserAdmin, identity.Roles, clientreg.Admin, the
// audit log), which the command line and the admin console call too, so
// no rule lives here that they would have to repeat. The caller reaches
// them as an identity.Actor whose Permissions are the token's scopes,
// narrowed by the user's roles for a user's token.
package adminapi
