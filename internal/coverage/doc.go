// Package coverage computes the coverage gap map of a roster: for each hour
// of a window and each facility, whether some reader on shift could read
// its usual modalities (licensed in its state, privileged there, qualified,
// insured: the engine's own eligibility rules, model.Check), and for
// each gap the credential that would close it and who lacks only that.
//
// It answers a planning question from configuration alone (shifts and
// credentials, presence assumed): the simulator answers the volume
// question (TAT and breaches) from the same roster.
package coverage
