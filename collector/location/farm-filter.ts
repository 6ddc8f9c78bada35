/**
 * The device list's farm-cluster filter: `GET /v1/devices?farmCluster=<id>` lists the members of one
 * open possible-farm cluster, `farmCluster=any` every device in some cluster.
 */
import { registerDeviceFilter } from '../device-filters';

registerDeviceFilter({
  name: 'farmCluster',
  description: 'members of one possible-farm cluster (its id from GET /v1/farms), or `any` for devices in any cluster',
  maxLength: 15,
  toSql(value) {
    if (value === 'any') return { where: 'd.id IN (SELECT device_id FROM farm_members)', params: [] };
    if (!/^[1-9][0-9]{0,14}$/.test(value)) return null;
    return { where: 'd.id IN (SELECT device_id FROM farm_members WHERE cluster_id = ?)', params: [Number(value)] };
  },
});
