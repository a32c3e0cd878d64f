package config

// Usage configures the usage report (package identity/usage).
type Usage struct {
	// MinCell is the smallest count the report shows as it is: a count
	// from 1 to MinCell-1 could single a person out and is shown as
	// "< MinCell". 1 shows every count.
	MinCell int `yaml:"min_cell"`
}
