/**
 * Every schema step, in order. A step's `version` is its position: step N sets user_version to N.
 * Add a new file per step and append it here; never edit a step that has shipped.
 */
import type { Migration } from '../migration';
import { migration001Initial } from './001-initial';
import { migration002Outbox } from './002-outbox';
import { migration003Audit } from './003-audit';

export const MIGRATIONS: readonly Migration[] = [migration001Initial, migration002Outbox, migration003Audit];
