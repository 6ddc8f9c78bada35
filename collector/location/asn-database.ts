/**
 * Offline IP → ASN and country lookups over the `@ip-location-db/asn` and
 * `@ip-location-db/asn-country` npm packages (sorted, non-overlapping ranges in CSV: RouteViews and
 * DB-IP data for ASN, CC-BY 4.0 / CC0; updated on the registry several times a week). The numeric
 * CSV variants (`*-num.csv`) are loaded into typed arrays once and searched by binary search, so a
 * lookup costs microseconds and nothing leaves the collector. Plain CSV needs no reader library;
 * the packages' mmdb variants would need one and hold the same data.
 *
 * The database folder(s) come from `--asn-database` / TELLTALE_ASN_DATABASE_DIR, else the installed
 * packages. Each folder is searched for the four file names below.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { isIPv4, isIPv6 } from 'node:net';

const FILES = {
  asn4: 'asn-ipv4-num.csv',
  asn6: 'asn-ipv6-num.csv',
  country4: 'asn-country-ipv4-num.csv',
  country6: 'asn-country-ipv6-num.csv',
} as const;

/** What the database says about one address. */
export interface AsnRecord {
  readonly asn: number | null;
  readonly organization: string | null;
  /** ISO 3166-1 alpha-2 country of the announcing network, upper case. */
  readonly country: string | null;
}

interface V4Table {
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  readonly values: readonly string[];
  readonly numbers: Int32Array;
}

interface V6Table {
  readonly starts: readonly bigint[];
  readonly ends: readonly bigint[];
  readonly values: readonly string[];
  readonly numbers: Int32Array;
}

/** The folders of the installed packages, or an empty list when they are not installed. */
export function defaultAsnDatabaseDirs(): string[] {
  const require = createRequire(import.meta.url);
  const dirs: string[] = [];
  for (const name of ['@ip-location-db/asn', '@ip-location-db/asn-country']) {
    try {
      dirs.push(path.dirname(require.resolve(`${name}/package.json`)));
    } catch {
      // Not installed: lookups answer null and the collector says so at start.
    }
  }
  return dirs;
}

interface Tables {
  readonly asn4: V4Table | null;
  readonly asn6: V6Table | null;
  readonly country4: V4Table | null;
  readonly country6: V6Table | null;
}

/** Tables already parsed, by file list: every collector in a process (tests, benches) shares them. */
const TABLE_CACHE = new Map<string, Tables>();

/**
 * The database over some folders. Files are found at construction (a missing database fails at
 * start) but parsed only on the first lookup of a public address, about a second and ~100 MB for
 * IPv4 and IPv6 together, and then shared process-wide.
 */
export class AsnDatabase {
  private tables: Tables | null = null;

  private constructor(
    private readonly files: { readonly asn4: string | null; readonly asn6: string | null; readonly country4: string | null; readonly country6: string | null },
    /** The folders, for the startup log. */
    readonly sources: readonly string[],
  ) {}

  /** A database over whichever of the four files the folders hold. Throws when none of them does. */
  static load(dirs: readonly string[]): AsnDatabase {
    const find = (file: string) => dirs.map((dir) => path.join(dir, file)).find((candidate) => fs.existsSync(candidate)) ?? null;
    const files = { asn4: find(FILES.asn4), asn6: find(FILES.asn6), country4: find(FILES.country4), country6: find(FILES.country6) };
    if (!files.asn4 && !files.asn6 && !files.country4 && !files.country6) {
      throw new Error(`No ASN database in ${dirs.join(', ') || '(no folder)'}: expected ${Object.values(FILES).join(', ')}`);
    }
    return new AsnDatabase(files, dirs);
  }

  /** An empty database: every lookup answers null (the collector runs without one). */
  static empty(): AsnDatabase {
    return new AsnDatabase({ asn4: null, asn6: null, country4: null, country6: null }, []);
  }

  get loaded(): boolean {
    return this.sources.length > 0;
  }

  private load(): Tables {
    if (this.tables) return this.tables;
    const key = JSON.stringify(this.files);
    let tables = TABLE_CACHE.get(key);
    if (!tables) {
      const { asn4, asn6, country4, country6 } = this.files;
      tables = {
        asn4: asn4 ? loadV4(asn4, true) : null,
        asn6: asn6 ? loadV6(asn6, true) : null,
        country4: country4 ? loadV4(country4, false) : null,
        country6: country6 ? loadV6(country6, false) : null,
      };
      TABLE_CACHE.set(key, tables);
    }
    this.tables = tables;
    return tables;
  }

  /** ASN, organisation and country of `ip`, or null when it is not an address or in no range. */
  lookup(ip: string): AsnRecord | null {
    const address = stripMappedV4(ip);
    if (!this.loaded || (!isIPv4(address) && !isIPv6(address))) return null;
    const { asn4, asn6, country4, country6 } = this.load();
    if (isIPv4(address)) {
      const value = ipv4Number(address);
      return record(asn4, asn4 ? findV4(asn4, value) : -1, country4, country4 ? findV4(country4, value) : -1);
    }
    const value = ipv6BigInt(address);
    return record(asn6, asn6 ? findV6(asn6, value) : -1, country6, country6 ? findV6(country6, value) : -1);
  }
}

function record(asnTable: V4Table | V6Table | null, asnIndex: number, countryTable: V4Table | V6Table | null, countryIndex: number): AsnRecord | null {
  if (asnIndex < 0 && countryIndex < 0) return null;
  return {
    asn: asnIndex >= 0 && asnTable ? asnTable.numbers[asnIndex]! : null,
    organization: asnIndex >= 0 && asnTable ? asnTable.values[asnIndex]! : null,
    country: countryIndex >= 0 && countryTable ? countryTable.values[countryIndex]! : null,
  };
}

/** Rows of a CSV file: start,end,(asn,org | country); the org may be quoted with embedded commas. */
function rows(file: string): string[][] {
  const out: string[][] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    const first = line.indexOf(',');
    const second = line.indexOf(',', first + 1);
    const rest = line.slice(second + 1);
    const third = rest.indexOf(',');
    const fields = [line.slice(0, first), line.slice(first + 1, second)];
    if (third < 0) fields.push(rest);
    else fields.push(rest.slice(0, third), unquote(rest.slice(third + 1)));
    out.push(fields);
  }
  return out;
}

function unquote(text: string): string {
  return text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1).replace(/""/g, '"') : text;
}

function loadV4(file: string, withAsn: boolean): V4Table {
  const data = rows(file);
  const starts = new Uint32Array(data.length);
  const ends = new Uint32Array(data.length);
  const numbers = new Int32Array(data.length);
  const values: string[] = [];
  data.forEach((row, index) => {
    starts[index] = Number(row[0]);
    ends[index] = Number(row[1]);
    numbers[index] = withAsn ? Number(row[2]) : 0;
    values.push(withAsn ? (row[3] ?? '') : (row[2] ?? '').toUpperCase());
  });
  return { starts, ends, numbers, values };
}

function loadV6(file: string, withAsn: boolean): V6Table {
  const data = rows(file);
  const numbers = new Int32Array(data.length);
  const starts: bigint[] = [];
  const ends: bigint[] = [];
  const values: string[] = [];
  data.forEach((row, index) => {
    starts.push(BigInt(row[0]!));
    ends.push(BigInt(row[1]!));
    numbers[index] = withAsn ? Number(row[2]) : 0;
    values.push(withAsn ? (row[3] ?? '') : (row[2] ?? '').toUpperCase());
  });
  return { starts, ends, numbers, values };
}

/** Index of the range holding `value` (ranges sorted by start, not overlapping), or -1. */
function findRange<T extends number | bigint>(starts: ArrayLike<T>, ends: ArrayLike<T>, value: T): number {
  let low = 0;
  let high = starts.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (starts[middle]! <= value) low = middle + 1;
    else high = middle - 1;
  }
  return high >= 0 && ends[high]! >= value ? high : -1;
}

function findV4(table: V4Table, value: number): number {
  return findRange<number>(table.starts, table.ends, value);
}

function findV6(table: V6Table, value: bigint): number {
  return findRange<bigint>(table.starts, table.ends, value);
}

/** `::ffff:1.2.3.4` (how a dual-stack socket reports an IPv4 peer) as `1.2.3.4`. */
export function stripMappedV4(ip: string): string {
  const match = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return match ? match[1]! : ip;
}

function ipv4Number(ip: string): number {
  return ip.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
}

function ipv6BigInt(ip: string): bigint {
  const [head = '', tail = ''] = ip.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === '' ? [] : tail.split(':');
  const expand = (parts: string[]) => parts.flatMap((part) => (part.includes('.') ? v4Groups(part) : [part]));
  const h = expand(headParts);
  const t = expand(tailParts);
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.reduce((sum, group) => (sum << 16n) + BigInt(parseInt(group || '0', 16)), 0n);
}

function v4Groups(dotted: string): string[] {
  const value = ipv4Number(dotted);
  return [((value >>> 16) & 0xffff).toString(16), (value & 0xffff).toString(16)];
}
