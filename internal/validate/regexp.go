package validate

import "regexp"

var eventType = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
