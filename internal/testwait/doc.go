// Package testwait polls a condition in tests that watch background work
// (delivery loops, forwarders, cluster leases) until it holds.
package testwait
