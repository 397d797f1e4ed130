// Package httpx holds the few helpers every HTTP edge shares, so JSON
// responses, error bodies and request decoding look the same on every route:
//
//   - JSON writes a response that is never cached (Cache-Control: no-store),
//     since almost every Lightbox response carries patient data;
//   - Error writes the one error body, {"error": message, "code": code};
//   - Decode reads a request body strictly (one value, no unknown fields,
//     bounded size) and reports a *DecodeError the edge answers with 400.
//
// It imports nothing of the domain; the edges (api, fhir, auth, report and
// critical handlers, server) call it.
package httpx
