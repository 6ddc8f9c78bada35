/**
 * The `collector_identity` table: the collector's own Ed25519 key, which signs each device's audit
 * feed. Created on first use and kept in the database, so it survives restarts and is shared by
 * every collector on the same PostgreSQL (agents pin it on first use and refuse any other).
 */
import crypto, { type KeyObject } from 'node:crypto';
import { text, type SqlDatabase } from './sql';

const AUDIT_KEY = 'audit-signing-key';

/** The audit signing key, made and stored (PKCS#8 PEM) the first time. */
export async function auditSigningKey(database: SqlDatabase, now: number): Promise<KeyObject> {
  const stored = await database.get('SELECT value FROM collector_identity WHERE name = ?', [AUDIT_KEY]);
  if (stored) return crypto.createPrivateKey(text(stored, 'value'));
  const pem = crypto.generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  // Two collectors starting together: the first insert wins and both use the stored key.
  await database.transaction((tx) => tx.run('INSERT INTO collector_identity (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING', [AUDIT_KEY, pem, now]));
  const row = await database.get('SELECT value FROM collector_identity WHERE name = ?', [AUDIT_KEY]);
  if (!row) throw new Error('The audit signing key was not stored');
  return crypto.createPrivateKey(text(row, 'value'));
}
