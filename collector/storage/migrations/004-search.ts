import type { CollectorMigration } from '../migration';

/**
 * Trigram indexes for the device search (a case-insensitive substring of hostname or device id),
 * so finding a few devices among 100,000 does not read every row.
 *
 * SQLite: an FTS5 table with the trigram tokenizer, kept in step with `devices` by triggers. Its
 * rowids come from `device_search_keys`, whose INTEGER PRIMARY KEY survives VACUUM (the devices
 * table's implicit rowid would not).
 *
 * PostgreSQL: GIN indexes with pg_trgm's operator class on lower(hostname) and lower(id). pg_trgm
 * ships with PostgreSQL (contrib) and is a trusted extension, so the database owner can create it;
 * where it is missing or not allowed, the step leaves a notice and no index, and search still works
 * by reading the table (storage/fleet.ts asks the same question either way).
 */
export const migration004Search: CollectorMigration = {
  version: 4,
  name: 'search',
  statements(dialect) {
    if (dialect === 'sqlite') {
      return [
        `CREATE TABLE device_search_keys (key INTEGER PRIMARY KEY, device_id TEXT NOT NULL UNIQUE) STRICT`,
        `CREATE VIRTUAL TABLE device_search USING fts5(hostname, device_id, tokenize = 'trigram')`,
        `INSERT INTO device_search_keys (device_id) SELECT id FROM devices ORDER BY id`,
        `INSERT INTO device_search (rowid, hostname, device_id) SELECT k.key, d.hostname, d.id FROM device_search_keys k JOIN devices d ON d.id = k.device_id`,
        `CREATE TRIGGER devices_search_insert AFTER INSERT ON devices BEGIN
           INSERT INTO device_search_keys (device_id) VALUES (new.id);
           INSERT INTO device_search (rowid, hostname, device_id) VALUES (last_insert_rowid(), new.hostname, new.id);
         END`,
        `CREATE TRIGGER devices_search_rename AFTER UPDATE OF hostname ON devices BEGIN
           UPDATE device_search SET hostname = new.hostname WHERE rowid = (SELECT key FROM device_search_keys WHERE device_id = new.id);
         END`,
        `CREATE TRIGGER devices_search_delete AFTER DELETE ON devices BEGIN
           DELETE FROM device_search WHERE rowid = (SELECT key FROM device_search_keys WHERE device_id = old.id);
           DELETE FROM device_search_keys WHERE device_id = old.id;
         END`,
      ];
    }
    return [
      `DO $$ BEGIN
         CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
       EXCEPTION WHEN OTHERS THEN
         RAISE NOTICE 'pg_trgm is not available (%): device search reads the devices table', SQLERRM;
       END $$`,
      // The operator class lives in whichever schema the extension was first created in.
      `DO $$ DECLARE home TEXT; BEGIN
         SELECT n.nspname INTO home FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
         IF home IS NOT NULL THEN
           EXECUTE format('CREATE INDEX devices_hostname_trigrams ON devices USING gin (lower(hostname) %I.gin_trgm_ops)', home);
           EXECUTE format('CREATE INDEX devices_id_trigrams ON devices USING gin (lower(id) %I.gin_trgm_ops)', home);
         END IF;
       END $$`,
    ];
  },
};
