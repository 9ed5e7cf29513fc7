-- What the refresh keeps for the acquisition and customer value reports,
-- beside the tallies of 0025 and under the same rule: rewritten whole up to
-- the refresh's moment (report_tallies.through), no row naming a customer.

-- acquisition_days: the customers whose first signup event ever fell on
-- day (UTC), by that event's source ('' without one), and how many of them
-- had bought and what they had spent at the refresh.
CREATE TABLE acquisition_days (
    day     date NOT NULL,
    source  text NOT NULL,
    signups integer NOT NULL,
    buyers  integer NOT NULL,
    revenue numeric NOT NULL,
    PRIMARY KEY (day, source)
);

-- value_tallies: the customer value report's groups of buyers as of the
-- refresh: dimension total, cohort, tier or segment with label the cohort,
-- tier or saved segment's name. definition is a segment's definition as the
-- refresh counted it, so a segment changed since is counted again.
CREATE TABLE value_tallies (
    dimension  text NOT NULL,
    label      text NOT NULL,
    definition text NOT NULL,
    customers  integer NOT NULL,
    orders     bigint NOT NULL,
    revenue    double precision NOT NULL,
    years      double precision NOT NULL,
    mature     integer NOT NULL,
    lapsed     integer NOT NULL,
    PRIMARY KEY (dimension, label)
);
