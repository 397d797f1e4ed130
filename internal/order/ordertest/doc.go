// Package ordertest runs order tests on every test database with the two
// facilities their messages name (fac-a in Texas, fac-b in California),
// for package order and its HL7 adapter (internal/hl7order) alike.
package ordertest
