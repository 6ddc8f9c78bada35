/**
 * Farm correlation on SQLite through the real collector: the scenarios of
 * test/helpers/collector/farm-scenarios.ts (PostgreSQL runs them in test/integration/).
 */
import { test } from 'node:test';
import { clusterLifecycleScenario, staleClusterScenario, unexpectedEgressScenario } from '../helpers/collector/farm-scenarios';

const sqlite = async () => undefined;

test('clusters form at three hostnames, grow, shrink, and close for an approved place (SQLite)', (t) => clusterLifecycleScenario(t, sqlite));

test('unexpected egress: another country than expected, or a hosting ASN; IT sets the country (SQLite)', (t) => unexpectedEgressScenario(t, sqlite));

test('members that stop reporting leave their cluster on the timed sweep (SQLite)', (t) => staleClusterScenario(t, sqlite));
