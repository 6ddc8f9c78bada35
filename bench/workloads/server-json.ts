/**
 * Ingest baseline 2: bare Fastify that only parses the JSON body of POST /v1/reports (Fastify's
 * default parser) and answers a small ack, on 127.0.0.1. The collector adds schema validation,
 * canonicalization, Ed25519 verification, chain checks and the database write on top of this.
 */
import Fastify from 'fastify';
import { MAX_REPORT_BYTES } from '../../common/report';
import { serve } from './protocol';

const app = Fastify({ logger: false, bodyLimit: MAX_REPORT_BYTES + 4096 });
let parsed = 0;
app.post('/v1/reports', async (request) => {
  parsed += typeof request.body === 'object' && request.body !== null ? 1 : 0;
  return { status: 'stored', seq: parsed, gap: false, serverTime: Date.now() };
});
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
serve({ parsed: () => parsed }, () => app.close(), { port: typeof address === 'object' && address ? address.port : 0 });
