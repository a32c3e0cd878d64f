package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"gatehouse/federation"
	"gatehouse/identity"
	"gatehouse/migrations/dbtime"
	"gatehouse/migrations/dbtx"
)

// LinkStore keeps federation links in federation_links.
type LinkStore struct {
	db *gorm.DB
}

var _ federation.LinkRemover = (*LinkStore)(nil)

// NewLinkStore returns a LinkStore on db, whose schema must be migrated.
func NewLinkStore(db *gorm.DB) *LinkStore { return &LinkStore{db: db} }

type linkRow struct {
	ConnectorID string `gorm:"primaryKey"`
	Subject     string `gorm:"primaryKey"`
	UserID      string
	CreatedAt   dbtime.Time `gorm:"autoCreateTime:false"`
	LastLoginAt dbtime.Time
}

// TableName tells gorm the table name.
func (linkRow) TableName() string { return "federation_links" }

func (r linkRow) link() federation.Link {
	return federation.Link{ConnectorID: r.ConnectorID, Subject: r.Subject, UserID: r.UserID,
		CreatedAt: r.CreatedAt.Time(), LastLoginAt: r.LastLoginAt.Time()}
}

// GetLink returns the link of (connectorID, subject), or
// identity.ErrNotFound.
func (s *LinkStore) GetLink(ctx context.Context, connectorID, subject string) (*federation.Link, error) {
	var r linkRow
	err := dbtx.DB(ctx, s.db).Where("connector_id = ? AND subject = ?", connectorID, subject).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("sqlstore: link %s: %w", connectorID, identity.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: link %s: %w", connectorID, err)
	}
	l := r.link()
	return &l, nil
}

// UserLinks returns the user's links, oldest first.
func (s *LinkStore) UserLinks(ctx context.Context, userID string) ([]federation.Link, error) {
	var rows []linkRow
	if err := dbtx.DB(ctx, s.db).Where("user_id = ?", userID).Order("created_at, connector_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: links of %s: %w", userID, err)
	}
	out := make([]federation.Link, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.link())
	}
	return out, nil
}

// CreateLink stores l, or returns federation.ErrLinkExists.
func (s *LinkStore) CreateLink(ctx context.Context, l federation.Link) error {
	r := linkRow{ConnectorID: l.ConnectorID, Subject: l.Subject, UserID: l.UserID,
		CreatedAt: dbtime.New(l.CreatedAt), LastLoginAt: dbtime.New(l.LastLoginAt)}
	if err := dbtx.DB(ctx, s.db).Create(&r).Error; err != nil {
		if isDuplicateKey(err) {
			return fmt.Errorf("sqlstore: create link %s: %w", l.ConnectorID, federation.ErrLinkExists)
		}
		return fmt.Errorf("sqlstore: create link %s: %w", l.ConnectorID, err)
	}
	return nil
}

// TouchLink sets the link's last login time, or returns
// identity.ErrNotFound.
func (s *LinkStore) TouchLink(ctx context.Context, connectorID, subject string, at time.Time) error {
	res := dbtx.DB(ctx, s.db).Model(&linkRow{}).Where("connector_id = ? AND subject = ?", connectorID, subject).
		Update("last_login_at", dbtime.New(at))
	if res.Error != nil {
		return fmt.Errorf("sqlstore: touch link %s: %w", connectorID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("sqlstore: touch link %s: %w", connectorID, identity.ErrNotFound)
	}
	return nil
}

// DeleteUserLinks removes the user's links of connectorID and reports
// how many there were. The user ID is part of the condition, so a
// request naming another user's connector removes nothing.
func (s *LinkStore) DeleteUserLinks(ctx context.Context, userID, connectorID string) (int, error) {
	res := dbtx.DB(ctx, s.db).Where("user_id = ? AND connector_id = ?", userID, connectorID).Delete(&linkRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("sqlstore: delete link %s: %w", connectorID, res.Error)
	}
	return int(res.RowsAffected), nil
}

func isDuplicateKey(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}
