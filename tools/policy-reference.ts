/**
 * Prints the policy configuration reference (a Markdown table) from the TypeBox schema, so the
 * README's reference is derived from the same schema that validates policy files.
 *
 *   npx tsx tools/policy-reference.ts
 */
import type { TSchema } from '@sinclair/typebox';
import { DEFAULT_POLICY, PolicySchema } from '../common/policy';

interface Row {
  readonly field: string;
  readonly type: string;
  readonly default: string;
  readonly description: string;
}

function typeOf(schema: TSchema): string {
  const type = schema.type as string | undefined;
  if (type === 'array') return `array of ${typeOf(schema.items as TSchema)}`;
  const bounds: string[] = [];
  if (schema.minimum !== undefined) bounds.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined) bounds.push(`≤ ${schema.maximum}`);
  if (schema.minLength !== undefined) bounds.push(`length ≥ ${schema.minLength}`);
  return [type ?? 'value', ...bounds].join(', ');
}

function defaultAt(path: readonly string[]): string {
  let value: unknown = DEFAULT_POLICY;
  for (const part of path) value = (value as Record<string, unknown> | undefined)?.[part];
  return value === undefined ? '' : JSON.stringify(value);
}

export function policyReferenceRows(schema: TSchema = PolicySchema, path: readonly string[] = []): Row[] {
  const rows: Row[] = [];
  for (const [name, child] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) {
    const childPath = [...path, name];
    if (child.type === 'object') {
      rows.push(...policyReferenceRows(child, childPath));
    } else {
      rows.push({
        field: childPath.join('.'),
        type: typeOf(child),
        default: defaultAt(childPath),
        description: (child.description as string | undefined) ?? (child.type === 'array' ? ((child.items as TSchema).description as string) ?? '' : ''),
      });
    }
  }
  return rows;
}

export function policyReferenceMarkdown(): string {
  const lines = ['| field | type | default | meaning |', '|---|---|---|---|'];
  for (const row of policyReferenceRows()) {
    lines.push(`| \`${row.field}\` | ${row.type} | ${row.default ? `\`${row.default}\`` : '—'} | ${row.description} |`);
  }
  return lines.join('\n');
}

export const README_START = '<!-- policy-reference:start -->';
export const README_END = '<!-- policy-reference:end -->';

/** Returns `readme` with the text between the policy-reference markers replaced by the generated table. */
export function withPolicyReference(readme: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error('README has no policy-reference markers');
  return `${readme.slice(0, start + README_START.length)}\n${policyReferenceMarkdown()}\n${readme.slice(end)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--write')) {
    const fs = await import('node:fs');
    fs.writeFileSync('README.md', withPolicyReference(fs.readFileSync('README.md', 'utf8')));
  } else {
    console.log(policyReferenceMarkdown());
  }
}
