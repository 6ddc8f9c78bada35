/**
 * Fleet-scale reads for IT: the device list (keyset-paged, sorted, filtered, searched), the incident
 * queue (open findings, newest change first) and findings pages. Every page is bounded and resumes
 * from an opaque cursor made of the last row's sort key, so page N costs the same as page 1 and a
 * row that changes between pages is neither lost nor shown twice in its sort position.
 */
import { RISK_RANK, type AnyFindingKind, type RiskLevel } from '../../common/findings';
import { FINDING_COLUMNS, toFinding, type FindingRow } from './findings';
import { integer, integerOrNull, text, textOrNull, type Queryable, type Row, type SqlValue } from './sql';

/** The device list's sort orders. */
export const DEVICE_SORTS = ['risk', 'last-seen', 'host'] as const;
export type DeviceSort = (typeof DEVICE_SORTS)[number];

/** Whether retired devices are listed. */
export const RETIRED_CHOICES = ['exclude', 'include', 'only'] as const;
export type RetiredChoice = (typeof RETIRED_CHOICES)[number];

/** One SQL condition with its bound values. */
export interface SqlCondition {
  readonly where: string;
  readonly params: readonly SqlValue[];
}

export interface DeviceQuery {
  readonly sort: DeviceSort;
  /** Devices whose (shown) risk is one of these. */
  readonly risk?: readonly RiskLevel[];
  /** Devices with an open finding of this kind. */
  readonly kind?: AnyFindingKind;
  /** Only silent (true) or only reporting (false) devices. */
  readonly silent?: boolean;
  readonly tag?: string;
  /** Case-insensitive substring of the hostname, a tag (e.g. `user:alice`) or the device id. */
  readonly search?: string;
  readonly retired: RetiredChoice;
  /** Conditions of registered filters (collector/device-filters.ts), on alias `d`. */
  readonly extra: readonly SqlCondition[];
  /** From the previous page's `nextCursor`. */
  readonly cursor: string | null;
  readonly limit: number;
  /** A device last seen before this is silent. */
  readonly silentBefore: number;
}

/** A device as the list shows it. */
export interface DeviceListRow {
  readonly id: string;
  readonly hostname: string;
  readonly platform: string;
  readonly agentVersion: string;
  readonly enrolledAt: number;
  readonly lastSeenAt: number;
  readonly headSeq: number;
  readonly risk: RiskLevel;
  readonly silent: boolean;
  readonly openFindings: number;
  readonly retiredAt: number | null;
  readonly tags: readonly string[];
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Pass back to get the next page; null on the last page. */
  readonly nextCursor: string | null;
}

const RANK_LEVEL = new Map<number, RiskLevel>(Object.entries(RISK_RANK).map(([level, rank]) => [rank, level as RiskLevel]));
const SILENT_RANK = RISK_RANK.medium;

/** The risk a device shows: its worst open finding, and medium when silent before the sweep records it. */
const SHOWN_RANK = `CASE WHEN d.last_seen_at < ? AND d.risk_rank < ${SILENT_RANK} THEN ${SILENT_RANK} ELSE d.risk_rank END`;
const SILENT_OPEN = `EXISTS (SELECT 1 FROM findings sf WHERE sf.kind = 'device-silent' AND sf.device_id = d.id AND sf.closed_at IS NULL)`;

interface SortSpec {
  readonly columns: readonly string[];
  readonly descending: boolean;
  key(row: Row): SqlValue[];
}

const SORTS: Readonly<Record<DeviceSort, SortSpec>> = {
  risk: { columns: ['d.risk_rank', 'd.last_seen_at', 'd.id'], descending: true, key: (row) => [integer(row, 'risk_rank'), integer(row, 'last_seen_at'), text(row, 'id')] },
  'last-seen': { columns: ['d.last_seen_at', 'd.id'], descending: true, key: (row) => [integer(row, 'last_seen_at'), text(row, 'id')] },
  host: { columns: ['d.hostname', 'd.id'], descending: false, key: (row) => [text(row, 'hostname'), text(row, 'id')] },
};

/** A malformed or foreign cursor. */
export class BadCursor extends Error {}

function encodeCursor(values: readonly SqlValue[]): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string, shape: readonly ('number' | 'string')[]): SqlValue[] {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new BadCursor('The cursor is not one this collector issued.');
  }
  if (!Array.isArray(values) || values.length !== shape.length || values.some((value, index) => typeof value !== shape[index])) {
    throw new BadCursor('The cursor does not belong to this sort order.');
  }
  return values as SqlValue[];
}

/** `%term%` for LIKE with its wildcards escaped (ESCAPE '\'). */
export function likeContains(term: string): string {
  return `%${term.toLowerCase().replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

/**
 * Devices whose shown risk is one of `levels`, written on the stored `risk_rank` so the
 * devices_risk_order index answers it: a silent device shows at least SILENT_RANK (see SHOWN_RANK).
 */
function shownRiskCondition(levels: readonly RiskLevel[], silentBefore: number): SqlCondition {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  for (const rank of new Set(levels.map((level) => RISK_RANK[level]))) {
    if (rank > SILENT_RANK) {
      parts.push('d.risk_rank = ?');
      params.push(rank);
    } else if (rank === SILENT_RANK) {
      parts.push('(d.risk_rank = ? OR (d.risk_rank < ? AND d.last_seen_at < ?))');
      params.push(rank, rank, silentBefore);
    } else {
      parts.push('(d.risk_rank = ? AND d.last_seen_at >= ?)');
      params.push(rank, silentBefore);
    }
  }
  return { where: `(${parts.join(' OR ')})`, params };
}

/** Most devices the trigram index may hand to the list query; a term matching more is a common one. */
export const SEARCH_CANDIDATES = 1000;

/**
 * The search term as a condition. A term of three characters or more first asks the trigram index
 * (migration 004) which devices can match. When that is at most SEARCH_CANDIDATES devices, the list
 * reads just those by primary key and sorts them. A commoner term, or a shorter one the index cannot
 * help with, is tested on rows as the list reads them in its sort order, which for a common term
 * fills a page after a few hundred rows. The LIKE test applies either way: the index only narrows
 * which rows are read, never what matches.
 */
async function searchCondition(db: Queryable, term: string): Promise<SqlCondition> {
  const pattern = likeContains(term);
  const matches: SqlCondition = {
    // The tag match is one uncorrelated subquery (evaluated once), not a lookup per device row.
    where: `(lower(d.hostname) LIKE ? ESCAPE '\\' OR lower(d.id) LIKE ? ESCAPE '\\' OR d.id IN (SELECT st.device_id FROM device_tags st WHERE lower(st.tag) LIKE ? ESCAPE '\\'))`,
    params: [pattern, pattern, pattern],
  };
  if ([...term].length < 3) return matches;
  const candidates = await searchCandidates(db, term, pattern);
  if (candidates === null) return matches;
  if (candidates.length === 0) return { where: '1 = 0', params: [] };
  return { where: `d.id IN (${candidates.map(() => '?').join(', ')}) AND ${matches.where}`, params: [...candidates, ...matches.params] };
}

/** Devices that may match `term` (a superset), or null when more than SEARCH_CANDIDATES do. */
async function searchCandidates(db: Queryable, term: string, pattern: string): Promise<string[] | null> {
  const limit = SEARCH_CANDIDATES + 1;
  const byName =
    db.dialect === 'sqlite'
      ? await db.all('SELECT device_id AS id FROM device_search WHERE device_search MATCH ? LIMIT ?', [ftsPhrase(term), limit])
      : await db.all(`SELECT id FROM devices WHERE lower(hostname) LIKE ? ESCAPE '\\' OR lower(id) LIKE ? ESCAPE '\\' LIMIT ?`, [pattern, pattern, limit]);
  if (byName.length > SEARCH_CANDIDATES) return null;
  const byTag = await db.all(`SELECT DISTINCT device_id AS id FROM device_tags WHERE lower(tag) LIKE ? ESCAPE '\\' LIMIT ?`, [pattern, limit]);
  const ids = new Set([...byName, ...byTag].map((row) => text(row, 'id')));
  return ids.size > SEARCH_CANDIDATES ? null : [...ids];
}

/** `term` as one FTS5 phrase: with the trigram tokenizer, a case-insensitive substring of a column. */
export function ftsPhrase(term: string): string {
  return `"${term.replace(/"/g, '""')}"`;
}

/** One page of the device list. */
export async function listDevicePage(db: Queryable, query: DeviceQuery): Promise<Page<DeviceListRow>> {
  const sort = SORTS[query.sort];
  const conditions: SqlCondition[] = [];
  if (query.retired === 'exclude') conditions.push({ where: 'd.retired_at IS NULL', params: [] });
  if (query.retired === 'only') conditions.push({ where: 'd.retired_at IS NOT NULL', params: [] });
  if (query.risk && query.risk.length > 0) {
    conditions.push(shownRiskCondition(query.risk, query.silentBefore));
  }
  if (query.kind !== undefined) {
    conditions.push({ where: 'EXISTS (SELECT 1 FROM findings kf WHERE kf.kind = ? AND kf.device_id = d.id AND kf.closed_at IS NULL)', params: [query.kind] });
  }
  if (query.silent !== undefined) {
    const silent = `(d.last_seen_at < ? OR ${SILENT_OPEN})`;
    conditions.push({ where: query.silent ? silent : `NOT ${silent}`, params: [query.silentBefore] });
  }
  if (query.tag !== undefined) conditions.push({ where: 'EXISTS (SELECT 1 FROM device_tags tt WHERE tt.tag = ? AND tt.device_id = d.id)', params: [query.tag] });
  if (query.search !== undefined && query.search !== '') conditions.push(await searchCondition(db, query.search));
  conditions.push(...query.extra);
  if (query.cursor !== null) {
    const after = decodeCursor(query.cursor, query.sort === 'host' ? ['string', 'string'] : query.sort === 'risk' ? ['number', 'number', 'string'] : ['number', 'string']);
    conditions.push({ where: `(${sort.columns.join(', ')}) ${sort.descending ? '<' : '>'} (${after.map(() => '?').join(', ')})`, params: after });
  }
  const direction = sort.descending ? 'DESC' : 'ASC';
  const where = conditions.length === 0 ? '' : `WHERE ${conditions.map((condition) => condition.where).join(' AND ')}`;
  const rows = await db.all(
    `SELECT d.id, d.hostname, d.platform, d.agent_version, d.enrolled_at, d.last_seen_at, d.head_seq, d.risk_rank, d.open_findings, d.retired_at,
       ${SHOWN_RANK} AS shown_rank, CASE WHEN d.last_seen_at < ? OR ${SILENT_OPEN} THEN 1 ELSE 0 END AS silent
     FROM devices d ${where}
     ORDER BY ${sort.columns.map((column) => `${column} ${direction}`).join(', ')}
     LIMIT ?`,
    [query.silentBefore, query.silentBefore, ...conditions.flatMap((condition) => condition.params), query.limit + 1],
  );
  const page = rows.slice(0, query.limit);
  const tags = await tagsOf(db, page.map((row) => text(row, 'id')));
  const last = page.at(-1);
  return {
    items: page.map((row) => ({
      id: text(row, 'id'),
      hostname: text(row, 'hostname'),
      platform: text(row, 'platform'),
      agentVersion: text(row, 'agent_version'),
      enrolledAt: integer(row, 'enrolled_at'),
      lastSeenAt: integer(row, 'last_seen_at'),
      headSeq: integer(row, 'head_seq'),
      risk: RANK_LEVEL.get(integer(row, 'shown_rank')) ?? 'none',
      silent: integer(row, 'silent') === 1,
      openFindings: integer(row, 'open_findings'),
      retiredAt: integerOrNull(row, 'retired_at'),
      tags: tags.get(text(row, 'id')) ?? [],
    })),
    nextCursor: rows.length > query.limit && last ? encodeCursor(sort.key(last)) : null,
  };
}

/** Tags of each of `deviceIds` (one query). */
export async function tagsOf(db: Queryable, deviceIds: readonly string[]): Promise<Map<string, string[]>> {
  const tags = new Map<string, string[]>();
  if (deviceIds.length === 0) return tags;
  const rows = await db.all(`SELECT device_id, tag FROM device_tags WHERE device_id IN (${deviceIds.map(() => '?').join(', ')}) ORDER BY tag`, deviceIds);
  for (const row of rows) {
    const list = tags.get(text(row, 'device_id')) ?? [];
    list.push(text(row, 'tag'));
    tags.set(text(row, 'device_id'), list);
  }
  return tags;
}

/** Devices per shown risk level, silent devices, and retired devices: the fleet at a glance. */
export async function fleetSummary(db: Queryable, silentBefore: number): Promise<{ byRisk: Record<RiskLevel, number>; silent: number; retired: number; total: number }> {
  const byRisk = Object.fromEntries(Object.keys(RISK_RANK).map((level) => [level, 0])) as Record<RiskLevel, number>;
  const rows = await db.all(`SELECT ${SHOWN_RANK} AS shown_rank, count(*) AS n FROM devices d WHERE d.retired_at IS NULL GROUP BY 1`, [silentBefore]);
  let total = 0;
  for (const row of rows) {
    const level = RANK_LEVEL.get(integer(row, 'shown_rank')) ?? 'none';
    byRisk[level] += integer(row, 'n');
    total += integer(row, 'n');
  }
  const silentRow = await db.get(`SELECT count(*) AS n FROM devices d WHERE d.retired_at IS NULL AND (d.last_seen_at < ? OR ${SILENT_OPEN})`, [silentBefore]);
  const retiredRow = await db.get('SELECT count(*) AS n FROM devices WHERE retired_at IS NOT NULL');
  return { byRisk, silent: silentRow ? integer(silentRow, 'n') : 0, retired: retiredRow ? integer(retiredRow, 'n') : 0, total };
}

/** IT's triage state of a finding; absent means new. */
export interface TriageState {
  readonly status: 'acknowledged' | 'resolved';
  readonly assignee: string | null;
  readonly reason: string | null;
  readonly updatedAt: number;
  readonly updatedBy: string;
}

/** A finding with its device's name and IT's triage state. */
export interface IncidentRow {
  readonly finding: FindingRow;
  readonly hostname: string;
  readonly triage: TriageState | null;
  /** An unexpired suppression covers it (only listed when asked for). */
  readonly suppressed: boolean;
}

export interface FindingPageQuery {
  /** Newest change first: rows with cursor below this (null for the newest). */
  readonly before: number | null;
  readonly limit: number;
  readonly deviceId?: string;
  readonly severity?: string;
  readonly kind?: AnyFindingKind;
  /** Only open findings (closed_at IS NULL). */
  readonly openOnly: boolean;
  /**
   * 'active' leaves out findings IT resolved or suppressed (the incident queue); 'all' lists them
   * with their state.
   */
  readonly triage: 'active' | 'all';
  /** List findings of retired devices too (one device's own page does). */
  readonly includeRetired: boolean;
  readonly now: number;
}

const FINDING_SELECT = FINDING_COLUMNS.split(', ').map((column) => `f.${column}`).join(', ');
const SUPPRESSED = `EXISTS (SELECT 1 FROM suppressions s WHERE s.kind = f.kind AND s.lifted_at IS NULL AND s.until_at > ?
  AND (s.device_id = f.device_id OR s.tag IN (SELECT dt.tag FROM device_tags dt WHERE dt.device_id = f.device_id)))`;

/**
 * Findings newest change first (cursor descending), paged by `before`: the incident queue when
 * `openOnly` and triage 'active'. A finding that is new or changes takes a cursor above every
 * other, so it is on the first page the next time anyone looks: nothing new can hide behind old rows.
 */
export async function listFindingPage(db: Queryable, query: FindingPageQuery): Promise<{ items: IncidentRow[]; nextBefore: number | null }> {
  const conditions: SqlCondition[] = query.includeRetired ? [] : [{ where: 'd.retired_at IS NULL', params: [] }];
  if (query.openOnly) conditions.push({ where: 'f.closed_at IS NULL', params: [] });
  if (query.before !== null) conditions.push({ where: 'f.cursor < ?', params: [query.before] });
  if (query.deviceId !== undefined) conditions.push({ where: 'f.device_id = ?', params: [query.deviceId] });
  if (query.severity !== undefined) conditions.push({ where: 'f.severity = ?', params: [query.severity] });
  if (query.kind !== undefined) conditions.push({ where: 'f.kind = ?', params: [query.kind] });
  if (query.triage === 'active') {
    conditions.push({ where: `(t.status IS NULL OR t.status <> 'resolved') AND NOT ${SUPPRESSED}`, params: [query.now] });
  }
  const rows = await db.all(
    `SELECT ${FINDING_SELECT}, d.hostname, t.status AS triage_status, t.assignee, t.reason, t.updated_at AS triage_at, t.updated_by,
       CASE WHEN ${SUPPRESSED} THEN 1 ELSE 0 END AS suppressed
     FROM findings f JOIN devices d ON d.id = f.device_id LEFT JOIN finding_triage t ON t.finding_id = f.id
     ${conditions.length === 0 ? '' : `WHERE ${conditions.map((condition) => condition.where).join(' AND ')}`}
     ORDER BY f.cursor DESC LIMIT ?`,
    [query.now, ...conditions.flatMap((condition) => condition.params), query.limit + 1],
  );
  const page = rows.slice(0, query.limit);
  return {
    items: page.map((row) => ({ finding: toFinding(row), hostname: text(row, 'hostname'), triage: triageOf(row), suppressed: integer(row, 'suppressed') === 1 })),
    nextBefore: rows.length > query.limit ? integer(page.at(-1)!, 'cursor') : null,
  };
}

function triageOf(row: Row): TriageState | null {
  const status = textOrNull(row, 'triage_status');
  if (status === null) return null;
  if (status !== 'acknowledged' && status !== 'resolved') throw new Error(`Unknown triage status ${status}`);
  return { status, assignee: textOrNull(row, 'assignee'), reason: textOrNull(row, 'reason'), updatedAt: integer(row, 'triage_at'), updatedBy: text(row, 'updated_by') };
}
