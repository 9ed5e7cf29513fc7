package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// querier is what the row helpers read through: the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// rowsOf reads every row of query into a T by column name (the db tags). No
// row gives an empty slice, not nil, so JSON shows [] rather than null.
func rowsOf[T any](ctx context.Context, q querier, query string, args ...any) ([]T, error) {
	return collect(ctx, q, pgx.RowToStructByName[T], query, args...)
}

// valuesOf reads the one column of every row of query.
func valuesOf[T any](ctx context.Context, q querier, query string, args ...any) ([]T, error) {
	return collect(ctx, q, pgx.RowTo[T], query, args...)
}

func collect[T any](ctx context.Context, q querier, fn pgx.RowToFunc[T], query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, fn)
}

// rowOf reads the one row of query into a T by column name; ErrNotFound
// when there is none.
func rowOf[T any](ctx context.Context, q querier, query string, args ...any) (T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		var zero T
		return zero, err
	}
	out, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[T])
	if errors.Is(err, pgx.ErrNoRows) {
		return out, ErrNotFound
	}
	return out, err
}

// list is rowsOf for a method's whole answer, with the error naming what
// was asked ("list campaigns: ...").
func list[T any](ctx context.Context, q querier, what, query string, args ...any) ([]T, error) {
	out, err := rowsOf[T](ctx, q, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// listValues is valuesOf with the error naming what was asked.
func listValues[T any](ctx context.Context, q querier, what, query string, args ...any) ([]T, error) {
	out, err := valuesOf[T](ctx, q, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// get is rowOf for a method's whole answer: what names the row, so a missing
// one reads "campaign spring: not found" (errors.Is ErrNotFound) and a failed
// read "load campaign spring: ...".
func get[T any](ctx context.Context, q querier, what, query string, args ...any) (T, error) {
	out, err := rowOf[T](ctx, q, query, args...)
	if errors.Is(err, ErrNotFound) {
		return out, fmt.Errorf("%s: %w", what, err)
	}
	if err != nil {
		return out, fmt.Errorf("load %s: %w", what, err)
	}
	return out, nil
}
