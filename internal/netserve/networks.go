package netserve

import (
	"fmt"
	"net"

	"lightbox/internal/opt"
)

// SplitNetworks reads a comma-separated list of CIDRs (as flags and the
// registries store them), dropping empty items.
func SplitNetworks(s string) []string { return opt.List(s) }

// CheckNetworks reports the first entry that is not CIDR notation.
func CheckNetworks(cidrs []string) error {
	for _, c := range cidrs {
		if _, _, err := net.ParseCIDR(c); err != nil {
			return fmt.Errorf("allowed network %q is not CIDR notation", c)
		}
	}
	return nil
}

// InNetworks reports whether ip is inside one of cidrs; an empty list
// allows any address.
func InNetworks(cidrs []string, ip net.IP) bool {
	if len(cidrs) == 0 {
		return true
	}
	for _, c := range cidrs {
		if _, n, err := net.ParseCIDR(c); err == nil && ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}
