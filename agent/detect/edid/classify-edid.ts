/**
 * EDID signatures: is this "monitor" really an IP-KVM, a capture card, a dummy plug or a virtual
 * display?
 *
 * Three kinds of evidence, strongest first:
 *   1. Identity: manufacturer + product code pairs that only KVM bridges and virtual-display drivers
 *      use (PiKVM LNX 7770-7773/8888, TC358743 TSB 8888, TinyPilot TSB 9876, JetKVM TSB 8801,
 *      NanoKVM SPD 3301, Parsec PSC CDD0, VDD MTT 1337, QEMU RHT 1234...).
 *   2. Structure: patterns real monitors do not have (the TC358743 bridge's serial 0x88888800; a
 *      manufacturer id that is not three letters, as in Microsoft's IddSampleDriver; the kernel's
 *      generated LNX 0000 EDIDs).
 *   3. Names: the monitor-name descriptor of KVMs, capture cards, dummy plugs and VMs.
 *   4. Content: SHA-256 fingerprints of known spoof presets that copy real monitors byte for byte
 *      (JetKVM's Acer/ASUS/Dell presets, NanoKVM's Philips copy, IDD sample/VDD copies). A real unit
 *      of that monitor is identical, so a content match alone is `confidence: 'content-match'`: the
 *      finding is low severity ("possible spoof") unless USB evidence of a KVM gadget corroborates it.
 */
import { edidIdentity, type Edid } from './parse-edid';

export type EdidClass =
  | 'ip-kvm'
  | 'kvm-switch'
  | 'extender'
  | 'capture'
  | 'signal-converter'
  | 'dummy-plug'
  | 'virtual-display'
  | 'generated'
  | 'usb-display-adapter';

export interface EdidClassification {
  readonly class: EdidClass;
  /** 'identity' and 'name' are specific to the device; 'content-match' equals a real monitor's EDID. */
  readonly confidence: 'identity' | 'structure' | 'name' | 'content-match';
  /** Stable signature id, e.g. "pikvm-lnx", "tc358743-serial". */
  readonly signature: string;
  /** Plain-language reason, for the finding's explanation. */
  readonly reason: string;
}

interface IdentitySignature {
  readonly manufacturer: string;
  readonly products: readonly number[] | 'any';
  readonly class: EdidClass;
  readonly signature: string;
  readonly reason: string;
}

const IDENTITY_SIGNATURES: readonly IdentitySignature[] = [
  { manufacturer: 'LNX', products: [0x7770, 0x7771, 0x7772, 0x7773, 0x8888], class: 'ip-kvm', signature: 'pikvm-lnx', reason: 'identifies as a PiKVM IP-KVM (LNX 7770-7773/8888)' },
  { manufacturer: 'TSB', products: [0x8888], class: 'ip-kvm', signature: 'tc358743-tsb8888', reason: 'is the default EDID of the Toshiba TC358743 HDMI-to-CSI bridge used by PiKVM, BliKVM and TinyPilot' },
  { manufacturer: 'TSB', products: [0x9876], class: 'ip-kvm', signature: 'tinypilot-tsb9876', reason: 'identifies as a TinyPilot IP-KVM (TSB 9876)' },
  { manufacturer: 'TSB', products: [0x8801], class: 'ip-kvm', signature: 'jetkvm-tsb8801', reason: 'is the JetKVM default EDID (TSB 8801 "T749-fHD720")' },
  { manufacturer: 'SPD', products: [0x3301], class: 'ip-kvm', signature: 'nanokvm-spd3301', reason: 'identifies as a Sipeed NanoKVM (SPD 3301)' },
  { manufacturer: 'ADR', products: 'any', class: 'ip-kvm', signature: 'adder-kvm', reason: 'is an Adder KVM-over-IP unit' },
  { manufacturer: 'RAR', products: 'any', class: 'ip-kvm', signature: 'raritan-cim', reason: 'is a Raritan KVM-over-IP interface module' },
  { manufacturer: 'PSC', products: [0xcdd0], class: 'virtual-display', signature: 'parsec-vda', reason: 'is the Parsec Virtual Display Adapter' },
  { manufacturer: 'MTT', products: [0x1337], class: 'virtual-display', signature: 'vdd-mtt', reason: 'is the "Virtual Display Driver" (MTT 1337)' },
  { manufacturer: 'RHT', products: [0x1234], class: 'virtual-display', signature: 'qemu-monitor', reason: 'is a QEMU virtual monitor' },
  { manufacturer: 'VBX', products: 'any', class: 'virtual-display', signature: 'virtualbox-monitor', reason: 'is a VirtualBox virtual monitor' },
  { manufacturer: 'DSL', products: 'any', class: 'usb-display-adapter', signature: 'displaylink', reason: 'is a DisplayLink USB display adapter' },
  { manufacturer: 'EGA', products: 'any', class: 'capture', signature: 'elgato', reason: 'is an Elgato capture device' },
  { manufacturer: 'MGW', products: 'any', class: 'capture', signature: 'magewell', reason: 'is a Magewell capture device' },
  { manufacturer: 'ATN', products: 'any', class: 'kvm-switch', signature: 'aten', reason: 'is an ATEN KVM switch' },
];

interface NameSignature {
  readonly pattern: RegExp;
  readonly class: EdidClass;
  readonly signature: string;
  readonly what: string;
}

/** Ordered: IP-KVM names before the generic "KVM" switch rule. */
const NAME_SIGNATURES: readonly NameSignature[] = [
  { pattern: /pi-?kvm|tinypilot|blikvm|nanokvm|jetkvm|glkvm|kvm-via-ip|kvm-ip|lantronix sls|raritan cim|toshiba-h2c|t749-fhd720/i, class: 'ip-kvm', signature: 'name-ip-kvm', what: 'an IP-KVM' },
  { pattern: /\bkvm|^aten|mx0402/i, class: 'kvm-switch', signature: 'name-kvm-switch', what: 'a KVM switch' },
  { pattern: /extender/i, class: 'extender', signature: 'name-extender', what: 'a video extender' },
  { pattern: /capture|elgato|hd60|cam ?link|avermedia|blackmagic|hdmi to usb|evanlak|4k60 s\+/i, class: 'capture', signature: 'name-capture', what: 'a video capture device' },
  { pattern: /hdmi to (av|vga)/i, class: 'signal-converter', signature: 'name-converter', what: 'a signal converter' },
  { pattern: /dummy|headless/i, class: 'dummy-plug', signature: 'name-dummy', what: 'a dummy (headless) display plug' },
  { pattern: /qemu|vbox|virtualscreen|virtudisplay|parsecvda|vdd by mtt|mtt1337|^7680x4320 cvt$/i, class: 'virtual-display', signature: 'name-virtual', what: 'a virtual display' },
];

interface ContentSignature {
  readonly fingerprint: string;
  readonly class: EdidClass;
  readonly signature: string;
  readonly reason: string;
}

/** SHA-256 of base-block bytes 0..126 (see parse-edid `fingerprint`). Sources in test/fixtures/edid/kvm_edids. */
const CONTENT_SIGNATURES: readonly ContentSignature[] = [
  { fingerprint: '784046c45fa8353300368b03290e21bc2a7018b9f8eed14006333c16157cf8e5', class: 'ip-kvm', signature: 'jetkvm-preset-acer-b246wl', reason: "is byte-identical to JetKVM's Acer B246WL spoof preset" },
  { fingerprint: '6564e55958841a3b7612417a99dc281ede6b74d3e77a38f5195ab6640573a2c9', class: 'ip-kvm', signature: 'jetkvm-preset-asus-pa248qv', reason: "is byte-identical to JetKVM's ASUS PA248QV spoof preset" },
  { fingerprint: '04cc1e178c930fbe32053aaf2739ae8676ea7389b8c18daada34a7f4d1cb3806', class: 'ip-kvm', signature: 'jetkvm-preset-dell-d2721h', reason: "is byte-identical to JetKVM's Dell D2721H spoof preset" },
  { fingerprint: 'ef0f8feae2fdef439d4e13364eca8b031ae22f66c204ad5c654a4ef832038a65', class: 'ip-kvm', signature: 'nanokvm-builtin-philips-342e2', reason: "is byte-identical to NanoKVM's built-in copy of a Philips 342E2 EDID" },
  { fingerprint: 'ac0b166b83f9f69a4e5631844ee196ac458fce0f3be0632cb31706c019366043', class: 'virtual-display', signature: 'iddsample-dell-s2719dgf', reason: "is byte-identical to Microsoft IddSampleDriver's modified Dell S2719DGF EDID" },
  { fingerprint: '013a3190129159d7de32b13ab5b11d382e194fe70023215eace289935f6edc05', class: 'virtual-display', signature: 'iddsample-lenovo-y27fa', reason: "is byte-identical to Microsoft IddSampleDriver's modified Lenovo Y27fA EDID" },
  { fingerprint: 'f8fe673857257bc13ea67a2808728d4f9d131e7195011ed7b10f6a5838a44c90', class: 'virtual-display', signature: 'vdd-digihome-tv', reason: 'is byte-identical to the TV EDID shipped with Virtual Display Driver (digihome)' },
  { fingerprint: 'cc54658538c937d6c7b5bd41cbbeb1ebd0b285ad2a61685b87c36d4686d29034', class: 'virtual-display', signature: 'vdd-sony-tv', reason: 'is byte-identical to the Sony TV EDID shipped with Virtual Display Driver' },
];

/** Manufacturer bytes of Microsoft's IddSampleDriver sample EDID (not three letters). */
const IDD_SAMPLE_MANUFACTURER = '795e';

/** The TC358743 bridge's serial number bytes 00 88 88 88, kept by KVM builds that renamed the EDID. */
const TC358743_SERIAL = 0x88888800;

/** Classify one EDID; undefined means it looks like an ordinary monitor or panel. */
export function classifyEdid(edid: Edid): EdidClassification | undefined {
  const id = edidIdentity(edid);
  const name = edid.name ?? '';
  for (const signature of IDENTITY_SIGNATURES) {
    if (edid.manufacturerId !== signature.manufacturer) continue;
    if (signature.products !== 'any' && !signature.products.includes(edid.productCode)) continue;
    return { class: signature.class, confidence: 'identity', signature: signature.signature, reason: `The display ${signature.reason} (${id}${name ? `, "${name}"` : ''}).` };
  }
  // The serial alone also appears on other bridge-based devices (e.g. AR glasses), so it counts only
  // with the bridge's "variable size" 0x0 cm or a TSB/LNX id.
  const bridgeLike = (edid.widthCm === 0 && edid.heightCm === 0) || edid.manufacturerId === 'TSB' || edid.manufacturerId === 'LNX';
  if (edid.serialNumber === TC358743_SERIAL && bridgeLike) {
    return { class: 'ip-kvm', confidence: 'structure', signature: 'tc358743-serial', reason: `The display's serial number 0x88888800 is the TC358743 HDMI-to-CSI bridge default used by IP-KVMs (${id}).` };
  }
  // Cheap TVs also carry invalid PnP ids, so only the sample driver's exact id/product/serial triple counts.
  if (edid.manufacturerId === null && edid.manufacturerRaw === IDD_SAMPLE_MANUFACTURER && edid.productCode === 0 && edid.serialNumber === 0) {
    return { class: 'virtual-display', confidence: 'structure', signature: 'iddsample-invalid-pnp-id', reason: `The display's manufacturer bytes (${edid.manufacturerRaw}) are not a valid PnP id and it has no product code or serial: the pattern of Microsoft's IddSampleDriver virtual displays and their forks.` };
  }
  if (edid.manufacturerId === 'LNX' && edid.productCode === 0) {
    return { class: 'generated', confidence: 'structure', signature: 'linux-generated', reason: `The display's EDID is a Linux-generated one (LNX 0000${name ? `, "${name}"` : ''}), used when no real monitor EDID is available.` };
  }
  for (const signature of NAME_SIGNATURES) {
    if (signature.pattern.test(name)) {
      return { class: signature.class, confidence: 'name', signature: signature.signature, reason: `The display names itself "${name}" (${id}), which is ${signature.what}.` };
    }
  }
  const content = CONTENT_SIGNATURES.find((signature) => signature.fingerprint === edid.fingerprint);
  if (content) {
    return { class: content.class, confidence: 'content-match', signature: content.signature, reason: `The display's EDID ${content.reason}. A genuine monitor of that model can have the same EDID, so this alone is only a possible spoof.` };
  }
  return undefined;
}

/** Every content fingerprint, for tests and documentation. */
export function knownContentSignatures(): readonly ContentSignature[] {
  return CONTENT_SIGNATURES;
}
