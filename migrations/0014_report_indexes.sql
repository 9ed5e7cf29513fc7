-- The deliverability report reads a period's unsubscribes and the
-- retention triangle a period's first buyers; without these indexes each
-- would read every consent change or every customer.
CREATE INDEX consent_changes_unsubscribes ON consent_changes (changed_at)
    WHERE status = 'denied' AND source = 'unsubscribe_link';
CREATE INDEX customers_first_purchase_at ON customers (first_purchase_at) WHERE first_purchase_at IS NOT NULL;
