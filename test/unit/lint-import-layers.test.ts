import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { AGENT_RUNTIME_PACKAGES, checkImport, COLLECTOR_RUNTIME_PACKAGES, importLayersRule } from '../../tools/eslint/import-layers.js';

const root = path.resolve(import.meta.dirname, '../..');
const at = (file: string) => path.join(root, file);

describe('import-layers lint rule', () => {
  it('allows downward imports', () => {
    assert.equal(checkImport(at('agent/x.ts'), '../common/timing', root), null);
    assert.equal(checkImport(at('main/x.ts'), '../agent/store/database', root), null);
    assert.equal(checkImport(at('main/x.ts'), 'electron', root), null);
    assert.equal(checkImport(at('common/x.ts'), '@sinclair/typebox', root), null);
    assert.equal(checkImport(at('test/x.ts'), 'electron', root), null);
    assert.equal(checkImport(at('host/x.ts'), '../agent/view/view-model', root), null);
    assert.equal(checkImport(at('host/x.ts'), 'node:crypto', root), null);
    assert.equal(checkImport(at('main/x.ts'), '../host/agent-host-protocol', root), null);
    assert.equal(checkImport(at('main/x.ts'), '../host/agent-host-protocol.ts', root), null);
  });

  it('rejects upward and sideways imports', () => {
    assert.match(checkImport(at('agent/x.ts'), 'electron', root) ?? '', /may not import electron/);
    assert.match(checkImport(at('agent/x.ts'), '../main/tray', root) ?? '', /agent\/ may not import from main\//);
    assert.match(checkImport(at('collector/x.ts'), '../agent/store/database', root) ?? '', /from agent\//);
    assert.match(checkImport(at('common/x.ts'), 'node:fs', root) ?? '', /Node built-in/);
    assert.match(checkImport(at('common/x.ts'), 'fs', root) ?? '', /Node built-in/);
    assert.match(checkImport(at('renderer/x.ts'), '../agent/agent', root) ?? '', /from agent\//);
    assert.match(checkImport(at('renderer/x.ts'), 'better-sqlite3', root) ?? '', /package 'better-sqlite3'/);
    assert.match(checkImport(at('preload/x.ts'), 'node:path', root) ?? '', /Node built-in/);
    assert.match(checkImport(at('host/x.ts'), 'electron', root) ?? '', /host\/ may not import electron/);
    assert.match(checkImport(at('host/x.ts'), '../main/key-protector', root) ?? '', /host\/ may not import from main\//);
    assert.match(checkImport(at('agent/x.ts'), '../host/agent-host-protocol', root) ?? '', /agent\/ may not import from host\//);
    assert.match(checkImport(at('main/x.ts'), '../host/agent-host-core', root) ?? '', /main\/ may import from host\/ only host\/agent-host-protocol/);
  });

  it('keeps protocol/ under agent and collector, and above common', () => {
    assert.equal(checkImport(at('agent/report/x.ts'), '../../protocol/report-crypto', root), null);
    assert.equal(checkImport(at('collector/x.ts'), '../protocol/verify-pool', root), null);
    assert.equal(checkImport(at('protocol/x.ts'), 'node:crypto', root), null);
    assert.equal(checkImport(at('protocol/x.ts'), '../common/report', root), null);
    assert.match(checkImport(at('protocol/x.ts'), '../agent/agent', root) ?? '', /protocol\/ may not import from agent\//);
    assert.match(checkImport(at('protocol/x.ts'), '../collector/app', root) ?? '', /from collector\//);
    assert.match(checkImport(at('common/x.ts'), '../protocol/report-crypto', root) ?? '', /common\/ may not import from protocol\//);
    assert.match(checkImport(at('renderer/x.ts'), '../protocol/canonical-json', root) ?? '', /from protocol\//);
  });

  it('lets the agent load only the runtime packages it ships with', () => {
    for (const name of AGENT_RUNTIME_PACKAGES) assert.equal(checkImport(at('agent/x.ts'), name, root), null, name);
    assert.equal(checkImport(at('agent/x.ts'), '@sinclair/typebox/value', root), null);
    assert.match(checkImport(at('agent/x.ts'), 'esbuild', root) ?? '', /package 'esbuild'/);
    assert.match(checkImport(at('agent/x.ts'), 'fastify', root) ?? '', /package 'fastify'/);
    assert.match(checkImport(at('collector/x.ts'), 'autocannon', root) ?? '', /package 'autocannon'/);
  });

  it('allows only packages that package.json ships as dependencies', () => {
    const manifest = JSON.parse(fs.readFileSync(at('package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const name of [...AGENT_RUNTIME_PACKAGES, ...COLLECTOR_RUNTIME_PACKAGES]) {
      assert.ok(name in manifest.dependencies, `${name} is allowed at run time but is not a dependency`);
    }
  });

  it('treats the dashboard as its own DOM-only layer inside collector/, reading only the API shapes', () => {
    assert.match(checkImport(at('collector/dashboard/dashboard.js'), 'node:fs', root) ?? '', /collector\/dashboard\/ may not import Node built-in/);
    assert.match(checkImport(at('collector/dashboard/dashboard.js'), '../app', root) ?? '', /may import from collector\/ only collector\/schemas/);
    assert.equal(checkImport(at('collector/dashboard/main.ts'), '../schemas', root), null, 'the API response shapes');
    assert.equal(checkImport(at('collector/dashboard/main.ts'), '../../common/findings', root), null);
    assert.equal(checkImport(at('collector/app.ts'), 'node:fs', root), null);
  });

  it('keeps the lab and the bench independent of the tests', () => {
    assert.equal(checkImport(at('lab/x.ts'), '../agent/input/hook-source', root), null);
    assert.equal(checkImport(at('lab/x.ts'), '../common/timing', root), null);
    assert.equal(checkImport(at('lab/x.ts'), 'node:child_process', root), null);
    assert.equal(checkImport(at('bench/lib/x.ts'), '../../lab/injector', root), null);
    assert.equal(checkImport(at('bench/lib/x.ts'), '../../collector/app', root), null);
    assert.equal(checkImport(at('test/integration/x.ts'), '../../lab/injector', root), null);
    assert.match(checkImport(at('lab/x.ts'), '../test/helpers/tools', root) ?? '', /lab\/ may not import outside the layered folders/);
    assert.match(checkImport(at('bench/lib/x.ts'), '../../test/helpers/tools', root) ?? '', /bench\/ may not import outside the layered folders/);
    assert.match(checkImport(at('bench/x.ts'), '../test/lab/lab', root) ?? '', /bench\/ may not import outside/);
    assert.match(checkImport(at('lab/x.ts'), '../collector/app', root) ?? '', /lab\/ may not import from collector\//);
    assert.match(checkImport(at('lab/x.ts'), '../bench/lib/children', root) ?? '', /lab\/ may not import from bench\//);
    assert.match(checkImport(at('agent/x.ts'), '../lab/lab', root) ?? '', /agent\/ may not import from lab\//);
  });

  it('lets the collector lab import the collector but not the agent, the detector lab or the tests', () => {
    assert.equal(checkImport(at('lab/collector/x.ts'), '../../collector/app', root), null);
    assert.equal(checkImport(at('lab/collector/x.ts'), '../../protocol/report-crypto', root), null);
    assert.equal(checkImport(at('lab/collector/x.ts'), './harness', root), null);
    assert.equal(checkImport(at('bench/groups/x.ts'), '../../lab/collector/fuzz', root), null);
    assert.equal(checkImport(at('test/unit/x.ts'), '../../lab/collector/fuzz', root), null);
    assert.match(checkImport(at('lab/collector/x.ts'), '../../agent/sync/backoff', root) ?? '', /lab\/collector\/ may not import from agent\//);
    assert.match(checkImport(at('lab/collector/x.ts'), '../injector', root) ?? '', /lab\/collector\/ may not import from lab\//);
    assert.match(checkImport(at('lab/collector/x.ts'), '../../test/helpers/tools', root) ?? '', /lab\/collector\/ may not import outside the layered folders/);
    assert.match(checkImport(at('collector/x.ts'), '../lab/collector/harness', root) ?? '', /collector\/ may not import from lab\/collector\//);
    assert.match(checkImport(at('lab/x.ts'), './collector/fuzz', root) ?? '', /lab\/ may not import from lab\/collector\//);
  });

  describe('reports through ESLint on real source text', () => {
    RuleTester.describe = describe;
    RuleTester.it = it;
    RuleTester.itOnly = it.only;
    const tester = new RuleTester({ languageOptions: { parser: tseslint.parser } });
    tester.run('import-layers', importLayersRule as never, {
      valid: [
        { filename: at('agent/a.ts'), code: "import { x } from '../common/timing';", options: [{ root }] },
        { filename: at('main/a.ts'), code: "import { app } from 'electron';", options: [{ root }] },
        { filename: at('bench/a.ts'), code: "import { inject } from '../lab/injector';", options: [{ root }] },
        { filename: at('main/a.ts'), code: "import type { ToHost } from '../host/agent-host-protocol';", options: [{ root }] },
      ],
      invalid: [
        { filename: at('agent/a.ts'), code: "import { app } from 'electron';", options: [{ root }], errors: 1 },
        { filename: at('common/a.ts'), code: "export * from '../agent/x';", options: [{ root }], errors: 1 },
        { filename: at('renderer/a.ts'), code: "const fs = require('node:fs');", options: [{ root }], errors: 1 },
        { filename: at('collector/a.ts'), code: "const m = await import('../main/x');", options: [{ root }], errors: 1 },
        { filename: at('bench/a.ts'), code: "import { hasCommand } from '../test/helpers/tools';", options: [{ root }], errors: 1 },
        { filename: at('lab/a.ts'), code: "import { freePort } from '../test/helpers/free-port';", options: [{ root }], errors: 1 },
        { filename: at('host/a.ts'), code: "import { utilityProcess } from 'electron';", options: [{ root }], errors: 1 },
        { filename: at('main/a.ts'), code: "import { runAgentHost } from '../host/agent-host-core';", options: [{ root }], errors: 1 },
      ],
    });
  });
});
