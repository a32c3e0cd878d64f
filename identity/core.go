package identity

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Core is what every part of the identity service shares: the password
// hasher, the one-time tokens and their settings, the notifier, the unit
// of work, the clock and the logger. The parts (Accounts, Authenticator,
// Contacts, Recovery, Profiles) each point to one Core and add the narrow
// store and the settings of their own responsibility. A Core is not
// changed once the parts are built.
//
// Only Hasher is needed for accounts and logins. Verification and
// recovery also need Tokens, TokenKey, Notifier and BaseURL, and return an
// error naming what is missing.
type Core struct {
	// Hasher hashes and verifies passwords, in its bounded Pool; required.
	Hasher *Hasher
	// Now is the clock for creation and login times, lockouts and the
	// expiry of codes and links; nil means time.Now.
	Now func() time.Time

	// Tokens stores one-time codes and links.
	Tokens TokenStore
	// TokenKey keys the hashes of one-time codes and links: at least 32
	// random bytes, kept secret. A 6-digit code hashed without a key would
	// be found from its hash in a million tries. Changing the key voids
	// the codes and links outstanding.
	TokenKey []byte
	// Notifier queues e-mails and text messages. Register starts e-mail
	// verification only when it is set.
	Notifier Notifier
	// Tx makes the writes of one change a single transaction, which the
	// other stores (sessions, the Notifier, the hooks' audit trail) join
	// through the context: a password reset's token, hash, lockout,
	// sessions, notice and audit entry commit together or not at all.
	// nil writes them one by one.
	Tx Transactor
	// BaseURL is the issuer URL that links in e-mails start with, e.g.
	// "https://id.example.com".
	BaseURL string
	// CodeTTL is how long e-mail and phone codes (and the links sent with
	// them) stay valid; zero means DefaultCodeTTL.
	CodeTTL time.Duration
	// ResendCooldown is the least time between two codes or links of one
	// purpose for one user; zero means DefaultResendCooldown.
	ResendCooldown time.Duration
	// Logger records failures that come after a change is done and so are
	// not returned (a notice that could not be queued); nil discards them.
	Logger *slog.Logger
	// Sleep waits d or until ctx ends; nil waits on a timer. Answers given
	// without checking a password wait as long as a check takes (see
	// LockoutPolicy); tests set it to see the wait without sleeping.
	Sleep func(ctx context.Context, d time.Duration)
}

func (s *Core) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Core) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// passwordChanged ends the user's sessions but keep through sessions (nil
// ends none) and sends the notice. A failure to revoke is returned: the
// caller must not report success while an attacker's session may live on.
func (s *Core) passwordChanged(ctx context.Context, sessions SessionRevoker, u *User, keep string) error {
	if sessions != nil {
		if err := sessions.RevokeUserSessions(ctx, u.ID, keep); err != nil {
			return fmt.Errorf("identity: revoke sessions after password change: %w", err)
		}
	}
	s.notice(ctx, u.ID, Mail{Kind: MailPasswordChanged, To: u.Email, Name: greeting(u)})
	return nil
}

// Services is the identity service's parts, all over one Core; a caller
// takes the part it needs.
type Services struct {
	Core     *Core
	Accounts *Accounts
	Auth     *Authenticator
	Contacts *Contacts
	Recovery *Recovery
	Profiles *Profiles
	// SignInCodes sends and checks second-factor codes by e-mail and SMS.
	SignInCodes *SignInCodes
	// Roles grants roles and keeps the custom ones.
	Roles *Roles
	// UserAdmin is the administration of users, for the command line,
	// the admin API and the console alike.
	UserAdmin *UserAdmin
}
