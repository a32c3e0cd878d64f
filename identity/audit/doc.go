// Package audit keeps Gatehouse's audit trail: an append-only,
// tamper-evident log of security events (logins, lockouts, password and
// profile changes, role and client changes, consents, revocations).
//
// Flow: a handler or service calls Log.Record with an Entry naming the actor,
// the subject, the Action and the Outcome. Record stamps the time from the
// injected clock (UTC, microseconds), strips secret-looking Details keys and
// hands the entry to the Store. The Store serialises appends (one chain head,
// locked per append) and calls Seal, which assigns the next sequence number,
// links the entry to its predecessor's hash and computes its own hash. Seal
// and Entry.ComputeHash in hash.go are the only place the hash is defined.
//
// Log.Verify walks the chain from the newest retention checkpoint and
// reports the first broken link: an edited row (hash mismatch), a deleted row
// (gap), a moved or swapped row (prev mismatch) or missing newest rows
// (truncated). Log.Prune deletes a prefix of old entries after recording a
// checkpoint, so what remains still verifies.
//
// The chain shows tampering by anyone who cannot also recompute every later
// hash and the head; anchoring the head outside the database (for example by
// logging Report.Head periodically) is what makes a wholesale rewrite
// detectable.
package audit
