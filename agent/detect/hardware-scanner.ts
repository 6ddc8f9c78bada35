/**
 * The hardware probe: displays (EDID, virtual framebuffers, topology) and USB gadgets, turned into
 * findings of sources `edid`, `usb` and `display`.
 *
 * Runs at start, on a detected change, and otherwise at most every policy.intervals.hardwareScanSeconds
 * (minimum 60): never on every process scan.
 */
import type { FindingObservation, Severity } from '../../common/findings';
import { assertNever } from '../../common/result';
import { classifyEdid, type EdidClass, type EdidClassification } from './edid/classify-edid';
import { edidIdentity, EdidParseError, parseEdid, type Edid } from './edid/parse-edid';
import { classifyUsbDevice } from './usb/classify-usb';
import { usbId, type UsbDevice } from './usb/usb-device';
import { isVirtualXScreen, type DisplayConnector } from './displays/linux';

export const EDID_SOURCE = 'edid';
export const USB_SOURCE = 'usb';
export const DISPLAY_SOURCE = 'display';

export interface HardwareSnapshot {
  /** DRM connectors (Linux) or equivalent per-OS connectors. */
  readonly connectors: readonly DisplayConnector[];
  /** Outputs of the current X screen (xrandr), when there is an X display. */
  readonly xOutputs?: readonly DisplayConnector[];
  /** The X display the agent runs on, e.g. ":0". */
  readonly xDisplay?: string;
  readonly usbDevices: readonly UsbDevice[];
  /** Displays the OS itself reports as virtual or remote (macOS, Windows); see `VirtualDisplayReport`. */
  readonly virtualDisplays?: readonly VirtualDisplayReport[];
}

// --- OS-reported virtual displays (macOS system_profiler, Windows monitor device ids) ---
/**
 * A display the operating system reports as virtual or shown elsewhere, independent of its EDID.
 *
 * macOS marks virtual and AirPlay/Sidecar displays in system_profiler; Windows names a monitor after
 * its EDID id (DISPLAY\MTT1337\...), which still identifies a virtual display driver when the cached
 * EDID is missing. Reports whose connector already produced an EDID finding are dropped, so one
 * display never yields two findings.
 */
export interface VirtualDisplayReport {
  /** Display name or device instance, for the finding key and evidence. */
  readonly name: string;
  /** The connector it belongs to, when the OS ties it to one. */
  readonly connector: string | null;
  /** Stable signature id, e.g. "macos-virtual-device", "win32-monitor-id-mtt1337". */
  readonly signature: string;
  /** Short plain-language title. */
  readonly title: string;
  /** Plain-language reason, for the finding's explanation. */
  readonly reason: string;
  readonly severity: Severity;
}
// --- end OS-reported virtual displays ---

export interface HardwareObservations {
  readonly edid: FindingObservation[];
  readonly usb: FindingObservation[];
  readonly display: FindingObservation[];
}

function edidSeverity(cls: EdidClass, classification: EdidClassification, usbCorroborates: boolean): Severity {
  if (classification.confidence === 'content-match') return usbCorroborates ? 'high' : 'low';
  switch (cls) {
    case 'ip-kvm':
      return 'high';
    case 'capture':
    case 'virtual-display':
    case 'dummy-plug':
      return 'medium';
    case 'kvm-switch':
    case 'extender':
    case 'generated':
      return 'low';
    case 'signal-converter':
    case 'usb-display-adapter':
      return 'info';
    default:
      return assertNever(cls, 'EDID class');
  }
}

const CLASS_TITLE: Record<EdidClass, string> = {
  'ip-kvm': 'A remote-control KVM device is connected as a monitor',
  'kvm-switch': 'The display goes through a KVM switch',
  extender: 'The display goes through a video extender',
  capture: 'The screen output goes into a video capture device',
  'signal-converter': 'The display goes through a signal converter',
  'dummy-plug': 'A dummy display plug is connected',
  'virtual-display': 'A virtual display is active',
  generated: 'The display uses a generated (not real-monitor) EDID',
  'usb-display-adapter': 'A USB display adapter is in use',
};

function edidEvidence(edid: Edid, connector: string) {
  return {
    connector,
    identity: edidIdentity(edid),
    manufacturerId: edid.manufacturerId,
    productCode: edid.productCode,
    name: edid.name,
    serialString: edid.serialString,
    serialNumber: edid.serialNumber,
    year: edid.year,
    week: edid.week,
    sizeCm: `${edid.widthCm}x${edid.heightCm}`,
    preferredMode: edid.preferredMode ? `${edid.preferredMode.width}x${edid.preferredMode.height}@${edid.preferredMode.refreshHz}` : null,
    checksumValid: edid.checksumValid,
    extensionCount: edid.extensionCount,
    fingerprint: edid.fingerprint,
  };
}

/** Evaluate one hardware snapshot. Pure: the caller reads the OS. */
export function evaluateHardware(snapshot: HardwareSnapshot): HardwareObservations {
  const usb: FindingObservation[] = [];
  for (const device of snapshot.usbDevices) {
    const result = classifyUsbDevice(device);
    if (!result) continue;
    usb.push({
      key: `${USB_SOURCE}:${usbId(device)}:${device.path}`,
      kind: 'kvm-usb-gadget',
      severity: result.confidence === 'structure' ? 'high' : 'high',
      title: 'A USB device looks like a remote-control KVM',
      explanation: `${result.reason} IP-KVMs type and move the pointer for someone elsewhere.`,
      evidence: {
        usbId: usbId(device),
        path: device.path,
        manufacturer: device.manufacturer,
        product: device.product,
        signature: result.signature,
        confidence: result.confidence,
        interfaceClasses: device.interfaces.map((item) => `${item.interfaceClass.toString(16).padStart(2, '0')}/${item.subClass}/${item.protocol}${item.absolutePointer ? '/abs' : ''}`),
      },
    });
  }
  const usbCorroborates = usb.length > 0;

  const edid: FindingObservation[] = [];
  const display: FindingObservation[] = [];
  const connectors = snapshot.connectors.length > 0 ? snapshot.connectors : (snapshot.xOutputs ?? []);
  for (const connector of connectors) {
    if (!connector.connected) continue;
    if (connector.edid.length === 0) {
      if (/^(screen|VNC-\d+|default)$/i.test(connector.name)) continue; // Reported as a virtual screen below.
      display.push({
        key: `${DISPLAY_SOURCE}:no-edid:${connector.name}`,
        kind: 'display-no-edid',
        severity: 'low',
        title: 'A connected display gives no identification',
        explanation: `The display on ${connector.name} is connected but reports no EDID. Real monitors identify themselves; capture devices and some adapters do not.`,
        evidence: { connector: connector.name },
      });
      continue;
    }
    let parsed: Edid;
    try {
      parsed = parseEdid(connector.edid);
    } catch (error) {
      if (!(error instanceof EdidParseError)) throw error;
      display.push({
        key: `${DISPLAY_SOURCE}:bad-edid:${connector.name}`,
        kind: 'display-no-edid',
        severity: 'low',
        title: 'A connected display gives an unreadable identification',
        explanation: `The display on ${connector.name} reports an EDID that is not valid (${error.message}).`,
        evidence: { connector: connector.name, bytes: connector.edid.length },
      });
      continue;
    }
    const classification = classifyEdid(parsed);
    if (!classification) continue;
    const severity = edidSeverity(classification.class, classification, usbCorroborates);
    const possibleSpoof = classification.confidence === 'content-match';
    edid.push({
      key: `${EDID_SOURCE}:${connector.name}:${parsed.fingerprint.slice(0, 16)}`,
      kind: classification.class === 'virtual-display' || classification.class === 'generated' ? 'virtual-display' : 'kvm-edid',
      severity,
      title: possibleSpoof ? `Possible KVM spoof: the monitor matches a known KVM preset` : CLASS_TITLE[classification.class],
      explanation: `${classification.reason}${possibleSpoof && usbCorroborates ? ' A KVM-like USB device is also connected, which makes a spoof likely.' : ''}`,
      evidence: { ...edidEvidence(parsed, connector.name), class: classification.class, signature: classification.signature, confidence: classification.confidence, usbCorroborates },
    });
  }

  // --- OS-reported virtual displays: skipped where the same connector's EDID was already flagged ---
  const flaggedConnectors = new Set(edid.map((observation) => observation.evidence.connector));
  for (const report of snapshot.virtualDisplays ?? []) {
    if (report.connector !== null && flaggedConnectors.has(report.connector)) continue;
    display.push({
      key: `${DISPLAY_SOURCE}:os-virtual:${report.name}`,
      kind: 'virtual-display',
      severity: report.severity,
      title: report.title,
      explanation: report.reason,
      evidence: { name: report.name, connector: report.connector, signature: report.signature },
    });
  }
  // --- end OS-reported virtual displays ---

  // A virtual X screen (Xvfb, Xvnc) is where a headless remote session draws.
  if (snapshot.xOutputs && snapshot.xDisplay && isVirtualXScreen(snapshot.xOutputs)) {
    display.push({
      key: `${DISPLAY_SOURCE}:virtual-x:${snapshot.xDisplay}`,
      kind: 'virtual-display',
      severity: 'medium',
      title: 'The desktop runs on a virtual screen',
      explanation: `The X display ${snapshot.xDisplay} has no physical monitor outputs (only ${snapshot.xOutputs.filter((output) => output.connected).map((output) => output.name).join(', ') || 'none'}): the pattern of Xvfb or a VNC server's own screen.`,
      evidence: { xDisplay: snapshot.xDisplay, outputs: snapshot.xOutputs.map((output) => `${output.name}:${output.connected ? 'connected' : 'disconnected'}`) },
    });
  }

  // Topology: the laptop's own panel is off while exactly one external display is on (lid closed,
  // driven through one external "monitor", which is how an IP-KVM is usually attached).
  const internal = connectors.filter((connector) => connector.internal);
  const externalOn = connectors.filter((connector) => !connector.internal && connector.connected && connector.enabled !== false);
  const internalOff = internal.length > 0 && internal.every((connector) => !connector.connected || connector.enabled === false);
  if (internalOff && externalOn.length === 1) {
    display.push({
      key: `${DISPLAY_SOURCE}:lid-closed-single-external`,
      kind: 'display-topology',
      severity: 'low',
      title: "The laptop's own screen is off and one external display is in use",
      explanation: `The built-in panel (${internal.map((connector) => connector.name).join(', ')}) is off while ${externalOn[0]!.name} is the only display: a closed-lid setup, which is also how a laptop is driven through an IP-KVM.`,
      evidence: { internal: internal.map((connector) => connector.name), external: externalOn[0]!.name },
    });
  }
  // DRM says nothing is connected, yet a display server runs: the session is drawn somewhere virtual.
  if (snapshot.connectors.length > 0 && snapshot.connectors.every((connector) => !connector.connected) && snapshot.xDisplay) {
    display.push({
      key: `${DISPLAY_SOURCE}:no-connected-display`,
      kind: 'virtual-display',
      severity: 'medium',
      title: 'No monitor is connected, yet a desktop is running',
      explanation: `Every display connector is disconnected while the desktop ${snapshot.xDisplay} runs: it is being shown somewhere other than a local screen.`,
      evidence: { connectors: snapshot.connectors.map((connector) => connector.name), xDisplay: snapshot.xDisplay },
    });
  }
  return { edid, usb, display };
}

/** A cheap fingerprint of the hardware (connector statuses, USB device names) to notice changes. */
export function hardwareChangeToken(connectors: readonly Pick<DisplayConnector, 'name' | 'connected'>[], usbNames: readonly string[]): string {
  return `${connectors.map((connector) => `${connector.name}=${connector.connected ? 1 : 0}`).join(',')}|${[...usbNames].sort().join(',')}`;
}
