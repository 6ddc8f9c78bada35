import { typesFor, type CollectorMigration } from '../migration';

/**
 * Location correlation: each device's latest location (fleet-keyed hashes from its reports, the
 * egress address the collector saw and its ASN/country), indexed on every signal that links
 * devices, so a report's cluster is found with a few index lookups. Farm clusters and their members,
 * IT's approved shared places, and expected egress countries (per device, or '*' for the fleet).
 * Rows are keyed by device id without a foreign key; deleting a device deletes them explicitly.
 */
export const migration003Location: CollectorMigration = {
  version: 3,
  name: 'location',
  statements(dialect) {
    const t = typesFor(dialect);
    return [
      `CREATE TABLE device_locations (
        device_id TEXT PRIMARY KEY,
        gateway_hash TEXT,
        bssid_hash TEXT,
        ssid_hash TEXT,
        subnet_hash TEXT,
        timezone TEXT,
        utc_offset_minutes ${t.bigint},
        default_route_tunnel ${t.bigint} NOT NULL DEFAULT 0,
        interface_kind TEXT,
        egress_ip TEXT,
        egress_asn ${t.bigint},
        egress_org TEXT,
        egress_country TEXT,
        egress_hosting ${t.bigint} NOT NULL DEFAULT 0,
        seen_at ${t.bigint} NOT NULL
      )${t.strict}`,
      `CREATE INDEX device_locations_gateway ON device_locations(gateway_hash, seen_at) WHERE gateway_hash IS NOT NULL`,
      `CREATE INDEX device_locations_bssid ON device_locations(bssid_hash, seen_at) WHERE bssid_hash IS NOT NULL`,
      `CREATE INDEX device_locations_egress ON device_locations(egress_ip, seen_at) WHERE egress_ip IS NOT NULL`,
      `CREATE TABLE farm_clusters (
        id ${t.serialKey},
        opened_at ${t.bigint} NOT NULL,
        updated_at ${t.bigint} NOT NULL,
        closed_at ${t.bigint},
        device_count ${t.bigint} NOT NULL,
        members TEXT NOT NULL,
        signals TEXT NOT NULL
      )${t.strict}`,
      `CREATE INDEX farm_clusters_open ON farm_clusters(closed_at, updated_at)`,
      `CREATE TABLE farm_members (
        device_id TEXT PRIMARY KEY,
        cluster_id ${t.bigint} NOT NULL
      )${t.strict}`,
      `CREATE INDEX farm_members_cluster ON farm_members(cluster_id)`,
      `CREATE TABLE approved_places (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        label TEXT NOT NULL,
        created_at ${t.bigint} NOT NULL,
        PRIMARY KEY (kind, value)
      )${t.strict}`,
      `CREATE TABLE expected_countries (
        scope TEXT PRIMARY KEY,
        country TEXT NOT NULL,
        updated_at ${t.bigint} NOT NULL
      )${t.strict}`,
    ];
  },
};
