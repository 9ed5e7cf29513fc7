package spec

import (
	"regexp"
)

var (
	nameRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	topicRE     = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)
	poolRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	eventTypeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

// CheckName is the rule for what a marketer names (a campaign, a saved
// segment): lower-case letters, digits, - and _, at most 63, starting with
// a letter or digit, because names appear in workflow IDs, idempotency
// keys, URLs, file names and shells. kind ("campaign") starts the message.
func CheckName(kind, name string) error {
	if !nameRE.MatchString(name) {
		return Problemf("%s name %q: use lower-case letters, digits, - and _ (at most 63), starting with a letter or digit", kind, name)
	}
	return nil
}

// CheckPool is the rule for a coupon pool's name, wherever it is written
// (an import, a campaign's coupon_pool, a journey's parameter): lower-case
// letters, digits, - and _, at most 64, starting with a letter or digit.
func CheckPool(pool string) error {
	if !poolRE.MatchString(pool) {
		return Problemf("%q is not a pool name: 1 to 64 lower-case letters, digits, '-' and '_', starting with a letter or digit", pool)
	}
	return nil
}

// CheckTopic is the rule for a message topic, wherever it is written (the
// policy file, a consent change, a send step): lower-case letters, digits,
// - and _, at most 64, starting with a letter. Topics appear in
// unsubscribe and preference URLs.
func CheckTopic(topic string) error {
	if !topicRE.MatchString(topic) {
		return Problemf("topic %q: use lower-case letters, digits, - and _ (at most 64), starting with a letter", topic)
	}
	return nil
}

// CheckEventType is the rule for an event type, wherever it is written
// (the API, a campaign trigger, a segment, a setting), so nothing waits for
// an event that can never arrive: lower_snake_case letters, digits and _,
// at most 64, starting with a letter.
func CheckEventType(typ string) error {
	if !eventTypeRE.MatchString(typ) {
		return Problemf("%q must be lower_snake_case letters, digits and underscores (at most 64), starting with a letter", typ)
	}
	return nil
}
