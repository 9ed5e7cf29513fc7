-- customer_stages is the lifecycle stage of every customer per month (UTC),
-- as the latest refresh of the month saw it: the refresh sweep writes the
-- current month's row of each customer, so a finished month keeps its
-- customers' stage at its end. The lifecycle report counts stages over time
-- and the flows between consecutive months from it.
CREATE TABLE customer_stages (
    month       date NOT NULL,
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    stage       text NOT NULL,
    PRIMARY KEY (month, customer_id)
);

-- Erasure deletes a customer's rows through the foreign key.
CREATE INDEX customer_stages_customer ON customer_stages (customer_id);
