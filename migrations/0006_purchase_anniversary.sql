-- The month*100+day of a customer's first purchase in their own time zone,
-- so the daily purchase-anniversary sweep finds today's anniversaries
-- through an index, the way the birthday sweep uses birthday_md.
ALTER TABLE customers ADD COLUMN first_purchase_md smallint GENERATED ALWAYS AS
    ((extract(month FROM first_purchase_at AT TIME ZONE time_zone) * 100
      + extract(day FROM first_purchase_at AT TIME ZONE time_zone))::smallint) STORED;

CREATE INDEX customers_first_purchase_md ON customers (first_purchase_md, id)
    WHERE first_purchase_md IS NOT NULL;
