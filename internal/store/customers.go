package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Customer is one person a company cares for. Email and Phone are empty when
// unknown; the aggregates are kept current by RecordEvents.
type Customer struct {
	ID              string         `db:"id" json:"id"`
	ExternalID      string         `db:"external_id" json:"external_id"`
	Email           string         `db:"email" json:"email,omitempty"`
	Phone           string         `db:"phone" json:"phone,omitempty"`
	FirstName       string         `db:"first_name" json:"first_name,omitempty"`
	LastName        string         `db:"last_name" json:"last_name,omitempty"`
	Locale          string         `db:"locale" json:"locale"`
	TimeZone        string         `db:"time_zone" json:"time_zone"`
	Birthday        *time.Time     `db:"birthday" json:"birthday,omitempty"`
	Country         string         `db:"country" json:"country,omitempty"`
	Region          string         `db:"region" json:"region,omitempty"`
	City            string         `db:"city" json:"city,omitempty"`
	Gender          string         `db:"gender" json:"gender,omitempty"`
	Tags            []string       `db:"tags" json:"tags"`
	Attributes      map[string]any `db:"attributes" json:"attributes"`
	OrdersCount     int            `db:"orders_count" json:"orders_count"`
	TotalSpent      float64        `db:"total_spent" json:"total_spent"`
	FirstPurchaseAt *time.Time     `db:"first_purchase_at" json:"first_purchase_at,omitempty"`
	LastPurchaseAt  *time.Time     `db:"last_purchase_at" json:"last_purchase_at,omitempty"`
	LastSeenAt      *time.Time     `db:"last_seen_at" json:"last_seen_at,omitempty"`
	CreatedAt       time.Time      `db:"created_at" json:"created_at"`
	UpdatedAt       time.Time      `db:"updated_at" json:"updated_at"`
}

// Location returns the customer's time zone, falling back to UTC for a zone
// the running binary does not know (zones are validated on the way in).
func (c Customer) Location() *time.Location {
	if loc, ok := zones.Load(c.TimeZone); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	zones.Store(c.TimeZone, loc)
	return loc
}

// zones caches loaded time zones by name. time.LoadLocation reads and
// parses the zone file on every call, which the send path would otherwise
// do for every message of a blast; zone data does not change while the
// process runs.
var zones sync.Map

// CustomerInput is a profile to upsert by ExternalID. A nil field leaves the
// stored value as it is, so a file with fewer columns never wipes data; an
// empty string clears email or phone. Attributes are merged key by key.
type CustomerInput struct {
	ExternalID string         `json:"external_id"`
	Email      *string        `json:"email,omitempty"`
	Phone      *string        `json:"phone,omitempty"`
	FirstName  *string        `json:"first_name,omitempty"`
	LastName   *string        `json:"last_name,omitempty"`
	Locale     *string        `json:"locale,omitempty"`
	TimeZone   *string        `json:"time_zone,omitempty"`
	Birthday   *string        `json:"birthday,omitempty"` // YYYY-MM-DD
	Country    *string        `json:"country,omitempty"`
	Region     *string        `json:"region,omitempty"`
	City       *string        `json:"city,omitempty"`
	Gender     *string        `json:"gender,omitempty"`
	Tags       []string       `json:"tags,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// Upsert outcomes.
const (
	Inserted  = "inserted"
	Updated   = "updated"
	Unchanged = "unchanged"
)

// UpsertResult says what happened to one input row.
type UpsertResult struct {
	ExternalID string `db:"external_id"`
	ID         string `db:"id"`
	Outcome    string `db:"outcome"`
}

// customerColumns selects a Customer in the order RowToStructByName expects
// nothing of: names match the db tags.
const customerColumns = `
	id, external_id, coalesce(email, '') AS email, coalesce(phone, '') AS phone,
	first_name, last_name, locale, time_zone, birthday, country, region, city, gender,
	tags, attributes, orders_count, total_spent::float8 AS total_spent,
	first_purchase_at, last_purchase_at, last_seen_at, created_at, updated_at`

// upsertCustomers merges a batch, passed as one array per column, into
// customers in one statement: rows that would not change are left alone (so
// re-importing a file changes nothing, not even updated_at), new rows are
// inserted. Column arrays cost the server less to decode than one JSON
// document, which matters for bulk imports.
const upsertCustomers = `
WITH r AS (
    SELECT u.external_id, u.email, u.phone, u.first_name, u.last_name, u.locale, u.time_zone,
        u.birthday::date AS birthday, u.country, u.region, u.city, u.gender,
        CASE WHEN u.tags IS NOT NULL THEN ARRAY(SELECT jsonb_array_elements_text(u.tags)) END AS tags,
        u.attributes
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::jsonb[], $14::jsonb[])
        AS u(external_id, email, phone, first_name, last_name, locale, time_zone,
             birthday, country, region, city, gender, tags, attributes)
), merged AS (
    SELECT r.external_id, c.id,
        CASE WHEN r.email IS NULL THEN c.email ELSE nullif(r.email, '') END AS email,
        CASE WHEN r.phone IS NULL THEN c.phone ELSE nullif(r.phone, '') END AS phone,
        coalesce(r.first_name, c.first_name, '') AS first_name,
        coalesce(r.last_name, c.last_name, '') AS last_name,
        coalesce(r.locale, c.locale, 'en') AS locale,
        coalesce(r.time_zone, c.time_zone, 'UTC') AS time_zone,
        coalesce(r.birthday, c.birthday) AS birthday,
        coalesce(r.country, c.country, '') AS country,
        coalesce(r.region, c.region, '') AS region,
        coalesce(r.city, c.city, '') AS city,
        coalesce(r.gender, c.gender, '') AS gender,
        coalesce(r.tags, c.tags, '{}') AS tags,
        coalesce(c.attributes, '{}') || coalesce(r.attributes, '{}') AS attributes
    FROM r LEFT JOIN customers c ON c.external_id = r.external_id
), upd AS (
    UPDATE customers c SET
        email = m.email, phone = m.phone, first_name = m.first_name, last_name = m.last_name,
        locale = m.locale, time_zone = m.time_zone, birthday = m.birthday, country = m.country,
        region = m.region, city = m.city, gender = m.gender, tags = m.tags,
        attributes = m.attributes, updated_at = now()
    FROM merged m
    WHERE c.id = m.id
      AND (c.email, c.phone, c.first_name, c.last_name, c.locale, c.time_zone, c.birthday,
           c.country, c.region, c.city, c.gender, c.tags, c.attributes)
          IS DISTINCT FROM
          (m.email, m.phone, m.first_name, m.last_name, m.locale, m.time_zone, m.birthday,
           m.country, m.region, m.city, m.gender, m.tags, m.attributes)
    RETURNING c.id, c.external_id
), ins AS (
    INSERT INTO customers (external_id, email, phone, first_name, last_name, locale, time_zone,
        birthday, country, region, city, gender, tags, attributes)
    SELECT external_id, email, phone, first_name, last_name, locale, time_zone,
        birthday, country, region, city, gender, tags, attributes
    FROM merged WHERE id IS NULL
    ON CONFLICT (external_id) DO NOTHING
    RETURNING id, external_id
)
SELECT external_id, id::text AS id, 'inserted' AS outcome FROM ins
UNION ALL
SELECT external_id, id::text, 'updated' FROM upd
UNION ALL
SELECT m.external_id, m.id::text, 'unchanged' FROM merged m
WHERE m.id IS NOT NULL AND m.id NOT IN (SELECT id FROM upd)`

// UpsertCustomers inserts or updates a batch of profiles in one statement and
// reports, per external ID, what happened. Inputs must be valid (see package
// validate) and carry distinct external IDs.
func (s *Store) UpsertCustomers(ctx context.Context, in []CustomerInput) ([]UpsertResult, error) {
	if len(in) == 0 {
		return nil, nil
	}
	seen := make(map[string]struct{}, len(in))
	for _, c := range in {
		if _, dup := seen[c.ExternalID]; dup {
			return nil, fmt.Errorf("upsert customers: external_id %q appears twice in one batch", c.ExternalID)
		}
		seen[c.ExternalID] = struct{}{}
	}
	args, err := upsertColumns(in)
	if err != nil {
		return nil, err
	}
	return list[UpsertResult](ctx, s.pool, fmt.Sprintf("upsert %d customers", len(in)), upsertCustomers, args...)
}

// upsertColumns turns a batch into the statement's column arrays. A nil
// field becomes NULL (keep the stored value); empty tags and attributes too.
func upsertColumns(in []CustomerInput) ([]any, error) {
	text := make([][]*string, 12)
	for i := range text {
		text[i] = make([]*string, len(in))
	}
	tags := make([][]byte, len(in))
	attrs := make([][]byte, len(in))
	for i := range in {
		c := &in[i]
		for col, v := range [...]*string{&c.ExternalID, c.Email, c.Phone, c.FirstName, c.LastName, c.Locale,
			c.TimeZone, c.Birthday, c.Country, c.Region, c.City, c.Gender} {
			text[col][i] = v
		}
		var err error
		if len(c.Tags) > 0 {
			if tags[i], err = json.Marshal(c.Tags); err != nil {
				return nil, fmt.Errorf("encode tags of customer %s: %w", c.ExternalID, err)
			}
		}
		if len(c.Attributes) > 0 {
			if attrs[i], err = json.Marshal(c.Attributes); err != nil {
				return nil, fmt.Errorf("encode attributes of customer %s: %w", c.ExternalID, err)
			}
		}
	}
	args := make([]any, 0, len(text)+2)
	for _, col := range text {
		args = append(args, col)
	}
	return append(args, tags, attrs), nil
}

// UpsertCustomer upserts one profile and returns it as stored.
func (s *Store) UpsertCustomer(ctx context.Context, in CustomerInput) (Customer, string, error) {
	res, err := s.UpsertCustomers(ctx, []CustomerInput{in})
	if err != nil {
		return Customer{}, "", err
	}
	if len(res) != 1 {
		return Customer{}, "", fmt.Errorf("upsert customer %s: lost a concurrent insert, retry", in.ExternalID)
	}
	c, err := s.Customer(ctx, res[0].ID)
	return c, res[0].Outcome, err
}

// Customer loads a customer by ID.
func (s *Store) Customer(ctx context.Context, id string) (Customer, error) {
	return s.oneCustomer(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = $1`, id)
}

// TimeZones maps each of ids that is a customer to their time zone, in one
// query: a campaign page needs no more of a profile to decide who is due.
func (s *Store) TimeZones(ctx context.Context, ids []string) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id::text, time_zone FROM customers WHERE id = ANY($1::uuid[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("load the time zones of %d customers: %w", len(ids), err)
	}
	out := make(map[string]string, len(ids))
	var id, zone string
	_, err = pgx.ForEachRow(rows, []any{&id, &zone}, func() error {
		out[id] = zone
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load the time zones of %d customers: %w", len(ids), err)
	}
	return out, nil
}

// CustomerByExternalID loads a customer by the client's own ID.
func (s *Store) CustomerByExternalID(ctx context.Context, externalID string) (Customer, error) {
	return s.oneCustomer(ctx, `SELECT `+customerColumns+` FROM customers WHERE external_id = $1`, externalID)
}

// CustomerIDsByKey resolves the keys a batch of events names customers
// with, in one query: a key that is a UUID matches a customer's ID first,
// any key then matches an external ID (as Customer, then
// CustomerByExternalID). Keys that match no customer, or an erased one, are
// absent. It reads two columns, not profiles: the events API resolves every
// batch it takes in this way.
func (s *Store) CustomerIDsByKey(ctx context.Context, keys []string) (map[string]string, error) {
	if len(keys) == 0 {
		return map[string]string{}, nil
	}
	var ids []string
	canonical := map[string]string{}
	for _, k := range keys {
		if u, err := uuid.Parse(k); err == nil {
			ids = append(ids, u.String())
			canonical[k] = u.String()
		}
	}
	rows, err := s.pool.Query(ctx, `SELECT id::text, external_id FROM customers
		WHERE id = ANY($1::uuid[]) OR external_id = ANY($2::text[])`, ids, keys)
	if err != nil {
		return nil, fmt.Errorf("resolve %d customers: %w", len(keys), err)
	}
	byID, byExternal := map[string]string{}, map[string]string{}
	var id, external string
	_, err = pgx.ForEachRow(rows, []any{&id, &external}, func() error {
		byID[id], byExternal[external] = external, id
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("resolve %d customers: %w", len(keys), err)
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		if ext, ok := byID[canonical[k]]; ok {
			if !strings.HasPrefix(ext, ErasedPrefix) {
				out[k] = canonical[k]
			}
		} else if id, ok := byExternal[k]; ok && !strings.HasPrefix(k, ErasedPrefix) {
			out[k] = id
		}
	}
	return out, nil
}

func (s *Store) oneCustomer(ctx context.Context, query, key string) (Customer, error) {
	return get[Customer](ctx, s.pool, fmt.Sprintf("customer %s", key), query, key)
}

// CustomerPage pages through customers in ID order with keyset pagination:
// pass the last ID of the previous page ("" for the first). Cost stays the
// same on page 1 and page 10,000.
func (s *Store) CustomerPage(ctx context.Context, after string, limit int) ([]Customer, error) {
	if after == "" {
		after = "00000000-0000-0000-0000-000000000000"
	}
	return list[Customer](ctx, s.pool, fmt.Sprintf("page customers after %s", after), `
		SELECT `+customerColumns+`
		FROM customers
		WHERE id > $1
		ORDER BY id
		LIMIT $2`, after, limit)
}

// AddCustomerTag adds a tag unless the customer already has it.
func (s *Store) AddCustomerTag(ctx context.Context, customerID, tag string) error {
	var found bool
	err := s.pool.QueryRow(ctx, `
		WITH upd AS (
			UPDATE customers SET tags = array_append(tags, $2), updated_at = now()
			WHERE id = $1 AND NOT ($2 = ANY (tags))
		)
		SELECT EXISTS (SELECT 1 FROM customers WHERE id = $1)`, customerID, tag).Scan(&found)
	if err != nil {
		return fmt.Errorf("tag customer %s %q: %w", customerID, tag, err)
	}
	if !found {
		return fmt.Errorf("tag customer %s: %w", customerID, ErrNotFound)
	}
	return nil
}

// RemoveCustomerTag removes a tag (a campaign's untag step).
func (s *Store) RemoveCustomerTag(ctx context.Context, customerID, tag string) error {
	ct, err := s.pool.Exec(ctx, `
		UPDATE customers SET tags = array_remove(tags, $2), updated_at = now() WHERE id = $1`, customerID, tag)
	if err != nil {
		return fmt.Errorf("untag customer %s %q: %w", customerID, tag, err)
	}
	if ct.RowsAffected() == 0 {
		return fmt.Errorf("untag customer %s: %w", customerID, ErrNotFound)
	}
	return nil
}
