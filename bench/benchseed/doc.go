// Package benchseed fills an index with synthetic patients and studies for
// the query benchmarks (bench/dimseload, internal/dicomweb/bench): rows are
// inserted directly, in one transaction, bypassing ingest. Study i has
// accession ACC%07d, patient ID B%07d, a patient name from Families and a
// study date in 2025.
package benchseed
