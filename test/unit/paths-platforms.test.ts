import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { platformPaths } from '../../agent/platform/paths';
import { TelltaleError } from '../../common/result';

describe('platform paths', () => {
  it('linux: /etc policy, XDG_DATA_HOME or ~/.local/share data', () => {
    assert.deepEqual(platformPaths('linux', { env: {}, homedir: '/home/ann' }), {
      managedPolicyFile: '/etc/telltale/policy.json',
      dataDir: '/home/ann/.local/share/telltale',
    });
    assert.equal(platformPaths('linux', { env: { XDG_DATA_HOME: '/data/ann' }, homedir: '/home/ann' }).dataDir, '/data/ann/telltale');
    // The XDG spec: a relative XDG_DATA_HOME is invalid and ignored.
    assert.equal(platformPaths('linux', { env: { XDG_DATA_HOME: 'rel/dir' }, homedir: '/home/ann' }).dataDir, '/home/ann/.local/share/telltale');
  });

  it('darwin: /Library policy, ~/Library/Application Support data', () => {
    assert.deepEqual(platformPaths('darwin', { env: { XDG_DATA_HOME: '/ignored' }, homedir: '/Users/ann' }), {
      managedPolicyFile: '/Library/Application Support/Telltale/policy.json',
      dataDir: '/Users/ann/Library/Application Support/Telltale',
    });
  });

  it('win32: %ProgramData% policy, %LOCALAPPDATA% data, documented fallbacks', () => {
    assert.deepEqual(
      platformPaths('win32', { env: { ProgramData: 'D:\\PD', LOCALAPPDATA: 'C:\\Users\\ann\\AppData\\Local' }, homedir: 'C:\\Users\\ann' }),
      { managedPolicyFile: 'D:\\PD\\Telltale\\policy.json', dataDir: 'C:\\Users\\ann\\AppData\\Local\\Telltale' },
    );
    assert.deepEqual(platformPaths('win32', { env: {}, homedir: 'C:\\Users\\bob' }), {
      managedPolicyFile: 'C:\\ProgramData\\Telltale\\policy.json',
      dataDir: 'C:\\Users\\bob\\AppData\\Local\\Telltale',
    });
  });

  it('throws UNSUPPORTED_PLATFORM for other systems', () => {
    assert.throws(
      () => platformPaths('freebsd', { env: {}, homedir: '/home/ann' }),
      (error: unknown) => error instanceof TelltaleError && error.code === 'UNSUPPORTED_PLATFORM' && /freebsd/.test(error.message),
    );
  });
});
