package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// CustomerSearch finds customers; every field set must match. Exact fields
// use their indexes, Name is a prefix of the first name or the last name
// ("ada" matches Ada and Adams; "ada lo" matches Ada Lovelace), Tag one of
// the tags.
type CustomerSearch struct {
	Email      string
	Phone      string
	ExternalID string
	Name       string
	Tag        string
	// After is the last ID of the previous page ("" for the first).
	After string
	Limit int
}

// SearchCustomers returns a page of matching customers in ID order and the
// cursor of the next page ("" at the end); erased customers' tombstones are
// never found. Keyset pagination keeps page 1,000 as cheap as page 1.
func (s *Store) SearchCustomers(ctx context.Context, q CustomerSearch) ([]Customer, string, error) {
	q.Limit = pageSize(q.Limit, 50, 500)
	after := "00000000-0000-0000-0000-000000000000"
	if q.After != "" {
		if _, err := uuid.Parse(q.After); err != nil {
			return nil, "", ErrBadCursor
		}
		after = q.After
	}
	// Only the conditions given, so each finds its own index; matches are
	// gathered first and then sorted, since the planner would otherwise walk
	// the primary key past a million rows to find one email.
	args := []any{after, q.Limit + 1}
	var conds []string
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "$?", fmt.Sprintf("$%d", len(args))))
	}
	if q.Email != "" {
		add("lower(email) = lower($?)", q.Email)
	}
	if q.Phone != "" {
		add("phone = $?", q.Phone)
	}
	if q.ExternalID != "" {
		add("external_id = $?", q.ExternalID)
	}
	exact := len(conds) > 0
	if q.Tag != "" {
		add("tags @> ARRAY[$?]", q.Tag)
	}
	switch first, last := namePrefixes(q.Name); {
	case last != "":
		add("lower(first_name) LIKE $? || '%'", first)
		add("lower(last_name) LIKE $? || '%'", last)
	case first != "":
		add("(lower(first_name) LIKE $? || '%' OR lower(last_name) LIKE $? || '%')", first)
	}
	if len(conds) == 0 {
		cs, err := rowsOf[Customer](ctx, s.pool, `SELECT `+customerColumns+` FROM customers
			WHERE id > $1 AND external_id NOT LIKE 'erased:%' ORDER BY id LIMIT $2`, args...)
		return page(cs, err, q.Limit)
	}
	where := strings.Join(conds, " AND ")
	if !exact {
		// A tag or a name prefix may match half the customers, and
		// gathering half a million rows to sort them takes seconds; the
		// next searchWindow customers in ID order hold a page of any
		// common match. Only when they do not (a rare match, which is few
		// rows to gather) is every match gathered.
		cs, err := rowsOf[Customer](ctx, s.pool, `SELECT `+customerColumns+` FROM (
				SELECT * FROM customers WHERE id > $1 ORDER BY id LIMIT `+fmt.Sprint(searchWindow)+`
			) customers WHERE `+where+` AND external_id NOT LIKE 'erased:%' ORDER BY id LIMIT $2`, args...)
		if err != nil || len(cs) > q.Limit {
			return page(cs, err, q.Limit)
		}
	}
	cs, err := rowsOf[Customer](ctx, s.pool, `WITH found AS MATERIALIZED (
			SELECT `+customerColumns+` FROM customers WHERE `+where+`)
		SELECT * FROM found WHERE id > $1 AND external_id NOT LIKE 'erased:%' ORDER BY id LIMIT $2`, args...)
	return page(cs, err, q.Limit)
}

// searchWindow is how many customers in ID order a tag or name search
// reads before it gathers every match instead.
const searchWindow = 5_000

// page cuts a search's limit+1 rows to a page and the next page's cursor.
func page(cs []Customer, err error, limit int) ([]Customer, string, error) {
	if err != nil {
		return nil, "", fmt.Errorf("search customers: %w", err)
	}
	cs, next := cutPage(cs, limit, func(last Customer) string { return last.ID })
	return cs, next, nil
}

// namePrefixes splits a name search into LIKE-safe lower-case prefixes: one
// word searches either name, two the first and the last.
func namePrefixes(name string) (first, last string) {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	words := strings.Fields(strings.ToLower(name))
	switch len(words) {
	case 0:
		return "", ""
	case 1:
		return esc.Replace(words[0]), ""
	}
	return esc.Replace(words[0]), esc.Replace(strings.Join(words[1:], " "))
}

// TimelineItem is one thing in a customer's history. Kind says which, and
// Detail holds what that kind records:
//   - event: type, event_id, properties
//   - message: id, journey, step, channel, template, topic, status, reason,
//     sent_at, test
//   - journey: journey, run_id, trigger, ended_at, outcome
//   - campaign: campaign, version, occurrence, run_id, holdout, variant, goal_event,
//     goal_at, finished_at, outcome
//   - conversion: journey, run_id, step, event_id, revenue, currency
//   - consent: channel, topic, status, source, actor
//   - survey: survey, score, comment, message_id
type TimelineItem struct {
	At     time.Time      `db:"at" json:"at"`
	Kind   string         `db:"kind" json:"kind"`
	Key    string         `db:"key" json:"-"`
	Detail map[string]any `db:"detail" json:"detail"`
}

// CustomerTimeline returns a page of a customer's history, newest first:
// events, messages with their status and reason, journey runs and campaign
// entries with their outcomes, conversions, consent changes and survey
// answers, and the cursor of the next page ("" at the end).
func (s *Store) CustomerTimeline(ctx context.Context, customerID, after string, limit int) ([]TimelineItem, string, error) {
	limit = pageSize(limit, 100, 500)
	var at time.Time
	var kind, key string
	if after != "" {
		var rest string
		var err error
		if at, rest, err = decodeCursor(after); err != nil {
			return nil, "", err
		}
		var ok bool
		if kind, key, ok = strings.Cut(rest, "\x00"); !ok {
			return nil, "", ErrBadCursor
		}
	}
	items, err := rowsOf[TimelineItem](ctx, s.pool, `
		SELECT at, kind, key, detail FROM (
			SELECT occurred_at AS at, 'event' AS kind, id::text AS key,
			       jsonb_build_object('type', type, 'event_id', event_id, 'properties', properties) AS detail
			FROM events WHERE customer_id = $1
			UNION ALL
			SELECT created_at, 'message', id::text,
			       jsonb_build_object('id', id, 'journey', journey, 'step', step, 'channel', channel, 'template', template,
			                          'topic', topic, 'status', status, 'reason', reason, 'sent_at', sent_at)
			FROM messages WHERE customer_id = $1
			UNION ALL
			SELECT started_at, 'journey', journey || '/' || run_id,
			       jsonb_build_object('journey', journey, 'run_id', run_id, 'trigger', trigger, 'ended_at', ended_at, 'outcome', outcome)
			FROM journey_runs WHERE customer_id = $1
			UNION ALL
			SELECT entered_at, 'campaign', campaign || '/' || occurrence,
			       jsonb_build_object('campaign', campaign, 'version', version, 'occurrence', occurrence, 'run_id', run_id, 'holdout', holdout,
			                          'variant', variant, 'goal_event', goal_event, 'goal_at', goal_at, 'finished_at', finished_at, 'outcome', outcome)
			FROM campaign_entries WHERE customer_id = $1
			UNION ALL
			SELECT converted_at, 'conversion', id::text,
			       jsonb_build_object('journey', journey, 'run_id', run_id, 'step', step, 'event_id', event_id, 'revenue', revenue, 'currency', currency)
			FROM conversions WHERE customer_id = $1
			UNION ALL
			SELECT changed_at, 'consent', id::text,
			       jsonb_build_object('channel', channel, 'topic', topic, 'status', status, 'source', source, 'actor', actor)
			FROM consent_changes WHERE customer_id = $1
			UNION ALL
			SELECT answered_at, 'survey', id::text,
			       jsonb_build_object('survey', survey, 'score', score, 'comment', comment, 'message_id', message_id)
			FROM survey_responses WHERE customer_id = $1
		) t
		WHERE $2::timestamptz IS NULL OR (at, kind, key) < ($2, $3, $4)
		ORDER BY at DESC, kind DESC, key DESC
		LIMIT $5`, customerID, nullTime(at), kind, key, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("timeline of customer %s: %w", customerID, err)
	}
	items, next := cutPage(items, limit, func(last TimelineItem) string { return encodeCursor(last.At, last.Kind+"\x00"+last.Key) })
	return items, next, nil
}
