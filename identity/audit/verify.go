package audit

import (
	"context"
	"fmt"
)

// Problem names how the chain is broken.
type Problem string

// Problems Verify reports.
const (
	// ProblemHashMismatch: the entry's fields do not hash to its stored
	// hash; the row was edited.
	ProblemHashMismatch Problem = "hash mismatch"
	// ProblemGap: the entry with this Seq is missing; a row was deleted.
	ProblemGap Problem = "gap"
	// ProblemPrevMismatch: the entry's PrevHash is not its predecessor's
	// hash; rows were moved, swapped or re-hashed.
	ProblemPrevMismatch Problem = "prev mismatch"
	// ProblemTruncated: the chain ends before the head; the newest rows
	// were deleted, or the head was changed.
	ProblemTruncated Problem = "truncated"
)

// Report is the outcome of Verify.
type Report struct {
	OK         bool
	Checkpoint Link  // where verification started
	Head       Link  // the chain head as stored
	Checked    int64 // entries whose links were checked
	// When !OK: the first broken link.
	Seq     int64
	Problem Problem
	Detail  string
}

// verifyBatch is how many entries Verify reads at once.
const verifyBatch = 500

// Verify walks the chain in Seq order from the newest checkpoint and reports
// the first broken link, or OK with the number of entries checked. An error
// means the chain could not be read, not that it is broken. Appends may run
// alongside; a Prune running alongside can make Verify report a false gap, so
// run the two from the same scheduled job.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	cp, err := l.Store.Checkpoint(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	head, err := l.Store.Head(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	r := Report{Checkpoint: cp, Head: head}
	prev := cp
	for {
		batch, err := l.Store.Chain(ctx, prev.Seq, verifyBatch)
		if err != nil {
			return Report{}, fmt.Errorf("audit: verify: %w", err)
		}
		for i := range batch {
			if p, d := check(prev, &batch[i]); p != "" {
				r.Seq, r.Problem, r.Detail = prev.Seq+1, p, d
				if p != ProblemGap {
					r.Seq = batch[i].Seq
				}
				return r, nil
			}
			prev = Link{Seq: batch[i].Seq, Hash: batch[i].Hash}
			r.Checked++
		}
		if len(batch) < verifyBatch {
			break
		}
	}
	// Entries appended after Head was read would only make prev pass the
	// head; the head never moves back.
	if prev.Seq < head.Seq || prev.Seq == head.Seq && prev.Hash != head.Hash {
		r.Seq, r.Problem = prev.Seq+1, ProblemTruncated
		r.Detail = fmt.Sprintf("chain ends at seq %d, head is seq %d", prev.Seq, head.Seq)
		return r, nil
	}
	r.OK = true
	return r, nil
}

// check reports how e fails to follow prev, or "" when it does.
func check(prev Link, e *Entry) (Problem, string) {
	if e.Seq != prev.Seq+1 {
		return ProblemGap, fmt.Sprintf("seq %d follows seq %d", e.Seq, prev.Seq)
	}
	if e.PrevHash != prev.Hash {
		return ProblemPrevMismatch, fmt.Sprintf("prev hash %.12s…, predecessor's hash %.12s…", e.PrevHash, prev.Hash)
	}
	if got := e.ComputeHash(); got != e.Hash {
		return ProblemHashMismatch, fmt.Sprintf("stored hash %.12s…, fields hash to %.12s…", e.Hash, got)
	}
	return "", ""
}
