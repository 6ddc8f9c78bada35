/**
 * Every collector schema step, in order; step N brings the schema to version N.
 * Append new files here; never edit a step that has shipped.
 */
import type { CollectorMigration } from '../migration';
import { migration001Initial } from './001-initial';
import { migration002Triage } from './002-triage';
import { migration003Location } from './003-location';
import { migration004Search } from './004-search';
import { migration005RiskOnChange } from './005-risk-on-change';
import { migration006LocationSettled } from './006-location-settled';

export const COLLECTOR_MIGRATIONS: readonly CollectorMigration[] = [migration001Initial, migration002Triage, migration003Location, migration004Search, migration005RiskOnChange, migration006LocationSettled];

/** The schema version this code writes. */
export const COLLECTOR_SCHEMA_VERSION = COLLECTOR_MIGRATIONS.length;
