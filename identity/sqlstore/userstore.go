package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/migrations/dbtx"
)

// Index names from migrations/*/00001_identity.sql. PostgreSQL reports
// them as the violated constraint; SQLite reports the indexed column.
const (
	usernameIndex = "users_username_lower_idx"
	emailIndex    = "users_email_lower_idx"
)

// UserStore is the gorm implementation of identity.UserStore.
//
// Times are stored in UTC with microsecond precision (PostgreSQL's), so a
// value reads back the same from either database (see timestamp). A zero CreatedAt or
// UpdatedAt is filled from gorm's clock. ListUsers treats limit <= 0 as no
// limit. A login containing '@' is looked up as an e-mail address, any
// other as a username (valid usernames never contain '@').
type UserStore struct {
	db *gorm.DB
	// Now is the clock for the times the store fills in itself (creation
	// and update times not given by the caller); nil means the database
	// handle's clock (gorm's NowFunc).
	Now func() time.Time
}

var _ identity.UserStore = (*UserStore)(nil)

// Each part of the identity service takes its slice of UserStore.
var (
	_ identity.AccountStore  = (*UserStore)(nil)
	_ identity.LoginStore    = (*UserStore)(nil)
	_ identity.ContactStore  = (*UserStore)(nil)
	_ identity.RecoveryStore = (*UserStore)(nil)
	_ identity.ProfileStore  = (*UserStore)(nil)
)

// NewUserStore returns a UserStore on db, whose schema must be migrated.
func NewUserStore(db *gorm.DB) *UserStore { return &UserStore{db: db} }

// userRow is a row of the users table.
type userRow struct {
	ID            string `gorm:"primaryKey"`
	Username      string
	UsernameLower string
	Email         string
	EmailLower    string
	EmailVerified bool
	Phone         string
	PhoneVerified bool
	GivenName     string
	FamilyName    string
	MiddleName    string
	Nickname      string
	Picture       string
	Website       string
	Gender        string
	Birthdate     string
	Locale        string
	Zoneinfo      string
	// The address claim's parts (00003_profile_tokens.sql).
	AddressFormatted     string
	AddressStreetAddress string
	AddressLocality      string
	AddressRegion        string
	AddressPostalCode    string
	AddressCountry       string
	Roles                string // JSON array
	PasswordHash         string
	Status               string
	CreatedAt            timestamp `gorm:"autoCreateTime:false"`
	UpdatedAt            timestamp `gorm:"autoUpdateTime:false"`
	LastLoginAt          timestamp // zero: NULL, never logged in
	// Brute-force lockout (00006_lockout.sql).
	FailedLogins      int
	Lockouts          int
	LockedUntil       timestamp // zero: NULL
	LockedPermanently bool
}

// TableName tells gorm the table name.
func (userRow) TableName() string { return "users" }

func (s *UserStore) now() time.Time { return newTimestamp(clock(s.Now, s.db)()).Time() }

// toRow converts u; the caller has checked u.ID.
func toRow(u *identity.User, passwordHash string) (*userRow, error) {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	rolesJSON, err := json.Marshal(roles)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: encode roles: %w", err)
	}
	r := &userRow{
		ID:            u.ID,
		Username:      u.Username,
		UsernameLower: strings.ToLower(u.Username),
		Email:         u.Email,
		EmailLower:    strings.ToLower(u.Email),
		EmailVerified: u.EmailVerified,
		Phone:         u.Phone,
		PhoneVerified: u.PhoneVerified,
		GivenName:     u.GivenName,
		FamilyName:    u.FamilyName,
		MiddleName:    u.MiddleName,
		Nickname:      u.Nickname,
		Picture:       u.Picture,
		Website:       u.Website,
		Gender:        u.Gender,
		Birthdate:     u.Birthdate,
		Locale:        u.Locale,
		Zoneinfo:      u.Zoneinfo,

		AddressFormatted:     u.Address.Formatted,
		AddressStreetAddress: u.Address.StreetAddress,
		AddressLocality:      u.Address.Locality,
		AddressRegion:        u.Address.Region,
		AddressPostalCode:    u.Address.PostalCode,
		AddressCountry:       u.Address.Country,

		Roles:        string(rolesJSON),
		PasswordHash: passwordHash,
		Status:       string(u.Status),
		CreatedAt:    newTimestamp(u.CreatedAt),
		UpdatedAt:    newTimestamp(u.UpdatedAt),
	}
	if u.LastLoginAt != nil {
		r.LastLoginAt = newTimestamp(*u.LastLoginAt)
	}
	if u.LockedUntil != nil {
		r.LockedUntil = newTimestamp(*u.LockedUntil)
	}
	r.LockedPermanently = u.LockedPermanently
	return r, nil
}

func (r *userRow) toUser() (*identity.User, error) {
	var roles []string
	if err := json.Unmarshal([]byte(r.Roles), &roles); err != nil {
		return nil, fmt.Errorf("sqlstore: user %s: decode roles: %w", r.ID, err)
	}
	if len(roles) == 0 {
		roles = nil
	}
	u := &identity.User{
		ID:            r.ID,
		Username:      r.Username,
		Email:         r.Email,
		EmailVerified: r.EmailVerified,
		Phone:         r.Phone,
		PhoneVerified: r.PhoneVerified,
		GivenName:     r.GivenName,
		FamilyName:    r.FamilyName,
		MiddleName:    r.MiddleName,
		Nickname:      r.Nickname,
		Picture:       r.Picture,
		Website:       r.Website,
		Gender:        r.Gender,
		Birthdate:     r.Birthdate,
		Locale:        r.Locale,
		Zoneinfo:      r.Zoneinfo,
		Address: identity.Address{
			Formatted:     r.AddressFormatted,
			StreetAddress: r.AddressStreetAddress,
			Locality:      r.AddressLocality,
			Region:        r.AddressRegion,
			PostalCode:    r.AddressPostalCode,
			Country:       r.AddressCountry,
		},
		Roles:       roles,
		Status:      identity.Status(r.Status),
		CreatedAt:   r.CreatedAt.Time(),
		UpdatedAt:   r.UpdatedAt.Time(),
		LastLoginAt: r.LastLoginAt.Ptr(),

		LockedUntil:       r.LockedUntil.Ptr(),
		LockedPermanently: r.LockedPermanently,
	}
	return u, nil
}

// canonicalID returns id in canonical UUID form, or ok false when it is not
// a UUID (and so cannot name any user).
func canonicalID(id string) (string, bool) {
	parsed, err := uuid.Parse(id)
	if err != nil {
		return "", false
	}
	return parsed.String(), true
}

// CreateUser inserts u with passwordHash. It writes the stored ID and times
// back into u.
func (s *UserStore) CreateUser(ctx context.Context, u *identity.User, passwordHash string) error {
	id, ok := canonicalID(u.ID)
	if !ok {
		return fmt.Errorf("sqlstore: create user: id %q is not a UUID", u.ID)
	}
	u.ID = id
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.now()
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	row, err := toRow(u, passwordHash)
	if err != nil {
		return err
	}
	if err := dbtx.DB(ctx, s.db).Create(row).Error; err != nil {
		return fmt.Errorf("sqlstore: create user: %w", translate(err))
	}
	u.CreatedAt, u.UpdatedAt = row.CreatedAt.Time(), row.UpdatedAt.Time()
	u.LastLoginAt = row.LastLoginAt.Ptr()
	u.LockedUntil = row.LockedUntil.Ptr()
	return nil
}

// GetUser returns the user with the given ID.
func (s *UserStore) GetUser(ctx context.Context, id string) (*identity.User, error) {
	id, ok := canonicalID(id)
	if !ok {
		return nil, identity.ErrNotFound
	}
	var row userRow
	if err := dbtx.DB(ctx, s.db).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: get user: %w", translate(err))
	}
	return row.toUser()
}

// FindUserByLogin returns the user whose username, or e-mail address when
// login contains '@', equals login ignoring case, with its password hash.
func (s *UserStore) FindUserByLogin(ctx context.Context, login string) (*identity.User, string, error) {
	if login == "" {
		return nil, "", identity.ErrNotFound
	}
	q := dbtx.DB(ctx, s.db)
	lower := strings.ToLower(login)
	if strings.Contains(login, "@") {
		// The second term repeats the partial index's predicate so the
		// planners of both databases may use it.
		q = q.Where("email_lower = ? AND email_lower <> ''", lower)
	} else {
		q = q.Where("username_lower = ?", lower)
	}
	var row userRow
	if err := q.Take(&row).Error; err != nil {
		return nil, "", fmt.Errorf("sqlstore: find user: %w", translate(err))
	}
	u, err := row.toUser()
	if err != nil {
		return nil, "", err
	}
	return u, row.PasswordHash, nil
}

// UpdateUser saves every field of u except the password hash, CreatedAt,
// LastLoginAt and the lockout fields. A zero UpdatedAt is filled from gorm's clock; the stored
// value is written back into u.
func (s *UserStore) UpdateUser(ctx context.Context, u *identity.User) error {
	return s.update(ctx, "update user", u, func(r *userRow) map[string]any {
		cols := profileColumns(r)
		maps.Copy(cols, map[string]any{
			"email":          r.Email,
			"email_lower":    r.EmailLower,
			"email_verified": r.EmailVerified,
			"phone":          r.Phone,
			"phone_verified": r.PhoneVerified,
			"roles":          r.Roles,
			"status":         r.Status,
		})
		return cols
	})
}

// UpdateProfile saves the profile fields of u and UpdatedAt (filled from
// gorm's clock when zero and written back into u).
func (s *UserStore) UpdateProfile(ctx context.Context, u *identity.User) error {
	return s.update(ctx, "update profile", u, profileColumns)
}

// profileColumns are the columns a person edits on their profile, and
// updated_at.
func profileColumns(r *userRow) map[string]any {
	return map[string]any{
		"username":               r.Username,
		"username_lower":         r.UsernameLower,
		"given_name":             r.GivenName,
		"family_name":            r.FamilyName,
		"middle_name":            r.MiddleName,
		"nickname":               r.Nickname,
		"picture":                r.Picture,
		"website":                r.Website,
		"gender":                 r.Gender,
		"birthdate":              r.Birthdate,
		"locale":                 r.Locale,
		"zoneinfo":               r.Zoneinfo,
		"address_formatted":      r.AddressFormatted,
		"address_street_address": r.AddressStreetAddress,
		"address_locality":       r.AddressLocality,
		"address_region":         r.AddressRegion,
		"address_postal_code":    r.AddressPostalCode,
		"address_country":        r.AddressCountry,
		"updated_at":             r.UpdatedAt,
	}
}

// update writes the columns that cols picks from u's row in one UPDATE.
func (s *UserStore) update(ctx context.Context, op string, u *identity.User, cols func(*userRow) map[string]any) error {
	id, ok := canonicalID(u.ID)
	if !ok {
		return fmt.Errorf("sqlstore: %s: %w", op, identity.ErrNotFound)
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = s.now()
	}
	row, err := toRow(u, "")
	if err != nil {
		return err
	}
	res := dbtx.DB(ctx, s.db).Model(&userRow{}).Where("id = ?", id).Updates(cols(row))
	if err := affectedOne(res); err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	u.UpdatedAt = row.UpdatedAt.Time()
	return nil
}

// PasswordHash returns the user's password hash, empty when none is set.
func (s *UserStore) PasswordHash(ctx context.Context, userID string) (string, error) {
	id, ok := canonicalID(userID)
	if !ok {
		return "", fmt.Errorf("sqlstore: password hash: %w", identity.ErrNotFound)
	}
	var row userRow
	if err := dbtx.DB(ctx, s.db).Select("password_hash").Where("id = ?", id).Take(&row).Error; err != nil {
		return "", fmt.Errorf("sqlstore: password hash: %w", translate(err))
	}
	return row.PasswordHash, nil
}

// MarkEmailVerified sets email_verified while the address still equals
// email, ignoring case.
func (s *UserStore) MarkEmailVerified(ctx context.Context, userID, email string, at time.Time) error {
	id, ok := canonicalID(userID)
	if !ok || email == "" {
		return fmt.Errorf("sqlstore: mark email verified: %w", identity.ErrNotFound)
	}
	res := dbtx.DB(ctx, s.db).Model(&userRow{}).
		Where("id = ? AND email_lower = ?", id, strings.ToLower(email)).
		Updates(map[string]any{"email_verified": true, "updated_at": newTimestamp(s.orNow(at))})
	if err := affectedOne(res); err != nil {
		return fmt.Errorf("sqlstore: mark email verified: %w", err)
	}
	return nil
}

// SetEmail replaces the address with a verified one.
func (s *UserStore) SetEmail(ctx context.Context, userID, email string, at time.Time) error {
	return s.setColumns(ctx, "set email", userID, map[string]any{
		"email":          email,
		"email_lower":    strings.ToLower(email),
		"email_verified": email != "",
		"updated_at":     newTimestamp(s.orNow(at)),
	})
}

// SetPhone replaces the phone number and its verified flag.
func (s *UserStore) SetPhone(ctx context.Context, userID, phone string, verified bool, at time.Time) error {
	return s.setColumns(ctx, "set phone", userID, map[string]any{
		"phone":          phone,
		"phone_verified": verified && phone != "",
		"updated_at":     newTimestamp(s.orNow(at)),
	})
}

func (s *UserStore) orNow(t time.Time) time.Time {
	if t.IsZero() {
		return s.now()
	}
	return t
}

// SetPasswordHash replaces the user's password hash.
func (s *UserStore) SetPasswordHash(ctx context.Context, userID, hash string) error {
	return s.setColumns(ctx, "set password hash", userID, map[string]any{
		"password_hash": hash, "updated_at": newTimestamp(s.now()),
	})
}

// RecordLogin sets the user's last login time.
func (s *UserStore) RecordLogin(ctx context.Context, userID string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("sqlstore: record login: zero time")
	}
	return s.setColumn(ctx, "record login", userID, "last_login_at", newTimestamp(at))
}

func (s *UserStore) setColumn(ctx context.Context, op, userID, column string, value any) error {
	return s.setColumns(ctx, op, userID, map[string]any{column: value})
}

func (s *UserStore) setColumns(ctx context.Context, op, userID string, values map[string]any) error {
	id, ok := canonicalID(userID)
	if !ok {
		return fmt.Errorf("sqlstore: %s: %w", op, identity.ErrNotFound)
	}
	res := dbtx.DB(ctx, s.db).Model(&userRow{}).Where("id = ?", id).Updates(values)
	if err := affectedOne(res); err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	return nil
}

// ListUsers returns users ordered by creation time (ties by ID), skipping
// offset and returning at most limit; limit <= 0 means no limit.
func (s *UserStore) ListUsers(ctx context.Context, limit, offset int) ([]*identity.User, error) {
	q := dbtx.DB(ctx, s.db).Order("created_at, id")
	if limit > 0 {
		q = q.Limit(limit)
	}
	if offset > 0 {
		q = q.Offset(offset)
	}
	var rows []userRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: list users: %w", err)
	}
	users := make([]*identity.User, 0, len(rows))
	for i := range rows {
		u, err := rows[i].toUser()
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, nil
}

// affectedOne turns the result of a single-row write into an error:
// the translated driver error, or identity.ErrNotFound when no row matched.
func affectedOne(res *gorm.DB) error {
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return identity.ErrNotFound
	}
	return nil
}

// translate maps driver errors onto identity's sentinels and leaves the
// rest alone.
func translate(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return identity.ErrNotFound
	}
	// PostgreSQL: SQLSTATE 23505 unique_violation, naming the index.
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if pgErr.Code == "23505" {
			switch pgErr.ConstraintName {
			case usernameIndex:
				return identity.ErrUsernameTaken
			case emailIndex:
				return identity.ErrEmailTaken
			}
		}
		return err
	}
	// SQLite: "UNIQUE constraint failed: users.username_lower" (the
	// extended code SQLITE_CONSTRAINT_UNIQUE, 2067, names columns only).
	if msg := err.Error(); strings.Contains(msg, "UNIQUE constraint failed") {
		switch {
		case strings.Contains(msg, "users.username_lower"):
			return identity.ErrUsernameTaken
		case strings.Contains(msg, "users.email_lower"):
			return identity.ErrEmailTaken
		}
	}
	return err
}
