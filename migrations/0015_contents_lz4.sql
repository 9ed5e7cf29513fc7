-- Each message's content (about 10 KB of HTML and text) is compressed by
-- PostgreSQL as it is stored (TOAST). The default method, pglz, made that
-- compression the largest part of what keeping contents costs the blast;
-- lz4 compresses as well for markup at a fraction of the CPU. Values stored
-- earlier keep their method; a server built without lz4 keeps pglz.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE message_contents
            ALTER COLUMN html SET COMPRESSION lz4,
            ALTER COLUMN text SET COMPRESSION lz4,
            ALTER COLUMN headers SET COMPRESSION lz4;
    END IF;
END
$$;
