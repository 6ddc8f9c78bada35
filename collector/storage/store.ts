/**
 * The collector's reads, over SQLite or PostgreSQL: what the IT API and the agent routes' key lookup
 * need. Nothing here writes; enrollment, ingest and silence sweeps are in collector/ingest/ and run
 * their own transactions on `database`.
 */
import { listGaps, type ChainGapRow } from './chain-gaps';
import { findDeviceById, listDeviceRows, type DeviceRow } from './devices';
import { countOpenBySeverity, listDeviceFindings, listFindingsAfter, type FindingRow, type OpenFindingCount } from './findings';
import { findLink, findReport, listReportSummaries, type ReportRow, type ReportSummaryRow } from './reports';
import type { SqlDatabase } from './sql';

export class CollectorStore {
  constructor(readonly database: SqlDatabase) {}

  findDevice(id: string): Promise<DeviceRow | undefined> {
    return findDeviceById(this.database, id);
  }

  listDevices(): Promise<DeviceRow[]> {
    return listDeviceRows(this.database);
  }

  countOpenFindings(): Promise<OpenFindingCount[]> {
    return countOpenBySeverity(this.database);
  }

  listReports(deviceId: string, beforeSeq: number | null, limit: number): Promise<ReportSummaryRow[]> {
    return listReportSummaries(this.database, deviceId, beforeSeq, limit);
  }

  getReport(deviceId: string, seq: number): Promise<ReportRow | undefined> {
    return findReport(this.database, deviceId, seq);
  }

  /** The stored hash at `seq` (to check a report's link to its predecessor on read). */
  async getHash(deviceId: string, seq: number): Promise<string | undefined> {
    return (await findLink(this.database, deviceId, seq))?.hash;
  }

  listDeviceFindings(deviceId: string, limit: number): Promise<FindingRow[]> {
    return listDeviceFindings(this.database, deviceId, limit);
  }

  listFindingsAfter(cursor: number, limit: number): Promise<FindingRow[]> {
    return listFindingsAfter(this.database, cursor, limit);
  }

  listGaps(deviceId: string): Promise<ChainGapRow[]> {
    return listGaps(this.database, deviceId);
  }

  close(): Promise<void> {
    return this.database.close();
  }
}
