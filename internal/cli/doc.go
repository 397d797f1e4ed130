// Package cli implements the lightbox command: one file per subcommand,
// each parsing its flags with the shared precedence rule (flag, environment,
// config file, default) and calling into the domain and server packages.
package cli
