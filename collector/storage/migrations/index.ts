/**
 * Every collector schema step, in order; step N brings the schema to version N.
 * Append new files here; never edit a step that has shipped.
 */
import type { CollectorMigration } from '../migration';
import { migration001Initial } from './001-initial';
import { migration002Triage } from './002-triage';

export const COLLECTOR_MIGRATIONS: readonly CollectorMigration[] = [migration001Initial, migration002Triage];

/** The schema version this code writes. */
export const COLLECTOR_SCHEMA_VERSION = COLLECTOR_MIGRATIONS.length;
