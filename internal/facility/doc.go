// Package facility keeps the hospitals and imaging centres a group reads
// for: their identity, US state, time zone and patient-ID issuer. Studies,
// orders, privileges and access scopes all hang off a facility ID.
package facility
