/**
 * Ingest baseline 1: bare Fastify answering GET / with a small JSON object, on 127.0.0.1.
 * The ceiling of this machine's HTTP stack with one Node process serving.
 */
import Fastify from 'fastify';
import { serve } from './protocol';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
serve({}, () => app.close(), { port: typeof address === 'object' && address ? address.port : 0 });
