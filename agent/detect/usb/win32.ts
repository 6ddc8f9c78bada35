/**
 * Windows USB devices from PnP: `Get-PnpDevice -PresentOnly -Class HIDClass,USB,Keyboard,Mouse,DiskDrive`
 * as JSON, folded into the shared USB device model.
 *
 * Windows lists a composite device as a parent node (`USB\VID_1D6B&PID_0104\<serial>`, compatible id
 * `USB\COMPOSITE`) plus one node per interface (`USB\VID_1D6B&PID_0104&MI_00\7&2a3b4c5d&0&0000`) whose
 * compatible ids carry the interface class (`USB\Class_03&SubClass_01&Prot_01`): that is what the
 * class-combination rule needs. Interface nodes of one device share the instance prefix before the
 * last "&" (the parent's ParentIdPrefix), so they are grouped by ids + prefix; a parent is paired with
 * its group only when its ids are unambiguous (one parent, one group), which is how its serial is
 * learned. HID children (`HID\VID_...&MI_01\...`, class Keyboard/Mouse) tell a non-boot interface
 * (protocol 0, as IP-KVMs' absolute pointers are) is a keyboard or a pointer. Whether a pointer is
 * absolute is not visible here. USBSTOR disk nodes carry no USB ids and are not used.
 */
import { parseJsonRecords, runChecked, stringField, type CommandRunner } from '../command-runner';
import type { UsbDevice, UsbInterface } from './usb-device';

export const PNP_USB_COMMAND =
  '[Console]::OutputEncoding = [Text.Encoding]::UTF8; Get-PnpDevice -PresentOnly -Class HIDClass,USB,Keyboard,Mouse,DiskDrive | Select-Object Class,FriendlyName,InstanceId,Manufacturer,Status,CompatibleID | ConvertTo-Json';

/** One PnP node as Get-PnpDevice reports it. */
export interface PnpDevice {
  readonly pnpClass: string | null;
  readonly friendlyName: string | null;
  readonly instanceId: string;
  readonly manufacturer: string | null;
  readonly compatibleIds: readonly string[];
}

/** Parse `Get-PnpDevice ... | Select-Object ... | ConvertTo-Json`. */
export function parsePnpDevices(text: string): PnpDevice[] {
  const devices: PnpDevice[] = [];
  for (const record of parseJsonRecords(text, 'Get-PnpDevice output')) {
    const instanceId = stringField(record, 'InstanceId');
    if (instanceId === null) continue;
    const compatible = record.CompatibleID;
    devices.push({
      pnpClass: stringField(record, 'Class'),
      friendlyName: stringField(record, 'FriendlyName'),
      instanceId,
      manufacturer: stringField(record, 'Manufacturer'),
      // A single id is printed as a string, several as an array.
      compatibleIds: Array.isArray(compatible) ? compatible.filter((item): item is string => typeof item === 'string') : typeof compatible === 'string' ? [compatible] : [],
    });
  }
  return devices;
}

interface InstanceParts {
  readonly bus: 'USB' | 'HID';
  readonly vendorId: number;
  readonly productId: number;
  /** Interface number from `&MI_nn`, or null for a whole device. */
  readonly interfaceNumber: number | null;
  readonly suffix: string;
}

/** Split `USB\VID_046D&PID_C31C&MI_00\7&1c2d3e4f&0&0000` into its parts; undefined for other buses. */
export function parseInstanceId(instanceId: string): InstanceParts | undefined {
  const match = /^(USB|HID)\\VID_([0-9A-F]{4})&PID_([0-9A-F]{4})(?:&REV_[0-9A-F]{4})?(?:&MI_([0-9A-F]{2}))?(?:&[^\\]*)?\\(.+)$/i.exec(instanceId);
  if (!match) return undefined;
  return {
    bus: match[1]!.toUpperCase() as 'USB' | 'HID',
    vendorId: Number.parseInt(match[2]!, 16),
    productId: Number.parseInt(match[3]!, 16),
    interfaceNumber: match[4] === undefined ? null : Number.parseInt(match[4], 16),
    suffix: match[5]!,
  };
}

/** Interface class from a compatible id `USB\Class_03&SubClass_01&Prot_01`; undefined if none. */
function interfaceFromCompatible(ids: readonly string[]): UsbInterface | undefined {
  for (const id of ids) {
    const match = /^USB\\Class_([0-9A-F]{2})&SubClass_([0-9A-F]{2})&Prot_([0-9A-F]{2})$/i.exec(id);
    if (match) return { interfaceClass: Number.parseInt(match[1]!, 16), subClass: Number.parseInt(match[2]!, 16), protocol: Number.parseInt(match[3]!, 16) };
  }
  return undefined;
}

const idKey = (parts: Pick<InstanceParts, 'vendorId' | 'productId'>) => `${parts.vendorId.toString(16).padStart(4, '0')}:${parts.productId.toString(16).padStart(4, '0')}`;

/** A serial the device reported, which Windows uses as the instance suffix; generated ones contain "&". */
function serialFromSuffix(suffix: string): string | null {
  return suffix.includes('&') ? null : suffix;
}

interface Group {
  readonly key: string;
  readonly parts: InstanceParts;
  /** Instance prefix shared by the device's interface nodes, as Windows printed it. */
  readonly prefix: string;
  readonly interfaces: Map<number, { value: UsbInterface; roles: Set<'keyboard' | 'mouse'>; friendlyName: string | null; manufacturer: string | null }>;
}

/**
 * A protocol-0 HID interface whose HID children are a keyboard and/or a mouse becomes one entry per
 * role (protocol 1 / 2), the shape the class-combination rule reads.
 */
function expandRoles(entry: { value: UsbInterface; roles: ReadonlySet<'keyboard' | 'mouse'> }): UsbInterface[] {
  if (entry.value.interfaceClass !== 0x03 || entry.value.protocol !== 0 || entry.roles.size === 0) return [entry.value];
  return [...entry.roles].sort().map((role) => ({ ...entry.value, protocol: role === 'keyboard' ? 1 : 2 }));
}

/** Fold PnP nodes into one UsbDevice per physical device. */
export function usbDevicesFromPnp(nodes: readonly PnpDevice[]): UsbDevice[] {
  const parents: { node: PnpDevice; parts: InstanceParts; composite: boolean }[] = [];
  const groups = new Map<string, Group>();
  const hidChildren: { node: PnpDevice; parts: InstanceParts }[] = [];
  for (const node of nodes) {
    const parts = parseInstanceId(node.instanceId);
    if (!parts) continue;
    if (parts.bus === 'HID') {
      hidChildren.push({ node, parts });
      continue;
    }
    if (parts.interfaceNumber === null) {
      parents.push({ node, parts, composite: node.compatibleIds.some((id) => /^USB\\COMPOSITE$/i.test(id)) });
      continue;
    }
    const prefix = parts.suffix.replace(/&[^&]*$/, '');
    const key = `${idKey(parts)}|${prefix.toLowerCase()}`;
    const group = groups.get(key) ?? { key, parts, prefix, interfaces: new Map() };
    const value = interfaceFromCompatible(node.compatibleIds);
    if (value) group.interfaces.set(parts.interfaceNumber, { value, roles: new Set(), friendlyName: node.friendlyName, manufacturer: node.manufacturer });
    groups.set(key, group);
  }

  // HID children name what a non-boot (protocol 0) HID interface is; attached only when unambiguous.
  for (const child of hidChildren) {
    const candidates = [...groups.values()].filter((group) => idKey(group.parts) === idKey(child.parts));
    if (candidates.length !== 1 || child.parts.interfaceNumber === null) continue;
    const entry = candidates[0]!.interfaces.get(child.parts.interfaceNumber);
    const role = child.node.pnpClass?.toLowerCase();
    if (entry && (role === 'keyboard' || role === 'mouse')) entry.roles.add(role);
  }

  const devices: UsbDevice[] = [];
  const usedParents = new Set<PnpDevice>();
  for (const group of groups.values()) {
    const sameIds = parents.filter((parent) => parent.composite && idKey(parent.parts) === idKey(group.parts));
    const sameIdGroups = [...groups.values()].filter((other) => idKey(other.parts) === idKey(group.parts));
    const parent = sameIds.length === 1 && sameIdGroups.length === 1 ? sameIds[0] : undefined;
    if (parent) usedParents.add(parent.node);
    const ordered = [...group.interfaces.entries()].sort((a, b) => a[0] - b[0]).map(([, entry]) => entry);
    devices.push({
      path: parent?.node.instanceId ?? `USB\\VID_${group.parts.vendorId.toString(16).toUpperCase().padStart(4, '0')}&PID_${group.parts.productId.toString(16).toUpperCase().padStart(4, '0')}\\${group.prefix}`,
      vendorId: group.parts.vendorId,
      productId: group.parts.productId,
      manufacturer: parent?.node.manufacturer ?? ordered[0]?.manufacturer ?? null,
      product: parent?.node.friendlyName ?? ordered[0]?.friendlyName ?? null,
      serial: parent ? serialFromSuffix(parent.parts.suffix) : null,
      deviceClass: 0,
      interfaces: ordered.flatMap(expandRoles),
    });
  }
  // Single-interface devices (a plain mouse) and composites whose interfaces were not listed.
  for (const parent of parents) {
    if (usedParents.has(parent.node) || (parent.composite && [...groups.values()].some((group) => idKey(group.parts) === idKey(parent.parts)))) continue;
    const own = interfaceFromCompatible(parent.node.compatibleIds);
    devices.push({
      path: parent.node.instanceId,
      vendorId: parent.parts.vendorId,
      productId: parent.parts.productId,
      manufacturer: parent.node.manufacturer,
      product: parent.node.friendlyName,
      serial: serialFromSuffix(parent.parts.suffix),
      deviceClass: 0,
      interfaces: own ? [own] : [],
    });
  }
  return devices.sort((a, b) => a.path.localeCompare(b.path));
}

/** List present USB devices. Throws ProbeError when PowerShell fails. */
export async function listUsbDevicesWin32(run: CommandRunner): Promise<UsbDevice[]> {
  const stdout = await runChecked(run, 'powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', PNP_USB_COMMAND]);
  return usbDevicesFromPnp(parsePnpDevices(stdout));
}
