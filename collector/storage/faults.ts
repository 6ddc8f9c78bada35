/**
 * Telling the storage's own faults (disk full, I/O error, read-only or corrupt file, database
 * unreachable) from bugs. A fault is not the client's doing and not ours to crash on: the request
 * gets 503 STORAGE_UNAVAILABLE with Retry-After, so the agent keeps the report and sends it again,
 * and /v1/health says degraded with the reason.
 */

/** SQLite result codes (extended codes start with these) that mean the file or its disk failed. */
const SQLITE_FAULTS: readonly [prefix: string, reason: string][] = [
  ['SQLITE_FULL', 'the disk is full'],
  ['SQLITE_IOERR', 'a disk I/O error'],
  ['SQLITE_READONLY', 'the database file is read-only'],
  ['SQLITE_CORRUPT', 'the database file is corrupt'],
  ['SQLITE_NOTADB', 'the database file is not a database'],
  ['SQLITE_CANTOPEN', 'the database file cannot be opened'],
  ['SQLITE_PROTOCOL', 'the database file lock protocol failed'],
];

/** PostgreSQL SQLSTATEs that mean the server, its disk or the connection failed. */
const POSTGRES_FAULTS: Readonly<Record<string, string>> = {
  '53000': 'PostgreSQL is out of resources',
  '53100': 'the PostgreSQL disk is full',
  '53200': 'PostgreSQL is out of memory',
  '53300': 'PostgreSQL has too many connections',
  '57P01': 'PostgreSQL is shutting down',
  '57P02': 'PostgreSQL crashed',
  '57P03': 'PostgreSQL is not accepting connections yet',
  '58030': 'a PostgreSQL disk I/O error',
  '25006': 'PostgreSQL is read-only',
  XX001: 'PostgreSQL found corrupt data',
  XX002: 'PostgreSQL found a corrupt index',
};

/** System error codes of a lost or refused database connection, or of the disk under it. */
const SYSTEM_FAULTS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'the database refused the connection',
  ECONNRESET: 'the database connection was reset',
  ETIMEDOUT: 'the database connection timed out',
  EHOSTUNREACH: 'the database host is unreachable',
  ENOTFOUND: 'the database host is unknown',
  EPIPE: 'the database connection broke',
  ENOSPC: 'the disk is full',
  EIO: 'a disk I/O error',
  EROFS: 'the file system is read-only',
};

/** pg's own messages for a connection it lost or could not get (they carry no code). */
const POSTGRES_CONNECTION_MESSAGE = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/**
 * Why `error` is the storage's fault, as "<reason> (<code>)", or null when it is not a storage
 * fault (a bug, a constraint, a bad query: those stay 500).
 */
export function storageFaultOf(error: unknown): string | null {
  const seen = new Set<unknown>();
  const visit = (candidate: unknown): string | null => {
    if (candidate === null || typeof candidate !== 'object' || seen.has(candidate)) return null;
    seen.add(candidate);
    const code = (candidate as { code?: unknown }).code;
    if (typeof code === 'string') {
      const sqlite = SQLITE_FAULTS.find(([prefix]) => code === prefix || code.startsWith(`${prefix}_`));
      if (sqlite) return `${sqlite[1]} (${code})`;
      const postgres = POSTGRES_FAULTS[code] ?? (/^08/.test(code) && code.length === 5 ? 'the PostgreSQL connection failed' : undefined);
      if (postgres) return `${postgres} (${code})`;
      const system = SYSTEM_FAULTS[code];
      if (system) return `${system} (${code})`;
    }
    const message = (candidate as { message?: unknown }).message;
    if (typeof message === 'string' && POSTGRES_CONNECTION_MESSAGE.test(message)) return `the database connection failed (${message.split('\n')[0]!.slice(0, 80)})`;
    // A refused connection to a name with several addresses is an AggregateError; a wrapped one has a cause.
    for (const inner of [...((candidate as { errors?: unknown }).errors instanceof Array ? (candidate as { errors: unknown[] }).errors : []), (candidate as { cause?: unknown }).cause]) {
      const found = visit(inner);
      if (found) return found;
    }
    return null;
  };
  return visit(error);
}
