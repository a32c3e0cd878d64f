// Package sqlstore implements captcha.SpentStore with gorm on PostgreSQL and
// SQLite, on the captcha_spent_challenges table of package migrations
// (00007_captcha.sql); nothing here creates or alters tables.
//
// Spending is one INSERT ... ON CONFLICT DO NOTHING: the primary key makes
// the first of any number of concurrent spends win and the rest affect no
// row, in both databases, without explicit locks.
package sqlstore
