/** IT token specs on the command line: NAME:TOKEN=scope+scope, `read` for every read scope, unknown scopes named. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseToken, UsageProblem } from '../../collector/cli-config';
import { IT_READ_SCOPES } from '../../collector/config';

test('token specs: a bare token reads, a name labels the audit log, read expands, unknown scopes are named', () => {
  assert.deepEqual(parseToken('a-token-of-sixteen-chars'), { token: 'a-token-of-sixteen-chars', scopes: [...IT_READ_SCOPES] });
  assert.deepEqual(parseToken('alice:a-token-of-sixteen-chars=read+findings:write'), {
    token: 'a-token-of-sixteen-chars',
    name: 'alice',
    scopes: [...IT_READ_SCOPES, 'findings:write'],
  });
  assert.deepEqual(parseToken('siem.bot:a-token-of-sixteen-chars=findings:read+audit:read').scopes, ['findings:read', 'audit:read']);
  assert.throws(() => parseToken('alice:a-token-of-sixteen-chars=read+everything'), (error: Error) => error instanceof UsageProblem && /everything/.test(error.message));
});
