// Package message delivers Gatehouse's transactional e-mails and text
// messages: it owns the outbound queue, the worker that drains it, and the
// senders that talk to an SMTP server or an SMS provider. The queue's rows
// live behind the Store interface; identity/message/sqlstore keeps them in
// the outbound_messages table.
//
// The flow:
//
//  1. A service calls Queue.SendMail or Queue.SendSMS (Queue implements
//     identity.Notifier). SendMail renders the mail through a Renderer (the
//     templates package) into a subject, a plain-text and an HTML body.
//     Either call only inserts a row with status queued and returns: the
//     user's request never waits for, or fails because of, an SMTP server
//     or SMS provider. It then nudges a Worker in the same process.
//  2. Worker.Run polls (and wakes on that nudge) and calls DeliverDue,
//     which claims one due row at a time: status queued with
//     next_attempt_at reached, or a sending row whose lease (locked_until)
//     ran out because its worker died. The claim is one atomic UPDATE …
//     RETURNING; on PostgreSQL its subquery takes the row FOR UPDATE SKIP
//     LOCKED, so several instances can share one database and never claim
//     the same row, and SQLite's single writer gives the same guarantee.
//     The claim counts the attempt and sets the lease.
//  3. The row goes to the EmailSender or SMSSender. On success it becomes
//     sent and its subject and bodies are blanked: they hold one-time codes
//     and links, which must not stay at rest longer than needed. On failure
//     it returns to queued with exponential backoff and jitter (capped at a
//     few minutes); an ErrUndeliverable answer makes it failed at once,
//     blanked too. A row is never sent stale: one older than Worker.MaxAge
//     is failed, and one whose code or link has expired (expires_at, given
//     at enqueue time) is dropped with a log line, both unsent. The attempt
//     count fences every update, so a worker whose lease ran out cannot
//     overwrite the outcome of the worker that took the row over.
//  4. A failing transport (the SMTP server, the SMS provider) is probed
//     every Worker.ProbeInterval with its waiting message due soonest, and
//     once a delivery succeeds after failures the messages waiting for the
//     same transport are due at once (schedule.go), so the queue drains
//     promptly when a server returns, whatever each message's backoff.
//  5. Queue.Purge, run by the server's janitor, deletes sent and failed
//     rows older than DefaultRetention; until then their metadata (kind,
//     recipient, status, attempts, times, a short last_error) stays for
//     operators.
//
// Because the queue is a table, a restart loses nothing: queued rows wait,
// and rows claimed by a process that died are claimed again once their
// lease runs out.
//
// The queue is a transactional outbox. The store joins the database
// transaction a context carries (migrations/dbtx), so a message queued
// inside a unit of work, a password reset's notice or a revoked session's
// logout token, is written exactly when the change that caused it commits,
// and a rolled-back change queues nothing. A new kind of outgoing item (an
// analytics event, a webhook to a customer) is one more kind of row, not a
// new mechanism: a kind name (added by a migration to the kinds the
// outbound_messages_kind constraint accepts), a Sender for it in
// Worker.Senders, and Queue.Post inside the unit of work that causes it. Claims, leases,
// retries with backoff, the stale check, the purge and the metrics by
// kind then apply to it as they are.
//
// Senders: NewEmailSender builds an SMTPSender from one URL
// (smtp://[user:pass@]host[:port] with STARTTLS when offered, required when
// there are credentials; smtps:// for implicit TLS), or a LogEmailSender
// when no URL is configured. NewSMSSender builds a LogSMSSender, a
// WebhookSMSSender or a TwilioSMSSender. The log senders are development
// delivery: they write the whole message, codes and links included, to
// the log, and are the only place where codes may appear in logs.
// Everywhere else (failures included) only the message id, kind and
// attempt count are logged; the error kept in last_error is built from
// status codes and provider error codes, never from a body.
//
// Back-channel logout tokens go to a URI the relying party registered, so
// HTTPLogoutSender posts them through the egress client: a destination its
// rules refuse (http, loopback, private networks) fails at once, for good,
// instead of being retried.
//
// The webhook request is a JSON POST of {"to", "text", "id"}, where id is
// the queue row's id and stays the same across retries, so a receiver can
// drop duplicates. It carries two headers: X-Gatehouse-Timestamp, the Unix
// time in seconds, and X-Gatehouse-Signature, "sha256=" followed by the
// hex HMAC-SHA256, under the shared secret, of the timestamp, a ".", and
// the body. A receiver recomputes the HMAC, compares it in constant time,
// and rejects timestamps more than a few minutes from its own clock, which
// stops replays.
package message
