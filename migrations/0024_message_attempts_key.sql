-- A message's attempts are only ever read by message (the message log, a
-- customer's export, erasure), so one index serves them all: the primary
-- key becomes (message_id, id), and the separate index on (message_id, id)
-- beside a primary key on id alone goes. Every outcome the send path
-- records writes an attempt row, so this is one index entry fewer per
-- message sent.
ALTER TABLE message_attempts DROP CONSTRAINT message_attempts_pkey;
DROP INDEX message_attempts_message;
ALTER TABLE message_attempts ADD PRIMARY KEY (message_id, id);
