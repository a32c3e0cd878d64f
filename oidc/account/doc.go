// Package account serves the signed-in user's self-service pages under
// /account: profile, contact details with their verification, password
// change and preferences.
//
// Every page needs a browser session (from the provider's session cookie);
// without one the browser is sent to the login page and back. Each form
// posts to its own route, which validates through the identity service,
// saves, and redirects back to its section with a notice
// (post/redirect/get), so a reload never re-submits.
package account
