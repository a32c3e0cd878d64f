package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strconv"
	"time"
)

// TimeLayout is how an entry's time enters the hash: fixed-width UTC with
// microseconds, PostgreSQL's precision, so an entry read back from either
// database hashes the same as when it was written.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// hashVersion starts every canonical encoding; a change of encoding gets a
// new version.
const hashVersion = "gatehouse-audit-v1"

// NormalTime returns t as stored: UTC, truncated to microseconds.
func NormalTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Seal makes e the entry after prevSeq/prevHash: it sets Seq, PrevHash,
// normalises Time and sets Hash. Stores call it while holding the chain head.
func Seal(e *Entry, prevSeq int64, prevHash string) {
	e.Seq = prevSeq + 1
	e.PrevHash = prevHash
	e.Time = NormalTime(e.Time)
	e.Hash = e.ComputeHash()
}

// ComputeHash returns hex(SHA-256(PrevHash || canonical(e))), where PrevHash
// is the predecessor's hash as its lower-case hex text and canonical(e) is a
// sequence of length-prefixed fields, each written as its byte length in
// decimal, ':', the bytes:
//
//	"gatehouse-audit-v1", Seq (decimal), Time (TimeLayout, UTC), ActorType,
//	ActorID, Subject, Action, Outcome, IP, UserAgent, RequestID,
//	the number of Details (decimal), then each key and its value in
//	ascending byte order of keys.
//
// Length prefixes make the encoding unambiguous ("ab"+"c" differs from
// "a"+"bc"); including Seq ties an entry to its position; nil and empty
// Details encode alike.
func (e *Entry) ComputeHash() string {
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	var buf []byte
	field := func(s string) {
		buf = strconv.AppendInt(buf, int64(len(s)), 10)
		buf = append(buf, ':')
		buf = append(buf, s...)
	}
	field(hashVersion)
	field(strconv.FormatInt(e.Seq, 10))
	field(NormalTime(e.Time).Format(TimeLayout))
	field(e.ActorType)
	field(e.ActorID)
	field(e.Subject)
	field(e.Action)
	field(e.Outcome)
	field(e.IP)
	field(e.UserAgent)
	field(e.RequestID)
	field(strconv.Itoa(len(e.Details)))
	for _, k := range slices.Sorted(maps.Keys(e.Details)) {
		field(k)
		field(e.Details[k])
	}
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil))
}
