-- stage_flows keeps the lifecycle history's counts: per month, its
-- customers by their stage then (to_stage) and the month before
-- (from_stage, '' for none), as customer_stages holds them. Recording a
-- month's stages rewrites that month's flows and the next month's, and an
-- erasure takes the customer out of every month's, so the history reads a
-- few rows a month instead of joining every customer's stage to the month
-- before (2 s for a single month of a million customers). No row names a
-- customer.
CREATE TABLE stage_flows (
    month      date NOT NULL,
    from_stage text NOT NULL,
    to_stage   text NOT NULL,
    customers  integer NOT NULL,
    PRIMARY KEY (month, from_stage, to_stage)
);

INSERT INTO stage_flows (month, from_stage, to_stage, customers)
SELECT cur.month, coalesce(prev.stage, ''), cur.stage, count(*)
FROM customer_stages cur
LEFT JOIN customer_stages prev ON prev.customer_id = cur.customer_id
    AND prev.month = (cur.month - interval '1 month')::date
GROUP BY 1, 2, 3;
