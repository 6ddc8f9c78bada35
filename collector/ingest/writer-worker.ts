/**
 * The writer thread (writer-thread.ts starts it): its own connection to the collector's SQLite
 * file, and `ingestReports` for each batch the commit queue sends, one at a time, answering with the
 * outcomes. The main thread has already migrated the file; opening it here only checks the version.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteStorage } from '../storage/sqlite';
import { ingestReports, type BatchOutcome, type VerifiedReport } from './ingest';
import { fromWireReport, toWireError, type WireOutcome, type WriterReply, type WireReport, type WriterRequest, type WriterWorkerData } from './writer-thread';

const { file, correlation } = workerData as WriterWorkerData;
const database = openSqliteStorage(file);
const port = parentPort!;

port.on('message', (request: WriterRequest) => {
  if ('close' in request) {
    void database.close().finally(() => port.close());
    return;
  }
  void writeBatch(request.batch).then(
    (outcomes) => {
      const wire: WireOutcome[] = outcomes.map((outcome) => (outcome.status === 'failed' ? { status: 'failed', error: toWireError(outcome.error) } : outcome));
      port.postMessage({ id: request.id, outcomes: wire } satisfies WriterReply);
    },
    (error: unknown) => port.postMessage({ id: request.id, error: toWireError(error) } satisfies WriterReply),
  );
});

/** Parse each report back from its text and ingest the ones that parse; one that does not fails alone. */
async function writeBatch(batch: readonly WireReport[]): Promise<BatchOutcome[]> {
  const outcomes: (BatchOutcome | undefined)[] = new Array(batch.length);
  const parsed: VerifiedReport[] = [];
  const places: number[] = [];
  batch.forEach((wire, index) => {
    try {
      parsed.push(fromWireReport(wire));
      places.push(index);
    } catch (error) {
      outcomes[index] = { status: 'failed', error };
    }
  });
  const written = await ingestReports(database, parsed, correlation);
  written.forEach((outcome, index) => {
    outcomes[places[index]!] = outcome;
  });
  return outcomes as BatchOutcome[];
}
