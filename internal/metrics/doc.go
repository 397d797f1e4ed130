// Package metrics exposes a node's Prometheus metrics: blob store latency
// and errors (whose commits are the instances ingested), assignment
// decisions and how long each took, whether this node leads the engine,
// worklist depths and the oldest waiting study, outbox backlog and lag,
// open critical-result loops, and the database pool. Counters are this
// node's; gauges read from the database describe the cluster, so any node
// can be scraped for them. No label carries patient data.
package metrics
