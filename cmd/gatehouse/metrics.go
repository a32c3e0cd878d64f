package main

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"gatehouse/identity"
	"gatehouse/oidc/ratelimit"
)

// metrics is the Prometheus registry of one server. It starts small:
// message delivery outcomes, password verifications, requests in flight,
// the rate limits' Redis fallback, plus the Go runtime and process
// collectors.
type metrics struct {
	registry *prometheus.Registry
	messages *prometheus.CounterVec
	inFlight prometheus.Gauge
	// The janitor's work by table (migrations/janitor).
	janitorDeleted *prometheus.CounterVec
	janitorErrors  *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_messages_total",
			Help: "Outbound e-mails and text messages by kind and delivery outcome (sent, retry, failed, expired: dropped unsent because its code or link had expired).",
		}, []string{"kind", "outcome"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gatehouse_http_requests_in_flight",
			Help: "HTTP requests being handled; scrapes of /metrics on the admin listener are not counted.",
		}),
		janitorDeleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_janitor_deleted_rows_total",
			Help: "Expired rows the janitor deleted, by table.",
		}, []string{"table"}),
		janitorErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_janitor_errors_total",
			Help: "Janitor passes whose purge of a table failed, by table; the other tables are still purged.",
		}, []string{"table"}),
	}
	m.registry.MustRegister(m.messages, m.inFlight, m.janitorDeleted, m.janitorErrors, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observeHasher exports h's count of argon2id verifications, its moving
// average verification time (what an answer given without checking a
// password waits) and the state of its pool.
func (m *metrics) observeHasher(h *identity.Hasher) {
	m.registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "gatehouse_password_verifications_total",
			Help: "Passwords checked against an argon2id hash, dummy checks for unknown accounts included.",
		}, func() float64 { return float64(h.Verifications()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_password_verify_seconds",
			Help: "Moving average of recent password verification times; sign-ins refused without a check wait this long.",
		}, func() float64 { return h.VerifyTime().Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_password_hash_running",
			Help: "Password hashes and checks running now; at most password.hash_workers.",
		}, func() float64 { return float64(h.Pool().Stats().Running) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_password_hash_waiting",
			Help: "Password hashes and checks waiting for a worker.",
		}, func() float64 { return float64(h.Pool().Stats().Waiting) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "gatehouse_password_hash_busy_total",
			Help: "Requests answered 503 because no password hashing worker was free within password.hash_queue_timeout.",
		}, func() float64 { return float64(h.Pool().Stats().Refused) }),
	)
}

// observeBreaker exports whether the rate limits use their in-process
// fallback because Redis failed (b's breaker is open), and how many calls
// it answered; both stay 0 without Redis (b nil).
func (m *metrics) observeBreaker(b *ratelimit.Breaker) {
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_ratelimit_fallback",
			Help: "1 while rate limits and failure counters use in-process memory because Redis failed, else 0.",
		}, func() float64 {
			if b != nil && b.Fallback() {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "gatehouse_ratelimit_fallback_calls_total",
			Help: "Rate-limit and failure-counter calls answered from in-process memory while the Redis breaker was open.",
		}, func() float64 {
			if b == nil {
				return 0
			}
			return float64(b.Fallbacks())
		}),
	)
}

// observeMessage records a delivery outcome (message.Worker.Observe).
func (m *metrics) observeMessage(kind, outcome string) {
	m.messages.WithLabelValues(kind, outcome).Inc()
}

// observeJanitor records one table's purge (janitor.Janitor.Observe).
func (m *metrics) observeJanitor(table string, deleted int64, err error) {
	m.janitorDeleted.WithLabelValues(table).Add(float64(deleted))
	if err != nil {
		m.janitorErrors.WithLabelValues(table).Inc()
	}
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// countInFlight keeps the in-flight gauge: what a shutdown waits for. The
// admin listener's /metrics does not pass through it, so a scrape does not
// count itself.
func (m *metrics) countInFlight(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		return next(c)
	}
}
