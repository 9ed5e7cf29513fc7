-- Tallies the refresh keeps, so a report over a year sums a few thousand
-- kept rows instead of reading every survey invitation, ledger row and
-- purchase of the year. Each refresh rewrites them whole, up to the moment
-- it ran (report_tallies.through); a report adds what happened since, and
-- the parts of days or months its period cuts, counted live. Days and
-- months are UTC. No row names a customer.
CREATE TABLE report_tallies (
    report  text PRIMARY KEY,
    through timestamptz NOT NULL
);

-- survey_days: invitations sent (invite) and answers given per day, by what
-- the NPS and CSAT reports group by. survey is the answer's kind, '' for an
-- invitation nobody had answered at the refresh; score is the answer's
-- (NULL for an invitation); n is how many.
CREATE TABLE survey_days (
    day     date NOT NULL,
    invite  boolean NOT NULL,
    survey  text NOT NULL,
    trigger text NOT NULL,
    locale  text NOT NULL,
    tier    text NOT NULL,
    score   integer,
    n       integer NOT NULL
);
CREATE INDEX survey_days_day ON survey_days (day);

-- delivery_days: ledger rows created per day by outcome, and the
-- unsubscribes credited to them (unsubscribe, on the day it happened), by
-- what the deliverability report groups by.
CREATE TABLE delivery_days (
    day         date NOT NULL,
    unsubscribe boolean NOT NULL,
    status      text NOT NULL,
    delivery    text NOT NULL,
    topic       text NOT NULL,
    template    text NOT NULL,
    domain      text NOT NULL,
    n           integer NOT NULL
);
CREATE INDEX delivery_days_day ON delivery_days (day);

-- What a report counts live is a few hours of invitations: read them by
-- the time they went out rather than every invitation of the survey journey.
CREATE INDEX messages_survey_invites ON messages ((coalesce(sent_at, created_at)))
    WHERE journey = 'survey' AND step = 'survey' AND status = 'sent';

-- retention_months: of the customers whose first purchase was in cohort (a
-- month), how many purchased in month; month = cohort is the cohort's size.
-- Complete months before the refresh only.
CREATE TABLE retention_months (
    cohort    date NOT NULL,
    month     date NOT NULL,
    customers integer NOT NULL,
    PRIMARY KEY (cohort, month)
);

-- churn_months: the churn report's counts of the complete calendar months
-- before the refresh, for the default window of days.
CREATE TABLE churn_months (
    month           date NOT NULL,
    days            integer NOT NULL,
    active_at_start integer NOT NULL,
    churned         integer NOT NULL,
    active_at_end   integer NOT NULL,
    gained          integer NOT NULL,
    PRIMARY KEY (month, days)
);
