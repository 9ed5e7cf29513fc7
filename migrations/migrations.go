// Package migrations holds the numbered, append-only SQL files that build the
// schema. They are embedded so the binary can migrate any database it reaches.
package migrations

import "embed"

// FS holds every NNNN_name.sql file; the number orders them and never changes
// once released.
//
//go:embed *.sql
var FS embed.FS
