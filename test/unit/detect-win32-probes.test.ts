import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { findApproval } from '../../agent/detect/approved-tools';
import { loadCatalog } from '../../agent/detect/catalog/catalog';
import type { CommandOptions, CommandResult } from '../../agent/detect/command-runner';
import { ProbeError } from '../../agent/detect/command-runner';
import { defaultProbes, DetectionService } from '../../agent/detect/detection-service';
import { displayReaderFor } from '../../agent/detect/displays/read-displays';
import {
  parseRegEdidDump,
  parseWmiMonitorId,
  REG_EDID_ARGS,
  WMI_MONITOR_COMMAND,
  win32DisplayConnectors,
  win32VirtualDisplayReports,
} from '../../agent/detect/displays/win32';
import { evaluateHardware } from '../../agent/detect/hardware-scanner';
import { parseWin32Cim } from '../../agent/detect/processes/win32';
import { cachedSignerReader, signerReaderFor } from '../../agent/detect/signers/read-signer';
import { AUTHENTICODE_COMMAND, parseAuthenticode, parseDistinguishedName, SIGNED_FILE_ENV, signerFromAuthenticode } from '../../agent/detect/signers/win32';
import { classifyUsbDevice } from '../../agent/detect/usb/classify-usb';
import { usbListerFor } from '../../agent/detect/usb/list-usb';
import { usbId } from '../../agent/detect/usb/usb-device';
import { parseInstanceId, parsePnpDevices, PNP_USB_COMMAND, usbDevicesFromPnp } from '../../agent/detect/usb/win32';
import { AgentEvents } from '../../agent/events';
import { openDatabase } from '../../agent/store/database';
import { listOpenFindings } from '../../agent/store/findings';
import { DEFAULT_POLICY } from '../../common/policy';

const fixtures = path.resolve(import.meta.dirname, '../fixtures');
const fixture = (name: string) => fs.readFileSync(path.join(fixtures, name), 'utf8');
const hexFile = (name: string) => fixture(`edid/kvm_edids/${name}`).replace(/\s/g, '').toLowerCase();
const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('hex');

const ANYDESK_EXE = 'C:\\Program Files (x86)\\AnyDesk\\AnyDesk.exe';

/** A fake of the command seam: answers the documented Windows commands from the recorded outputs. */
class FakeWindows {
  readonly calls: { file: string; args: readonly string[]; options?: CommandOptions }[] = [];

  readonly run = async (file: string, args: readonly string[], options?: CommandOptions): Promise<CommandResult> => {
    this.calls.push({ file, args, ...(options ? { options } : {}) });
    const ok = (stdout: string): CommandResult => ({ exitCode: 0, stdout, stderr: '' });
    if (file === 'reg.exe' && args.join(' ') === REG_EDID_ARGS.join(' ')) return ok(fixture('win32/hardware/reg-query-display-edid.txt'));
    if (file === 'powershell.exe' && args[0] === '-NoProfile') {
      const command = args[args.length - 1];
      if (command === WMI_MONITOR_COMMAND) return ok(fixture('win32/hardware/get-ciminstance-wmimonitorid.json'));
      if (command === PNP_USB_COMMAND) return ok(fixture('win32/hardware/get-pnpdevice-usb.json'));
      if (command === AUTHENTICODE_COMMAND) {
        const target = options?.env?.[SIGNED_FILE_ENV];
        return ok(fixture(`win32/hardware/get-authenticodesignature-${target === ANYDESK_EXE ? 'anydesk' : 'notsigned'}.json`));
      }
    }
    throw new Error(`unexpected command: ${file} ${args.join(' ')}`);
  };
}

describe('Windows displays', () => {
  it('parses WmiMonitorID JSON (UInt16 strings, _0 instance suffix)', () => {
    const monitors = parseWmiMonitorId(fixture('win32/hardware/get-ciminstance-wmimonitorid.json'));
    assert.deepEqual(
      monitors.map((monitor) => [monitor.monitorId, monitor.deviceInstance, monitor.manufacturer, monitor.productCode, monitor.friendlyName]),
      [
        ['AUO01EE', 'DISPLAY\\AUO01EE\\4&1d5c2e7b&0&UID265988', 'AUO', '01EE', null],
        ['DEL40F4', 'DISPLAY\\DEL40F4\\5&2c8f0a3e&0&UID4352', 'DEL', '40F4', 'DELL P2317H'],
        ['MTT1337', 'DISPLAY\\MTT1337\\6&1b8b6bd1&0&UID256', 'MTT', '1337', 'VDD by MTT'],
      ],
    );
    assert.equal(monitors[1]!.serial, 'DCHJ68460JBL');
    assert.deepEqual(parseWmiMonitorId(''), []);
    assert.throws(() => parseWmiMonitorId('{"InstanceName":"PCI\\\\VEN_8086"}'), (error: unknown) => error instanceof ProbeError && error.code === 'PROBE_OUTPUT_INVALID');
  });

  it('parses the registry EDID dump into the real EDID bytes, historical monitors included', () => {
    const edids = parseRegEdidDump(fixture('win32/hardware/reg-query-display-edid.txt'));
    assert.equal(edids.size, 5);
    assert.equal(hex(edids.get('display\\mtt1337\\6&1b8b6bd1&0&uid256')), hexFile('virtual_display_drivers/itsmikethetech_Virtual-Display-Driver/2024-10-06_c2622b12_s_KnownMonitorEdid.hex'));
    assert.equal(hex(edids.get('display\\lnx7771\\5&2c8f0a3e&0&uid4352')), hexFile('pikvm/current/v3.hex'));
    assert.equal(hex(edids.get('display\\psccdd0\\6&3a1e2f07&0&uid265')), hexFile('virtual_display_drivers/parsec_vdd/ParsecVDA_PSCCDD0.hex'));
  });

  it('flags the virtual display driver and ignores monitors that are no longer present', () => {
    const monitors = parseWmiMonitorId(fixture('win32/hardware/get-ciminstance-wmimonitorid.json'));
    const edids = parseRegEdidDump(fixture('win32/hardware/reg-query-display-edid.txt'));
    const connectors = win32DisplayConnectors(monitors, edids);
    assert.deepEqual(connectors.map((connector) => [connector.name, connector.edid.length]), [
      ['DISPLAY\\AUO01EE\\4&1d5c2e7b&0&UID265988', 128],
      ['DISPLAY\\DEL40F4\\5&2c8f0a3e&0&UID4352', 256],
      ['DISPLAY\\MTT1337\\6&1b8b6bd1&0&UID256', 256],
    ]);
    const result = evaluateHardware({ connectors, usbDevices: [], virtualDisplays: win32VirtualDisplayReports(monitors) });
    assert.deepEqual(result.edid.map((item) => [item.kind, item.severity, item.evidence.signature, item.evidence.connector]), [
      ['virtual-display', 'medium', 'vdd-mtt', 'DISPLAY\\MTT1337\\6&1b8b6bd1&0&UID256'],
    ]);
    assert.deepEqual(result.display, [], 'the device-id report is dropped once the EDID already flagged that connector');
  });

  it('still flags a virtual display driver by its monitor id when the cached EDID is missing', () => {
    const monitors = parseWmiMonitorId(fixture('win32/hardware/get-ciminstance-wmimonitorid.json'));
    const edids = parseRegEdidDump(fixture('win32/hardware/reg-query-display-edid.txt'));
    edids.delete('display\\mtt1337\\6&1b8b6bd1&0&uid256');
    const result = evaluateHardware({ connectors: win32DisplayConnectors(monitors, edids), usbDevices: [], virtualDisplays: win32VirtualDisplayReports(monitors) });
    assert.deepEqual(result.edid, []);
    assert.deepEqual(result.display.map((item) => [item.kind, item.severity, item.evidence.signature ?? null]).sort(), [
      ['display-no-edid', 'low', null],
      ['virtual-display', 'medium', 'win32-monitor-id-mtt1337'],
    ]);
  });
});

describe('Windows USB', () => {
  it('splits PnP instance ids, including HID collections', () => {
    assert.deepEqual(parseInstanceId('USB\\VID_1D6B&PID_0104&MI_02\\7&2a3b4c5d&0&0002'), { bus: 'USB', vendorId: 0x1d6b, productId: 0x0104, interfaceNumber: 2, suffix: '7&2a3b4c5d&0&0002' });
    assert.equal(parseInstanceId('HID\\VID_046D&PID_C31C&MI_01&COL02\\7&1A2B3C4D&0&0001')?.interfaceNumber, 1);
    assert.equal(parseInstanceId('USB\\ROOT_HUB30\\4&2a3b1c9&0&0'), undefined);
    assert.equal(parseInstanceId('USBSTOR\\DISK&VEN_LINUX&PROD_FILE-STOR_GADGET&REV_0510\\7&2F7E0D11&0&0003&0'), undefined);
  });

  it('groups interfaces per physical device and flags only the KVM behind spoofed Logitech ids', () => {
    const devices = usbDevicesFromPnp(parsePnpDevices(fixture('win32/hardware/get-pnpdevice-usb.json')));
    const shape = (device: (typeof devices)[number]) => device.interfaces.map((item) => `${item.interfaceClass}/${item.subClass}/${item.protocol}`).join(' ');
    assert.deepEqual(devices.map((device) => [usbId(device), shape(device)]), [
      ['046d:c31c', '3/1/1 3/0/0'],
      ['046d:c52b', '3/1/1 3/1/2 3/0/0'],
      ['046d:c52b', '3/1/1 3/0/0 3/1/2 8/6/80'],
      ['413c:301a', '3/1/2'],
    ]);
    assert.equal(devices[0]!.path, 'USB\\VID_046D&PID_C31C\\5&1F2E3D4C&0&3', 'a unique composite parent is paired with its interfaces');
    const flagged = devices.map((device) => [usbId(device), classifyUsbDevice(device)?.signature ?? null]);
    assert.deepEqual(flagged, [
      ['046d:c31c', null],
      ['046d:c52b', null],
      ['046d:c52b', 'hid-combo-with-storage'],
      ['413c:301a', null],
    ]);
  });

  it('reads a non-boot HID interface as a pointer from its "Mouse" HID child', () => {
    const node = (Class: string, InstanceId: string, CompatibleID: string[]) => ({ Class, FriendlyName: null, InstanceId, Manufacturer: null, CompatibleID });
    const gadget = [
      node('USB', 'USB\\VID_1209&PID_0001\\KVM01', ['USB\\COMPOSITE']),
      node('HIDClass', 'USB\\VID_1209&PID_0001&MI_00\\6&AA&0&0000', ['USB\\Class_03&SubClass_01&Prot_01']),
      node('HIDClass', 'USB\\VID_1209&PID_0001&MI_01\\6&AA&0&0001', ['USB\\Class_03&SubClass_00&Prot_00']),
      node('USB', 'USB\\VID_1209&PID_0001&MI_02\\6&AA&0&0002', ['USB\\Class_08&SubClass_06&Prot_50']),
    ];
    const withoutChild = usbDevicesFromPnp(parsePnpDevices(JSON.stringify(gadget)));
    assert.equal(classifyUsbDevice(withoutChild[0]!), undefined, 'keyboard + storage alone is not the KVM shape');
    const withChild = usbDevicesFromPnp(parsePnpDevices(JSON.stringify([...gadget, node('Mouse', 'HID\\VID_1209&PID_0001&MI_01\\7&BB&0&0000', ['HID_DEVICE_SYSTEM_MOUSE'])])));
    assert.equal(withChild[0]!.serial, 'KVM01');
    assert.equal(classifyUsbDevice(withChild[0]!)?.signature, 'hid-combo-with-storage');
  });
});

describe('Windows code signer', () => {
  it('takes the CN of a Valid Authenticode signature only', () => {
    const valid = parseAuthenticode(fixture('win32/hardware/get-authenticodesignature-anydesk.json'));
    assert.equal(valid.status, 'Valid');
    assert.equal(signerFromAuthenticode(valid), 'AnyDesk Software GmbH');
    assert.equal(signerFromAuthenticode(parseAuthenticode(fixture('win32/hardware/get-authenticodesignature-hashmismatch.json'))), null);
    assert.equal(signerFromAuthenticode(parseAuthenticode(fixture('win32/hardware/get-authenticodesignature-notsigned.json'))), null);
    assert.equal(signerFromAuthenticode({ status: 'Valid', subject: 'CN="Example, Inc.", O="Example, Inc.", C=US' }), 'Example, Inc.');
    assert.deepEqual([...parseDistinguishedName('CN=A B, O=C, C=DE').entries()], [['CN', 'A B'], ['O', 'C'], ['C', 'DE']]);
  });

  it('caches a verified signer per file version', async () => {
    let reads = 0;
    let version = 'v1';
    const read = cachedSignerReader(async () => {
      reads++;
      return 'AnyDesk Software GmbH';
    }, async () => version);
    assert.equal(await read(ANYDESK_EXE), 'AnyDesk Software GmbH');
    assert.equal(await read(ANYDESK_EXE), 'AnyDesk Software GmbH');
    assert.equal(reads, 1);
    version = 'v2';
    await read(ANYDESK_EXE);
    assert.equal(reads, 2, 'a changed file is verified again');
    const failing = cachedSignerReader(async () => {
      throw new ProbeError('PROBE_COMMAND_MISSING', 'powershell.exe is not available');
    }, async () => 'v1');
    assert.equal(await failing(ANYDESK_EXE), null, 'an unverifiable file never has a signer');
  });

  it('matches a signer rule on Windows and macOS but never on Linux', () => {
    const entry = loadCatalog().entries.find((item) => item.id === 'anydesk')!;
    const rules = [{ signer: 'AnyDesk Software GmbH' }];
    const tool = { entry, executables: [ANYDESK_EXE], signer: 'AnyDesk Software GmbH' };
    assert.equal(findApproval(rules, tool, 'win32'), rules[0]);
    assert.equal(findApproval(rules, tool, 'darwin'), rules[0]);
    assert.equal(findApproval(rules, tool, 'linux'), undefined);
    assert.equal(findApproval(rules, { ...tool, signer: null }, 'win32'), undefined);
  });
});

describe('Windows probes end to end', () => {
  it('choosers throw UNSUPPORTED_PLATFORM elsewhere', () => {
    for (const chooser of [() => displayReaderFor('freebsd'), () => usbListerFor('freebsd'), () => signerReaderFor('freebsd')]) {
      assert.throws(chooser, (error: unknown) => (error as { code?: string }).code === 'UNSUPPORTED_PLATFORM');
    }
  });

  it('DetectionService on win32: KVM gadget, virtual display driver and a signer approval', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-win32-'));
    const db = openDatabase(path.join(dir, 'agent.db'));
    t.after(() => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const windows = new FakeWindows();
    const probes = {
      ...defaultProbes('win32', windows.run),
      listProcesses: async () => parseWin32Cim(fixture('win32/get-ciminstance-win32-process.json')),
      listSockets: async () => [],
      // Behaviour and RDP-host scans have their own tests (detect-behaviour.test.ts).
      behaviour: undefined,
      readRdpHost: undefined,
      pathExists: () => false,
      // The real reader, with the file version stubbed: these paths do not exist on the build machine.
      readSigner: signerReaderFor('win32', windows.run, async () => 'v1'),
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
      { platform: 'win32', probes },
    );
    await service.tick();
    assert.deepEqual(warnings, []);
    const findings = listOpenFindings(db);
    const summary = findings.map((item) => `${item.kind}:${item.evidence.catalogId ?? item.evidence.usbId ?? item.evidence.signature}`).sort();
    assert.deepEqual(summary, [
      'approved-tool:anydesk',
      'kvm-usb-gadget:046d:c52b',
      'remote-tool-running:chrome-remote-desktop',
      'remote-tool-running:teamviewer',
      'virtual-display:vdd-mtt',
    ]);
    assert.equal(findings.find((item) => item.kind === 'kvm-usb-gadget')?.severity, 'high');
    assert.equal(findings.find((item) => item.kind === 'approved-tool')?.severity, 'info');
    // The executable path reaches PowerShell through the environment, never inside the command text.
    const signerCalls = windows.calls.filter((call) => call.args.at(-1) === AUTHENTICODE_COMMAND);
    assert.ok(signerCalls.some((call) => call.options?.env?.[SIGNED_FILE_ENV] === ANYDESK_EXE));
    assert.ok(windows.calls.every((call) => !call.args.some((arg) => arg.includes('AnyDesk.exe'))));
    await service.stop();
  });
});
