/**
 * Extra device-list filters other collector modules register (e.g. the laptop-farm cluster): each
 * becomes an optional query parameter of GET /v1/devices and adds one bound SQL condition.
 *
 * Register at module load, before `buildCollector` registers the routes: the route's query schema
 * is built from the filters registered by then, so an unknown parameter is still a 400.
 */
import type { Dialect, SqlValue } from './storage/sql';

export interface DeviceFilter {
  /** The query parameter, e.g. `farmCluster` (letters only; not one of the built-in parameters). */
  readonly name: string;
  /** One line for the README and errors. */
  readonly description: string;
  /** Longest accepted value. */
  readonly maxLength: number;
  /**
   * A condition on the `devices` table (aliased `d`) with `?` placeholders, and their values; `value`
   * is the parameter as given (already length-checked). Return null to refuse the value (400).
   */
  toSql(value: string, dialect: Dialect): { readonly where: string; readonly params: readonly SqlValue[] } | null;
}

const BUILT_IN = new Set(['cursor', 'limit', 'sort', 'risk', 'kind', 'silent', 'tag', 'q', 'retired']);
const registered = new Map<string, DeviceFilter>();

/** Add a device-list filter; throws on a bad or duplicate name. */
export function registerDeviceFilter(filter: DeviceFilter): void {
  if (!/^[a-zA-Z]{1,40}$/.test(filter.name)) throw new Error(`Device filter name ${JSON.stringify(filter.name)} must be letters only`);
  if (BUILT_IN.has(filter.name) || registered.has(filter.name)) throw new Error(`Device filter ${filter.name} is already defined`);
  registered.set(filter.name, filter);
}

/** The filters registered so far, in registration order. */
export function deviceFilters(): readonly DeviceFilter[] {
  return [...registered.values()];
}
