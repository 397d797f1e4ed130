// Package config resolves command-line settings with one precedence rule:
// a flag given on the command line wins, then the environment variable
// LIGHTBOX_<FLAG> (upper case, dashes as underscores), then the config file
// (--config FILE or LIGHTBOX_CONFIG; lines of "flag = value", # comments),
// then the flag's default.
package config
