package auth

import "net/http"

// ContentSecurityPolicy is the policy SecurityHeaders sends: scripts and
// styles only from the origin (no inline script), images also from data:
// and blob: URLs (rendered frames), no framing. 'wasm-unsafe-eval' lets the
// viewer compile its same-origin WebAssembly image decoders (it permits
// WebAssembly only, not eval of JavaScript). style-src-attr allows style
// attributes only (Cornerstone's measurement labels set one), never <style>.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// SecurityHeaders adds browser hardening headers to every response: CSP,
// nosniff, no referrer, no framing, and HSTS (two years) when the request
// came over TLS or forceHSTS is set (TLS terminated by a proxy).
func SecurityHeaders(next http.Handler, forceHSTS bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if r.TLS != nil || forceHSTS {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}
