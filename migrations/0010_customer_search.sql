-- Finding a customer by the start of a name, as people search the console
-- and the API ("ada", "ada lo"): byte-wise prefix indexes on the lower-cased
-- first and last names. Email, phone, external ID and tags are indexed
-- already.
CREATE INDEX customers_first_name_prefix ON customers (lower(first_name) text_pattern_ops);
CREATE INDEX customers_last_name_prefix ON customers (lower(last_name) text_pattern_ops);
