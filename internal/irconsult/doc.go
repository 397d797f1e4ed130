// Package irconsult keeps interventional radiology teleconsults: a request
// from a reader's report ("IR candidate: active bleed / high-risk PE /
// abscess for drainage") or from a facility's clinician, with the question
// and urgency, routed to the interventional radiologist on call for the
// facility's region (internal/roster on-call lists, subspecialty
// "ir-<region>" falling back to "ir"); the consultant accepts it, records
// the imaging reviewed and a recommendation, and closes it with the
// decision (transfer, with the receiving centre, or local management).
// Every step is timestamped. A consult exports as a FHIR R4 ServiceRequest
// (the request and its status) and a DocumentReference (the consult note).
package irconsult
