/**
 * Loading the policy file: read, parse, validate against the TypeBox schema, fill defaults.
 *
 * An explicit `--policy` file must exist. The managed file (platform paths) may be absent, which
 * means defaults. Every failure is a coded value whose message names the file and, for a bad value,
 * the field's JSON path (`/etc/telltale/policy.json: /intervals/scanSeconds must be >= 5`); broken
 * JSON names the line and column.
 */
import fs from 'node:fs';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { PolicySchema, resolvePolicy, DEFAULT_POLICY, type Policy, type ResolvedPolicy } from '../../common/policy';
import { fail, ok, type Result } from '../../common/result';
import { checkCollectorUrl } from '../sync/collector-url';
import { findJsonErrorPosition } from './json-error-position';

export interface LoadedPolicy {
  readonly policy: ResolvedPolicy;
  /** Where it came from: a file path, or "defaults". */
  readonly source: string;
}

export interface LoadPolicyOptions {
  /** An explicit file (`--policy`): must exist. Wins over the managed file. */
  readonly explicitFile?: string;
  /** The managed policy location for this OS: used when present. */
  readonly managedFile?: string;
}

/** Resolve the policy in force: explicit file, else managed file if it exists, else defaults. */
export function loadPolicy(options: LoadPolicyOptions): Result<LoadedPolicy> {
  if (options.explicitFile !== undefined) return loadPolicyFile(options.explicitFile);
  if (options.managedFile !== undefined && fs.existsSync(options.managedFile)) return loadPolicyFile(options.managedFile);
  return ok({ policy: DEFAULT_POLICY, source: 'defaults' });
}

/** Read and validate one policy file. */
export function loadPolicyFile(file: string): Result<LoadedPolicy> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'the file does not exist' : code === 'EACCES' ? 'permission denied' : String(code ?? error);
    return fail('POLICY_UNREADABLE', `${file}: cannot read the policy (${reason})`);
  }
  const parsed = parsePolicyText(text, file);
  if (!parsed.ok) return parsed;
  return ok({ policy: resolvePolicy(parsed.value), source: file });
}

/** Parse and validate policy JSON; `file` only labels the messages. */
export function parsePolicyText(text: string, file: string): Result<Policy> {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    return fail('POLICY_INVALID', `${file}: not valid JSON (${describeJsonError(error, text)})`);
  }
  const errors = [...Value.Errors(PolicySchema, value)];
  if (errors.length > 0) {
    // The first few are enough to fix the file; a long list hides the point.
    const shown = errors.slice(0, 5).map(describeValueError);
    const more = errors.length > shown.length ? `; and ${errors.length - shown.length} more` : '';
    return fail('POLICY_INVALID', `${file}: ${shown.join('; ')}${more}`);
  }
  const policy = value as Policy;
  // The schema checks the type; whether the agent may send reports there is a rule of its own.
  if (policy.collectorUrl !== undefined) {
    const url = checkCollectorUrl(policy.collectorUrl);
    if (!url.ok) return fail('POLICY_INVALID', `${file}: /collectorUrl: ${url.error.message}`);
  }
  return ok(policy);
}

function describeValueError(error: ValueError): string {
  const where = error.path === '' ? 'the policy' : error.path;
  const schema = error.schema as { minimum?: number; maximum?: number; minLength?: number; type?: string };
  if (error.message === 'Unexpected property') return `${where} is not a known setting`;
  if (/greater or equal/.test(error.message) && schema.minimum !== undefined) return `${where} must be >= ${schema.minimum}`;
  if (/less or equal/.test(error.message) && schema.maximum !== undefined) return `${where} must be <= ${schema.maximum}`;
  if (/string length greater/.test(error.message) && schema.minLength !== undefined) {
    return `${where} must be at least ${schema.minLength} character${schema.minLength === 1 ? '' : 's'} long`;
  }
  if (/^Expected (integer|number|string|boolean|object|array)$/.test(error.message)) {
    const expected = error.message.slice('Expected '.length);
    return `${where} must be ${/^[aeiou]/.test(expected) ? 'an' : 'a'} ${expected}`;
  }
  return `${where}: ${error.message}`;
}

/** "line 3 column 15: expected ':' but found '{'", located by our own scanner (V8 often omits it). */
function describeJsonError(error: unknown, text: string): string {
  const position = findJsonErrorPosition(text);
  if (position === null) return error instanceof Error ? error.message : String(error);
  return `line ${position.line} column ${position.column}: ${position.reason}`;
}
