/**
 * The writer thread (writer-thread.ts starts it): its own connection to the collector's SQLite
 * file, and `ingestReports` for each batch the commit queue sends, one at a time, answering with the
 * outcomes. The main thread has already migrated the file; opening it here only checks the version.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteStorage } from '../storage/sqlite';
import { ingestReports } from './ingest';
import { toWireError, type WireOutcome, type WriterReply, type WriterRequest, type WriterWorkerData } from './writer-thread';

const { file, correlation } = workerData as WriterWorkerData;
const database = openSqliteStorage(file);
const port = parentPort!;

port.on('message', (request: WriterRequest) => {
  void ingestReports(database, request.batch, correlation).then(
    (outcomes) => {
      const wire: WireOutcome[] = outcomes.map((outcome) => (outcome.status === 'failed' ? { status: 'failed', error: toWireError(outcome.error) } : outcome));
      port.postMessage({ id: request.id, outcomes: wire } satisfies WriterReply);
    },
    (error: unknown) => port.postMessage({ id: request.id, error: toWireError(error) } satisfies WriterReply),
  );
});
