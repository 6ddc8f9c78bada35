import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_POLICY } from '../../common/policy';
import { loadPolicy, loadPolicyFile } from '../../agent/policy/load-policy';
import { tempDir } from '../helpers/temp-dir';

function write(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function errorOf(result: ReturnType<typeof loadPolicyFile>): { code: string; message: string } {
  assert.equal(result.ok, false, 'expected a failure');
  if (result.ok) throw new Error('unreachable');
  return result.error;
}

describe('policy loading', () => {
  it('names the file and the bad field path with the rule broken', (t) => {
    const file = write(tempDir(t), 'policy.json', JSON.stringify({ intervals: { scanSeconds: 1 } }));
    const error = errorOf(loadPolicyFile(file));
    assert.equal(error.code, 'POLICY_INVALID');
    assert.equal(error.message, `${file}: /intervals/scanSeconds must be >= 5`);
  });

  it('refuses a collector URL that would send reports over plain HTTP off this machine', (t) => {
    const dir = tempDir(t);
    const plain = write(dir, 'plain.json', JSON.stringify({ collectorUrl: 'http://collector.example.com' }));
    const error = errorOf(loadPolicyFile(plain));
    assert.equal(error.code, 'POLICY_INVALID');
    assert.match(error.message, new RegExp(`^${plain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: /collectorUrl: .*plain HTTP to a non-loopback host`));
    for (const allowed of ['https://collector.example.com', 'http://127.0.0.1:8080']) {
      const file = write(dir, 'ok.json', JSON.stringify({ collectorUrl: allowed }));
      const loaded = loadPolicyFile(file);
      assert.ok(loaded.ok && loaded.value.policy.collectorUrl === allowed, allowed);
    }
  });

  it('reports unknown settings, wrong types, maxima and nested array items', (t) => {
    const dir = tempDir(t);
    const cases: [unknown, string][] = [
      [{ intervals: { scanSecs: 10 } }, '/intervals/scanSecs is not a known setting'],
      [{ allowQuit: 'yes' }, '/allowQuit must be a boolean'],
      [{ retention: { maxDays: 5000 } }, '/retention/maxDays must be <= 3650'],
      [{ approvedTools: [{ catalogId: '' }] }, '/approvedTools/0/catalogId must be at least 1 character long'],
      [[], 'the policy must be an object'],
    ];
    for (const [value, expected] of cases) {
      const file = write(dir, 'policy.json', JSON.stringify(value));
      const error = errorOf(loadPolicyFile(file));
      assert.equal(error.code, 'POLICY_INVALID');
      assert.ok(error.message.startsWith(`${file}: `), error.message);
      assert.ok(error.message.includes(expected), `${error.message} should include ${expected}`);
    }
  });

  it('gives the line and column of malformed JSON', (t) => {
    const file = write(tempDir(t), 'policy.json', '{\n  "allowQuit": true,\n  "intervals" {}\n}\n');
    const error = errorOf(loadPolicyFile(file));
    assert.equal(error.code, 'POLICY_INVALID');
    assert.match(error.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON \\(line 3 column 15`));
  });

  it('reports an empty file as malformed, not as defaults', (t) => {
    const file = write(tempDir(t), 'policy.json', '');
    const error = errorOf(loadPolicyFile(file));
    assert.equal(error.code, 'POLICY_INVALID');
    assert.match(error.message, /line 1 column 1/);
  });

  it('fills defaults around the values given', (t) => {
    const file = write(tempDir(t), 'policy.json', JSON.stringify({ intervals: { windowSeconds: 10 }, allowQuit: true }));
    const result = loadPolicyFile(file);
    assert.ok(result.ok);
    assert.equal(result.value.source, file);
    assert.equal(result.value.policy.intervals.windowSeconds, 10);
    assert.equal(result.value.policy.intervals.windowKeystrokes, DEFAULT_POLICY.intervals.windowKeystrokes);
    assert.equal(result.value.policy.allowQuit, true);
  });

  it('uses defaults when the managed file is absent, but a missing --policy file is an error', (t) => {
    const dir = tempDir(t);
    const missing = path.join(dir, 'nope.json');
    const managed = loadPolicy({ managedFile: missing });
    assert.ok(managed.ok);
    assert.equal(managed.value.source, 'defaults');
    assert.deepEqual(managed.value.policy, DEFAULT_POLICY);
    const explicit = loadPolicy({ explicitFile: missing, managedFile: missing });
    const error = errorOf(explicit);
    assert.equal(error.code, 'POLICY_UNREADABLE');
    assert.equal(error.message, `${missing}: cannot read the policy (the file does not exist)`);
  });

  it('prefers --policy over the managed file, and reads the managed file when present', (t) => {
    const dir = tempDir(t);
    const managed = write(dir, 'managed.json', JSON.stringify({ intervals: { windowSeconds: 60 } }));
    const explicit = write(dir, 'explicit.json', JSON.stringify({ intervals: { windowSeconds: 20 } }));
    const both = loadPolicy({ explicitFile: explicit, managedFile: managed });
    assert.ok(both.ok);
    assert.equal(both.value.policy.intervals.windowSeconds, 20);
    const managedOnly = loadPolicy({ managedFile: managed });
    assert.ok(managedOnly.ok);
    assert.equal(managedOnly.value.source, managed);
    assert.equal(managedOnly.value.policy.intervals.windowSeconds, 60);
  });
});

describe('JSON error position', () => {
  it('locates common mistakes', async () => {
    const { findJsonErrorPosition } = await import('../../agent/policy/json-error-position');
    assert.equal(findJsonErrorPosition('{"a": [1, 2, {"b": null}], "c": "x\\n"}'), null);
    assert.deepEqual(findJsonErrorPosition('{"a": 1,}'), {
      offset: 8,
      line: 1,
      column: 9,
      reason: "expected a property name in double quotes but found '}'",
    });
    assert.equal(findJsonErrorPosition("{'a': 1}")?.column, 2);
    assert.deepEqual(findJsonErrorPosition('{\n "a": tru\n}'), { offset: 8, line: 2, column: 7, reason: "unexpected 't'" });
    assert.equal(findJsonErrorPosition('{"a": 1} x')?.reason, "unexpected 'x' after the end of the JSON value");
    assert.equal(findJsonErrorPosition('{"a": ')?.reason, 'unexpected end of input');
  });
});
