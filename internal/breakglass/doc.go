// Package breakglass keeps emergency access grants: a reader who must open
// a study outside their scope (a facility they hold no privileges at) gives
// a reason and receives a time-limited grant to that one study. The scope
// rule (internal/scope) honours active grants; the server audits every use
// and tells the privacy officer when a grant is made.
package breakglass
