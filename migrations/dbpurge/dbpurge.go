// Package dbpurge deletes rows in bounded batches, written once for
// PostgreSQL and SQLite alike: each statement removes at most Batch rows
// chosen by a subquery on the table's key, so no purge holds locks on a
// large table for long or builds one huge transaction, and other writers
// get in between batches.
package dbpurge

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"gatehouse/migrations/dbtx"
)

// Batch is how many rows one DELETE removes at most.
const Batch = 1000

// Delete removes the rows of table that match where (a condition with ?
// placeholders for args), at most batch per statement (zero: Batch),
// until a statement removes fewer. key lists the table's primary-key
// columns, such as "id" or "kind, signature". It returns how many rows it
// removed, also when an error or ctx stops it between batches.
func Delete(ctx context.Context, db *gorm.DB, table, key, where string, batch int, args ...any) (int64, error) {
	if batch <= 0 {
		batch = Batch
	}
	// Row values with IN work in both: PostgreSQL and SQLite 3.15+.
	q := fmt.Sprintf(`DELETE FROM %s WHERE (%s) IN (SELECT %s FROM %s WHERE %s LIMIT %d)`, table, key, key, table, where, batch)
	pool, err := dbtx.Pool(ctx, db)
	if err != nil {
		return 0, fmt.Errorf("purge %s: %w", table, err)
	}
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		res := pool.Exec(q, args...)
		if res.Error != nil {
			return total, fmt.Errorf("purge %s: %w", table, res.Error)
		}
		total += res.RowsAffected
		if res.RowsAffected < int64(batch) {
			return total, nil
		}
	}
}
