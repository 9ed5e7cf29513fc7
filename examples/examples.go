// Package examples holds the example files users start from, embedded so
// the console can offer them without a checkout of the repository.
package examples

import "embed"

// Campaigns are the example campaign files (campaigns/*.yaml), each
// commented to explain itself.
//
//go:embed campaigns/*.yaml
var Campaigns embed.FS

// Segments are the example segment files (segments/*.yaml and *.json).
//
//go:embed segments/*
var Segments embed.FS
