import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { checkImport, importLayersRule } from '../../tools/eslint/import-layers.js';

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

  describe('reports through ESLint on real source text', () => {
    RuleTester.describe = describe;
    RuleTester.it = it;
    RuleTester.itOnly = it.only;
    const tester = new RuleTester({ languageOptions: { parser: tseslint.parser } });
    tester.run('import-layers', importLayersRule as never, {
      valid: [
        { filename: at('agent/a.ts'), code: "import { x } from '../common/timing';", options: [{ root }] },
        { filename: at('main/a.ts'), code: "import { app } from 'electron';", options: [{ root }] },
        { filename: at('main/a.ts'), code: "import type { ToHost } from '../host/agent-host-protocol';", options: [{ root }] },
      ],
      invalid: [
        { filename: at('agent/a.ts'), code: "import { app } from 'electron';", options: [{ root }], errors: 1 },
        { filename: at('common/a.ts'), code: "export * from '../agent/x';", options: [{ root }], errors: 1 },
        { filename: at('renderer/a.ts'), code: "const fs = require('node:fs');", options: [{ root }], errors: 1 },
        { filename: at('collector/a.ts'), code: "const m = await import('../main/x');", options: [{ root }], errors: 1 },
        { filename: at('host/a.ts'), code: "import { utilityProcess } from 'electron';", options: [{ root }], errors: 1 },
        { filename: at('main/a.ts'), code: "import { runAgentHost } from '../host/agent-host-core';", options: [{ root }], errors: 1 },
      ],
    });
  });
});
