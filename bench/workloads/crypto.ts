/**
 * Crypto row workload: the agent's ReportSigner (canonicalize, Ed25519 sign, hash, envelope) and
 * the collector's per-report check (canonicalBody + verifySignature) on a ~2 KB report body, KeyObjects
 * created once; against SHA-256 of the same bytes and against signing with the key re-created
 * from DER per operation. The op `measure` returns ops/s for every variant over `seconds`.
 */
import crypto from 'node:crypto';
import { canonicalize } from '../../protocol/canonical-json';
import { canonicalBody, ReportSigner, verifySignature } from '../../protocol/report-crypto';
import { generateDeviceKeys, reportBody } from '../lib/report-fixtures';
import { serve } from './protocol';

const keys = generateDeviceKeys();
const body = reportBody('bench-device', 42, 'a'.repeat(64), Date.now());
const bytes = Buffer.from(canonicalize(body), 'utf8');
const signer = new ReportSigner(keys.privateKey);
const signature = signer.sign(body).report.sig;
const privateDer = keys.privateKey.export({ format: 'der', type: 'pkcs8' });

/** Operations per second of `op`, run in batches until `seconds` of wall time have passed. */
function rate(op: () => void, seconds: number): number {
  for (let i = 0; i < 50; i++) op();
  let count = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    for (let i = 0; i < 50; i++) op();
    count += 50;
    now = process.hrtime.bigint();
  }
  return count / (Number(now - start) / 1e9);
}

serve(
  {
    measure(args) {
      const seconds = (args as { seconds: number }).seconds;
      let sink = 0;
      return {
        // Signing includes canonicalization: the agent signs a body object, not bytes.
        sign: rate(() => {
          sink += signer.sign(body).envelope.length;
        }, seconds),
        // What the collector does per report: canonical bytes and hash of the parsed body, then verify.
        verify: rate(() => {
          const canonical = canonicalBody(body)!;
          sink += verifySignature(keys.publicKey, canonical.bytes, signature) ? 1 : 0;
        }, seconds),
        sha256: rate(() => {
          sink += crypto.createHash('sha256').update(bytes).digest().length;
        }, seconds),
        signRecreatingKey: rate(() => {
          const key = crypto.createPrivateKey({ key: privateDer, format: 'der', type: 'pkcs8' });
          sink += crypto.sign(null, Buffer.from(canonicalize(body), 'utf8'), key).length;
        }, seconds),
        bodyBytes: bytes.length,
        sink,
      };
    },
  },
  () => undefined,
);
