// Package recovery serves the hosted pages that get a user back into an
// account outside any sign-in: the forgotten-password request, the reset
// link's page, and the unlock link from the lockout e-mail. None of them
// signs anyone in; a reset signs every session of the user out.
package recovery
