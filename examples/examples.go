// Package examples holds the example files users start from, embedded so
// the console can offer them without a checkout of the repository.
package examples

import "embed"

// Campaigns are the example campaign files (campaigns/*.yaml), each
// commented to explain itself.
//
//go:embed campaigns/*.yaml
var Campaigns embed.FS
