import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { classifyEdid, knownContentSignatures, type EdidClass } from '../../agent/detect/edid/classify-edid';
import { edidBytesFromHex, EdidParseError, parseEdid } from '../../agent/detect/edid/parse-edid';
import { parseCsvLine } from '../../agent/detect/processes/win32';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/edid');

interface Labelled {
  readonly id: string;
  readonly label: string;
  readonly expected: EdidClass | null;
  readonly hex: string;
  readonly mfg?: string;
  readonly resolution?: string;
}

/** Manifest category text to the class the classifier must give. */
function expectedClass(label: string): EdidClass | null {
  const rules: [RegExp, EdidClass][] = [
    [/^ip_kvm|^hdmi_to_csi_bridge/, 'ip-kvm'],
    [/^kvm_switch/, 'kvm-switch'],
    [/^extender/, 'extender'],
    [/^video_capture/, 'capture'],
    [/^signal_converter/, 'signal-converter'],
    [/^dummy_headless/, 'dummy-plug'],
    [/^virtual_machine|^virtual_display/, 'virtual-display'],
    [/^linux_kernel_builtin/, 'generated'],
    [/^usb_display_adapter/, 'usb-display-adapter'],
  ];
  for (const [pattern, cls] of rules) if (pattern.test(label)) return cls;
  if (/^(laptop_panel_heuristic|external_monitor_or_tv|analog_input)$/.test(label)) return null;
  throw new Error(`Unknown manifest label ${label}`);
}

function readTsv(name: string): Labelled[] {
  return fs
    .readFileSync(path.join(fixtures, name), 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line !== '')
    .map((line) => {
      const [, original, label, mfg, resolution, hex] = line.split('\t') as [string, string, string, string, string, string];
      return { id: original, label, expected: expectedClass(label), hex, mfg, resolution };
    });
}


function kvmManifest(): (Labelled & { row: Record<string, string> })[] {
  const lines = fs.readFileSync(path.join(fixtures, 'kvm_edids/manifest.csv'), 'utf8').split('\n').filter((line) => line !== '');
  const header = parseCsvLine(lines[0]!);
  return lines.slice(1).map((line) => {
    const values = parseCsvLine(line);
    const row = Object.fromEntries(header.map((key, index) => [key, values[index] ?? '']));
    // Binary originals are kept as their .hex renderings.
    const candidates = [row.file!, `${row.file}.hex`, row.file!.replace(/\.bin$/, '.hex')].map((file) => path.join(fixtures, 'kvm_edids', file));
    const file = candidates.find((candidate) => fs.existsSync(candidate));
    if (!file) throw new Error(`missing fixture for ${row.file}`);
    return { id: row.file!, label: row.category!, expected: expectedClass(row.category!), hex: fs.readFileSync(file, 'utf8'), row };
  });
}

describe('EDID parser', () => {
  it('decodes every KVM/virtual EDID as its manifest does', () => {
    for (const item of kvmManifest()) {
      const edid = parseEdid(edidBytesFromHex(item.hex));
      const { row } = item;
      assert.equal(edid.manufacturerId ?? '^J^', row.mfg, `${item.id} mfg`);
      assert.equal(edid.productCode.toString(16).padStart(4, '0'), row.product_code!.toLowerCase(), `${item.id} product`);
      assert.equal(edid.name ?? '', row.monitor_name, `${item.id} name`);
      assert.equal(edid.serialString ?? '', row.serial_string, `${item.id} serial string`);
      assert.equal(String(edid.serialNumber), row.serial_number, `${item.id} serial number`);
      assert.equal(String(edid.year), row.year, `${item.id} year`);
      assert.equal(`${edid.widthCm}x${edid.heightCm}`, row.size_cm, `${item.id} size`);
      assert.equal(String(edid.extensionCount), row.ext_blocks_flag, `${item.id} ext`);
      assert.equal(edid.checksumValid ? 'True' : 'False', row.base_checksum_ok, `${item.id} checksum`);
    }
  });

  it('reads the preferred mode and descriptors', () => {
    const pikvm = parseEdid(edidBytesFromHex(fs.readFileSync(path.join(fixtures, 'kvm_edids/pikvm/current/v3.hex'), 'utf8')));
    assert.deepEqual(pikvm.preferredMode && [pikvm.preferredMode.width, pikvm.preferredMode.height, Math.round(pikvm.preferredMode.refreshHz)], [1280, 720, 60]);
    assert.equal(pikvm.serialString, 'CAFEBABE');
    assert.equal(pikvm.week, 35);
    assert.ok(pikvm.descriptors.some((descriptor) => descriptor.type === 'range-limits'));
  });

  it('agrees with edid-decode on manufacturer and first detailed timing for all 1,315 linuxhw EDIDs', () => {
    const all = [...readTsv('linuxhw-kvm-virtual-capture.tsv'), ...readTsv('linuxhw-sample.tsv')];
    assert.equal(all.length, 1315);
    let compared = 0;
    for (const item of all) {
      const edid = parseEdid(edidBytesFromHex(item.hex));
      if (edid.manufacturerId !== null) assert.equal(edid.manufacturerId, item.mfg, `${item.id} mfg`);
      if (item.resolution && edid.preferredMode) {
        assert.equal(`${edid.preferredMode.width}x${edid.preferredMode.height}`, item.resolution, `${item.id} mode`);
        compared++;
      }
    }
    assert.ok(compared > 1200, `compared ${compared}`);
  });

  it('rejects bad input with a clear error', () => {
    assert.throws(() => parseEdid(new Uint8Array(64)), EdidParseError);
    assert.throws(() => parseEdid(new Uint8Array(128)), /header/);
    assert.throws(() => edidBytesFromHex('00ffzz'), /non-hex/);
  });
});

describe('EDID classification on the shared sets', () => {
  const positives = [...kvmManifest(), ...readTsv('linuxhw-kvm-virtual-capture.tsv')];
  const negatives = readTsv('linuxhw-sample.tsv');

  it('classifies every labelled KVM / capture / dummy / virtual EDID as labelled, and flags none of the ordinary ones', () => {
    let truePositives = 0;
    const misses: string[] = [];
    const byConfidence: Record<string, number> = {};
    for (const item of positives) {
      const result = classifyEdid(parseEdid(edidBytesFromHex(item.hex)));
      if (result?.class === item.expected) {
        truePositives++;
        byConfidence[result.confidence] = (byConfidence[result.confidence] ?? 0) + 1;
      } else misses.push(`${item.id}: expected ${item.expected}, got ${result?.class ?? 'nothing'}`);
    }
    const falsePositives = negatives.filter((item) => classifyEdid(parseEdid(edidBytesFromHex(item.hex))) !== undefined).map((item) => item.id);
    const recall = truePositives / positives.length;
    const precision = truePositives / (truePositives + falsePositives.length);
    console.log(
      `EDID: ${positives.length} labelled positives, ${negatives.length} ordinary; recall ${(recall * 100).toFixed(1)}%, ` +
        `precision ${(precision * 100).toFixed(1)}%, false positives ${falsePositives.length}; by evidence ${JSON.stringify(byConfidence)}`,
    );
    assert.deepEqual(misses, []);
    assert.deepEqual(falsePositives, []);
    assert.equal(positives.length, 162);
    assert.equal(negatives.length, 1198);
    assert.equal(recall, 1);
    assert.equal(precision, 1);
  });

  it('marks real-monitor spoof presets as content matches only (a genuine monitor is byte-identical)', () => {
    for (const item of kvmManifest().filter((entry) => /spoof|modified real|real TV/.test(entry.label))) {
      const result = classifyEdid(parseEdid(edidBytesFromHex(item.hex)));
      assert.equal(result?.confidence, 'content-match', item.id);
    }
  });

  it('has a fixture behind every content fingerprint', () => {
    const fingerprints = new Set(kvmManifest().map((item) => parseEdid(edidBytesFromHex(item.hex)).fingerprint));
    for (const signature of knownContentSignatures()) assert.ok(fingerprints.has(signature.fingerprint), signature.signature);
  });

  it('still flags a TC358743-based KVM that renamed itself, by structure', () => {
    const hex = fs.readFileSync(path.join(fixtures, 'kvm_edids/tinypilot/edid_pi4.hex'), 'utf8');
    const bytes = edidBytesFromHex(hex);
    // Rename the vendor to "DEL" and product to 0xA0B1, keeping the bridge's serial pattern and 0x0 cm size.
    bytes[8] = 0x10;
    bytes[9] = 0xac;
    bytes[10] = 0xb1;
    bytes[11] = 0xa0;
    const result = classifyEdid(parseEdid(bytes));
    assert.equal(result?.class, 'ip-kvm');
    assert.notEqual(result?.confidence, 'content-match');
    // Also strip the name: the serial/size structure still gives it away.
    for (let offset = 54; offset < 126; offset += 18) if (bytes[offset] === 0 && bytes[offset + 3] === 0xfc) bytes[offset + 3] = 0x10;
    assert.equal(classifyEdid(parseEdid(bytes))?.signature, 'tc358743-serial');
  });
});
