package identity

// SetWaitHook makes p call f whenever a caller starts to wait for a
// worker, so tests know it is queued.
func SetWaitHook(p *Pool, f func()) { p.onWait = f }
