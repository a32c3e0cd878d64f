package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/migrations/dbtx"
)

var _ identity.UserSearcher = (*UserStore)(nil)

// searchText is the expression the substring search runs over. On
// PostgreSQL it must stay exactly the expression of users_search_trgm_idx
// (migrations/postgres/00019_user_search.sql), or the planner falls back
// to scanning every row.
const (
	searchTextPostgres = `(username_lower || E'\n' || email_lower || E'\n' || lower(given_name) || E'\n' || lower(family_name) || E'\n' || phone)`
	searchTextSQLite   = `(username_lower || char(10) || email_lower || char(10) || lower(given_name) || char(10) || lower(family_name) || char(10) || phone)`
)

// sortColumns maps each order to its column.
var sortColumns = map[identity.UserSort]string{
	identity.SortCreated:   "created_at",
	identity.SortLastLogin: "last_login_at",
	identity.SortUsername:  "username_lower",
	identity.SortEmail:     "email_lower",
}

func (s *UserStore) postgres() bool { return s.db.Dialector.Name() == "postgres" }

// SearchUsers implements identity.UserSearcher with keyset pagination:
// each page asks for the rows after the last one's (sort key, id), so a
// page costs the same at any depth and rows inserted meanwhile never
// shift the others. It reads one row more than the limit to learn
// whether another page follows.
func (s *UserStore) SearchUsers(ctx context.Context, q identity.UserQuery) (identity.UserPage, error) {
	q, pos, err := identity.NormalizeUserQuery(q)
	if err != nil {
		return identity.UserPage{}, err
	}
	tx := dbtx.DB(ctx, s.db).Omit("password_hash")
	tx = s.filter(tx, q)
	col := sortColumns[q.Sort]
	if pos != nil {
		tx = after(tx, col, q.Sort == identity.SortLastLogin, q.Descending, pos)
	}
	dir := "ASC"
	if q.Descending {
		dir = "DESC"
	}
	order := fmt.Sprintf("%s %s, id %s", col, dir, dir)
	if q.Sort == identity.SortLastLogin {
		order = fmt.Sprintf("%s %s NULLS LAST, id %s", col, dir, dir)
	}
	var rows []userRow
	if err := tx.Order(order).Limit(q.Limit + 1).Find(&rows).Error; err != nil {
		return identity.UserPage{}, fmt.Errorf("sqlstore: search users: %w", err)
	}
	page := identity.UserPage{}
	more := len(rows) > q.Limit
	if more {
		rows = rows[:q.Limit]
	}
	for i := range rows {
		u, err := rows[i].toUser()
		if err != nil {
			return identity.UserPage{}, err
		}
		page.Users = append(page.Users, u)
	}
	if more {
		last := rows[len(rows)-1]
		page.NextCursor = identity.EncodeCursor(q, identity.SearchPosition{Key: sortKey(last, q.Sort), ID: last.ID})
	}
	return page, nil
}

// filter adds q's filters to tx.
func (s *UserStore) filter(tx *gorm.DB, q identity.UserQuery) *gorm.DB {
	if q.Q != "" {
		if s.postgres() {
			tx = tx.Where(searchTextPostgres+` LIKE ? ESCAPE '\'`, "%"+escapeLike(q.Q)+"%")
		} else {
			tx = tx.Where("instr("+searchTextSQLite+", ?) > 0", q.Q)
		}
	}
	if q.Email != "" {
		tx = tx.Where(`email_lower LIKE ? ESCAPE '\'`, escapeLike(q.Email)+"%")
	}
	if q.Status != "" {
		tx = tx.Where("status = ?", string(q.Status))
	}
	if q.Role != "" {
		if s.postgres() {
			// Served by users_roles_idx (jsonb_path_ops supports @>).
			tx = tx.Where("roles::jsonb @> jsonb_build_array(?::text)", q.Role)
		} else {
			tx = tx.Where("EXISTS (SELECT 1 FROM json_each(users.roles) WHERE value = ?)", q.Role)
		}
	}
	bounds := []struct {
		t    time.Time
		cond string
	}{
		{q.CreatedAfter, "created_at > ?"},
		{q.CreatedBefore, "created_at < ?"},
		{q.LastLoginAfter, "last_login_at > ?"},
		{q.LastLoginBefore, "last_login_at < ?"},
	}
	for _, b := range bounds {
		if !b.t.IsZero() {
			tx = tx.Where(b.cond, newTimestamp(b.t))
		}
	}
	return tx
}

// after keeps the rows that come after pos in the order. A nullable key
// sorts NULL last in both directions: after a row with a key come the
// later keys and then every NULL; after a NULL only later IDs among the
// NULLs.
func after(tx *gorm.DB, col string, nullable, desc bool, pos *identity.SearchPosition) *gorm.DB {
	cmp := ">"
	if desc {
		cmp = "<"
	}
	if pos.Key == nil {
		return tx.Where(fmt.Sprintf("%s IS NULL AND id %s ?", col, cmp), pos.ID)
	}
	var key any = *pos.Key
	if col == "created_at" || col == "last_login_at" {
		t, _ := time.Parse(identity.TimeKeyLayout, *pos.Key) // checked by NormalizeUserQuery
		key = newTimestamp(t)
	}
	// A row value comparison, which both databases turn into a range
	// scan of the (key, id) index.
	cond := fmt.Sprintf("(%s, id) %s (?, ?)", col, cmp)
	if nullable {
		cond = fmt.Sprintf("((%[1]s, id) %[2]s (?, ?) OR %[1]s IS NULL)", col, cmp)
	}
	return tx.Where(cond, key, pos.ID)
}

// sortKey is r's value of the sort column as a cursor holds it.
func sortKey(r userRow, sort identity.UserSort) *string {
	var k string
	switch sort {
	case identity.SortLastLogin:
		if r.LastLoginAt.Time().IsZero() {
			return nil
		}
		k = r.LastLoginAt.Time().UTC().Format(identity.TimeKeyLayout)
	case identity.SortUsername:
		k = r.UsernameLower
	case identity.SortEmail:
		k = r.EmailLower
	default:
		k = r.CreatedAt.Time().UTC().Format(identity.TimeKeyLayout)
	}
	return &k
}

// escapeLike makes s match itself in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// LookupUsers implements identity.UserSearcher in one query.
func (s *UserStore) LookupUsers(ctx context.Context, keys []string) (identity.UserLookup, error) {
	if err := identity.CheckLookupKeys(keys); err != nil {
		return identity.UserLookup{}, err
	}
	var ids, emails []string
	for _, k := range keys {
		if id, ok := canonicalID(k); ok {
			ids = append(ids, id)
		} else {
			emails = append(emails, strings.ToLower(strings.TrimSpace(k)))
		}
	}
	var rows []userRow
	if len(keys) > 0 {
		tx := dbtx.DB(ctx, s.db).Omit("password_hash")
		switch {
		case len(ids) > 0 && len(emails) > 0:
			tx = tx.Where("id IN ? OR email_lower IN ?", ids, emails)
		case len(ids) > 0:
			tx = tx.Where("id IN ?", ids)
		default:
			tx = tx.Where("email_lower IN ?", emails)
		}
		if err := tx.Find(&rows).Error; err != nil {
			return identity.UserLookup{}, fmt.Errorf("sqlstore: look up users: %w", err)
		}
	}
	byID := make(map[string]bool, len(rows))
	byEmail := make(map[string]bool, len(rows))
	var res identity.UserLookup
	for i := range rows {
		u, err := rows[i].toUser()
		if err != nil {
			return identity.UserLookup{}, err
		}
		byID[rows[i].ID] = true
		if rows[i].EmailLower != "" {
			byEmail[rows[i].EmailLower] = true
		}
		res.Users = append(res.Users, u)
	}
	for _, k := range keys {
		if id, ok := canonicalID(k); ok {
			if !byID[id] {
				res.Missing = append(res.Missing, k)
			}
		} else if !byEmail[strings.ToLower(strings.TrimSpace(k))] {
			res.Missing = append(res.Missing, k)
		}
	}
	return res, nil
}
