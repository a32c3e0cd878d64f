package usage

import "context"

type fakeAdder struct {
	err error
	got []Delta
}

func (f *fakeAdder) AddCounts(_ context.Context, ds []Delta) error {
	if f.err != nil {
		return f.err
	}
	f.got = append(f.got, ds...)
	return nil
}
