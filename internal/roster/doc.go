// Package roster keeps the group's reading configuration in the database:
// each reader's credentials (licences, privileges, MQSA, shifts ...) as one
// validated document, and each facility's contract (SLA per priority, read
// type, Medicare) joined with the facility's identity. It imports and exports
// readers as JSON and licences/privileges as CSV for medical-staff offices.
package roster
