import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { execFileRunner, ProbeError, type CommandResult } from '../../agent/detect/command-runner';
import { defaultProbes, DetectionService } from '../../agent/detect/detection-service';
import {
  darwinDisplayConnectors,
  darwinVirtualDisplayReports,
  edidFromUuid,
  IOREG_APPLE_SILICON_ARGS,
  IOREG_INTEL_ARGS,
  parseIoregDisplays,
  parseSystemProfilerDisplays,
  SYSTEM_PROFILER_DISPLAYS_ARGS,
} from '../../agent/detect/displays/darwin';
import { classifyEdid } from '../../agent/detect/edid/classify-edid';
import { edidIdentity, parseEdid } from '../../agent/detect/edid/parse-edid';
import { evaluateHardware } from '../../agent/detect/hardware-scanner';
import { parseDarwinPs } from '../../agent/detect/processes/darwin';
import { parseCodesignDetails, signerFromCodesign } from '../../agent/detect/signers/darwin';
import { signerReaderFor } from '../../agent/detect/signers/read-signer';
import { classifyUsbDevice } from '../../agent/detect/usb/classify-usb';
import { parseSystemProfilerUsb, SYSTEM_PROFILER_USB_ARGS } from '../../agent/detect/usb/darwin';
import { usbId } from '../../agent/detect/usb/usb-device';
import { AgentEvents } from '../../agent/events';
import { openDatabase } from '../../agent/store/database';
import { listOpenFindings } from '../../agent/store/findings';
import { DEFAULT_POLICY } from '../../common/policy';

const fixtures = path.resolve(import.meta.dirname, '../fixtures');
const fixture = (name: string) => fs.readFileSync(path.join(fixtures, name), 'utf8');
const hexFile = (name: string) => fixture(`edid/kvm_edids/${name}`).replace(/\s/g, '').toLowerCase();
const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('hex');

const ANYDESK = '/Applications/AnyDesk.app/Contents/MacOS/AnyDesk';

/** A fake of the command seam for an Apple Silicon Mac with a JetKVM attached. */
class FakeMac {
  readonly calls: string[] = [];

  readonly run = async (file: string, args: readonly string[]): Promise<CommandResult> => {
    const line = `${file} ${args.join(' ')}`;
    this.calls.push(line);
    const ok = (stdout: string, stderr = ''): CommandResult => ({ exitCode: 0, stdout, stderr });
    if (line === `ioreg ${IOREG_INTEL_ARGS.join(' ')}`) return ok('');
    if (line === `ioreg ${IOREG_APPLE_SILICON_ARGS.join(' ')}`) return ok(fixture('darwin/hardware/ioreg-lw0-r-c-iomobileframebuffer.txt'));
    if (line === `system_profiler ${SYSTEM_PROFILER_DISPLAYS_ARGS.join(' ')}`) return ok(fixture('darwin/hardware/system-profiler-spdisplaysdatatype.json'));
    if (line === `system_profiler ${SYSTEM_PROFILER_USB_ARGS.join(' ')}`) return ok(fixture('darwin/hardware/system-profiler-spusbdatatype.json'));
    if (file === 'codesign' && args[0] === '--verify') {
      return args.at(-1) === ANYDESK ? ok('') : { exitCode: 1, stdout: '', stderr: fixture('darwin/hardware/codesign-verify-unsigned.stderr.txt') };
    }
    // codesign writes its details to stderr.
    if (file === 'codesign' && args[0] === '-dv' && args.at(-1) === ANYDESK) return ok('', fixture('darwin/hardware/codesign-dv-verbose2-anydesk.stderr.txt'));
    throw new Error(`unexpected command: ${line}`);
  };
}

describe('macOS displays', () => {
  it('reads raw EDIDs and rebuilds an identity from "EDID UUID" on Apple Silicon', () => {
    const displays = parseIoregDisplays(fixture('darwin/hardware/ioreg-lw0-r-c-iomobileframebuffer.txt'));
    assert.deepEqual(displays.map((item) => [item.name, item.fromUuid, item.edid.length]), [
      ['AppleCLCD2#2', false, 256],
      ['AppleCLCD2#3 (EDID UUID)', true, 128],
    ]);
    assert.equal(hex(displays[0]!.edid), hexFile('jetkvm/DELL_D2721H_1920x1080.hex'));
    const rebuilt = parseEdid(displays[1]!.edid);
    assert.deepEqual([edidIdentity(rebuilt), rebuilt.name, rebuilt.year, rebuilt.widthCm, rebuilt.checksumValid], ['DEL 40f4', 'DELL P2317H', 2018, 51, true]);
    assert.equal(classifyEdid(rebuilt), undefined, 'an ordinary Dell stays ordinary');
  });

  it('reads IODisplayEDID from the AppleDisplay children on Intel Macs', () => {
    const displays = parseIoregDisplays(fixture('darwin/hardware/ioreg-lw0-r-c-iodisplayconnect.txt'));
    assert.deepEqual(displays.map((item) => item.name), ['display0', 'display0#2']);
    assert.equal(hex(displays[1]!.edid), hexFile('pikvm/current/v3.hex'));
    const internal = { name: 'Color LCD', vendorId: '610', productId: '9ccd', connectionType: 'internal', virtualDevice: false, online: true };
    const connectors = darwinDisplayConnectors(displays, [internal]);
    assert.deepEqual(connectors.map((item) => [item.name, item.internal]), [['display0', true], ['display0#2', false]]);
    const result = evaluateHardware({ connectors, usbDevices: [] });
    assert.deepEqual(result.edid.map((item) => [item.evidence.connector, item.evidence.signature, item.severity]), [['display0#2', 'pikvm-lnx', 'high']]);
  });

  it('a rebuilt identity still matches the identity rules (PiKVM LNX 7771)', () => {
    const edid = edidFromUuid('31D87177-0000-0000-231A-010380351E78', 'PiKVM V3');
    assert.ok(edid);
    assert.equal(classifyEdid(parseEdid(edid))?.signature, 'pikvm-lnx');
    assert.equal(edidFromUuid('not-a-uuid', null), undefined);
  });

  it('parses system_profiler displays: built-in, external, virtual', () => {
    const displays = parseSystemProfilerDisplays(fixture('darwin/hardware/system-profiler-spdisplaysdatatype.json'));
    assert.deepEqual(displays.map((item) => [item.name, item.vendorId, item.productId, item.connectionType, item.virtualDevice]), [
      ['Color LCD', '610', 'a050', 'internal', false],
      ['DELL D2721H', '10ac', '2013', null, false],
      ['DELL P2317H', '10ac', '40f4', null, false],
      ['Virtual 16:9', '756e6b6e', '0', null, true],
    ]);
    const reports = darwinVirtualDisplayReports([
      ...displays,
      { name: 'Sidecar Display', vendorId: '6161706c', productId: '69506164', connectionType: 'airplay', virtualDevice: true, online: true },
    ]);
    assert.deepEqual(reports.map((item) => [item.name, item.signature, item.severity]), [
      ['Virtual 16:9', 'macos-virtual-device', 'medium'],
      ['Sidecar Display', 'macos-airplay-display', 'low'],
    ]);
  });
});

describe('macOS USB', () => {
  it('walks nested hubs and flags only the JetKVM gadget', () => {
    const devices = parseSystemProfilerUsb(fixture('darwin/hardware/system-profiler-spusbdatatype.json'));
    assert.deepEqual(devices.map((device) => [usbId(device), device.product, device.path]), [
      ['05e3:0610', 'USB2.1 Hub', '0x01100000'],
      ['046d:c31c', 'USB Keyboard', '0x01110000'],
      ['05ac:0267', 'Magic Keyboard', '0x01120000'],
      ['1d6b:0104', 'USB Emulation Device', '0x02100000'],
    ]);
    assert.deepEqual(devices.map((device) => classifyUsbDevice(device)?.signature ?? null), [null, null, null, 'linux-composite-gadget']);
  });
});

describe('macOS code signer', () => {
  it('takes the Developer ID name when its team id agrees', () => {
    const details = parseCodesignDetails(fixture('darwin/hardware/codesign-dv-verbose2-anydesk.stderr.txt'));
    assert.deepEqual(details, {
      identifier: 'com.philandro.anydesk',
      authorities: ['Developer ID Application: AnyDesk Software GmbH (TEAMID0000)', 'Developer ID Certification Authority', 'Apple Root CA'],
      teamIdentifier: 'TEAMID0000',
    });
    assert.equal(signerFromCodesign(details), 'AnyDesk Software GmbH');
    assert.equal(signerFromCodesign({ ...details, teamIdentifier: 'OTHERTEAM1' }), null);
    assert.equal(signerFromCodesign(parseCodesignDetails('Identifier=a.out\nSignature=adhoc\nTeamIdentifier=not set\n')), null);
    assert.equal(signerFromCodesign({ identifier: 'com.apple.screensharing', authorities: ['Software Signing', 'Apple Code Signing Certification Authority', 'Apple Root CA'], teamIdentifier: null }), 'Apple Inc.');
  });
});

describe('command seam', () => {
  it('the real runner returns exit codes and stderr as data, and a missing program as PROBE_COMMAND_MISSING', async () => {
    const result = await execFileRunner(process.execPath, ['-e', 'process.stderr.write("not signed"); process.exit(3)']);
    assert.deepEqual(result, { exitCode: 3, stdout: '', stderr: 'not signed' });
    const env = await execFileRunner(process.execPath, ['-e', 'process.stdout.write(process.env.TELLTALE_PROBE_TEST ?? "")'], { env: { TELLTALE_PROBE_TEST: "it's passed" } });
    assert.equal(env.stdout, "it's passed");
    await assert.rejects(execFileRunner('telltale-no-such-program', []), (error: unknown) => error instanceof ProbeError && error.code === 'PROBE_COMMAND_MISSING');
  });
});

describe('macOS probes end to end', () => {
  it('DetectionService on darwin: JetKVM spoof corroborated by its gadget, virtual display, signer approval', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-darwin-'));
    const db = openDatabase(path.join(dir, 'agent.db'));
    t.after(() => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const mac = new FakeMac();
    const probes = {
      ...defaultProbes('darwin', mac.run),
      listProcesses: async () => parseDarwinPs(fixture('darwin/ps-axo-pid-ppid-uid-comm.txt')),
      listSockets: async () => [],
      // No behaviour scan here: it probes sockets (tested in detect-behaviour.test.ts).
      behaviour: undefined,
      pathExists: () => false,
      // The real reader, with the file version stubbed: these paths do not exist on the build machine.
      readSigner: signerReaderFor('darwin', mac.run, async () => 'v1'),
    };
    const warnings: string[] = [];
    const service = new DetectionService(
      {
        db,
        policy: { ...DEFAULT_POLICY, approvedTools: [{ signer: 'AnyDesk Software GmbH' }] },
        clock: { now: () => 1_000_000 },
        logger: { log: (level, message, fields) => void (level === 'warn' && warnings.push(`${message} ${JSON.stringify(fields)}`)) },
        dataDir: dir,
        agentVersion: 'test',
        events: new AgentEvents(),
      },
      { platform: 'darwin', probes },
    );
    await service.tick();
    assert.deepEqual(warnings, []);
    const findings = listOpenFindings(db);
    const summary = findings.map((item) => `${item.kind}:${item.evidence.catalogId ?? item.evidence.usbId ?? item.evidence.signature}`).sort();
    assert.deepEqual(summary, [
      'approved-tool:anydesk',
      'kvm-edid:jetkvm-preset-dell-d2721h',
      'kvm-usb-gadget:1d6b:0104',
      'remote-tool-running:macos-screen-sharing',
      'remote-tool-running:teamviewer',
      'virtual-display:macos-virtual-device',
    ]);
    const spoof = findings.find((item) => item.kind === 'kvm-edid')!;
    assert.equal(spoof.severity, 'high', 'the content match is corroborated by the JetKVM USB gadget');
    assert.equal(spoof.evidence.connector, 'AppleCLCD2#2');
    assert.ok(mac.calls.includes(`codesign --verify --strict ${ANYDESK}`));
    await service.stop();
  });
});
