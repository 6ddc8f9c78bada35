/**
 * Generates agent/detect/catalog/catalog.generated.json from the in-repo LOLRMM copy plus
 * Telltale's extra entries.
 *
 *   npm run catalog                                  regenerate from tools/catalog/lolrmm/
 *   npm run catalog -- --import <rmm_tools.json>     refresh the in-repo LOLRMM copy first
 *   npm run catalog -- --check                       exit 1 if the committed file is stale
 *
 * LOLRMM (Apache-2.0, see NOTICE) is Windows-centred and noisy: InstallationPaths mixes bare
 * executable names with paths, PEMetadata is an object or a list, some domains are placeholders
 * ("user_managed", "<operator-configured ...>"), some carry ":443" or regex fragments, and a few
 * names are duplicated. Cleaning rules are in the functions below; each says why.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Catalog, CatalogEntry, CatalogOs, ToolCategory } from '../../agent/detect/catalog/catalog';
import { EXTRA_ENTRIES, ID_ALIASES } from './extra-entries';
import { parseOrExit, type CommandSpec, type FlagSpec } from '../../common/command-line';

const root = path.resolve(import.meta.dirname, '../..');
export const LOLRMM_COPY = path.join(root, 'tools/catalog/lolrmm/rmm_tools.trimmed.json');
export const CATALOG_FILE = path.join(root, 'agent/detect/catalog/catalog.generated.json');

interface LolrmmPe {
  Filename?: string | null;
  OriginalFileName?: string | null;
}
export interface LolrmmTool {
  Name: string;
  Category?: string | null;
  Details?: {
    Website?: string | null;
    PEMetadata?: LolrmmPe | LolrmmPe[] | null;
    SupportedOS?: string[] | null;
    InstallationPaths?: string[] | null;
  } | null;
  Artifacts?: { Network?: { Domains?: string[] | null; Ports?: (number | string)[] | null }[] | null } | null;
  CodeSigning?: { certificates?: { signer_name?: string | null; certificate_thumbprint?: string | null }[] | null } | null;
}

/** Keep only the fields the generator reads (drops certificate DER bodies: 2 MB -> 0.3 MB). */
export function trimLolrmm(tools: readonly LolrmmTool[]): LolrmmTool[] {
  return tools.map((tool) => ({
    Name: tool.Name,
    Category: tool.Category ?? null,
    Details: {
      Website: tool.Details?.Website ?? null,
      PEMetadata: tool.Details?.PEMetadata ?? null,
      SupportedOS: tool.Details?.SupportedOS ?? null,
      InstallationPaths: tool.Details?.InstallationPaths ?? null,
    },
    Artifacts: { Network: tool.Artifacts?.Network ?? null },
    CodeSigning: {
      certificates: (tool.CodeSigning?.certificates ?? []).map((certificate) => ({
        signer_name: certificate.signer_name ?? null,
        certificate_thumbprint: certificate.certificate_thumbprint ?? null,
      })),
    },
  }));
}

export function kebabId(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

interface Draft {
  id: string;
  name: string;
  category: ToolCategory;
  fromLolrmm: boolean;
  fromTelltale: boolean;
  processes: Record<CatalogOs, Set<string>>;
  paths: Record<CatalogOs, Set<string>>;
  ports: Set<number>;
  domains: Set<string>;
  signers: Set<string>;
}

function emptyDraft(id: string, name: string, category: ToolCategory): Draft {
  return {
    id,
    name,
    category,
    fromLolrmm: false,
    fromTelltale: false,
    processes: { win32: new Set(), darwin: new Set(), linux: new Set() },
    paths: { win32: new Set(), darwin: new Set(), linux: new Set() },
    ports: new Set(),
    domains: new Set(),
    signers: new Set(),
  };
}

/** Which OSes LOLRMM says a tool supports (its spelling varies: Mac, MacOS, macOS...). */
function supportedOses(tool: LolrmmTool): Set<CatalogOs> {
  const oses = new Set<CatalogOs>();
  for (const raw of tool.Details?.SupportedOS ?? []) {
    const value = raw.toLowerCase();
    if (value === 'windows') oses.add('win32');
    else if (value === 'mac' || value === 'macos') oses.add('darwin');
    else if (value === 'linux') oses.add('linux');
  }
  return oses;
}

/**
 * Names LOLRMM lists that would raise false alarms on ordinary machines: Windows' own compositor
 * (dwm.exe, listed under Teramind), generic installer and launcher names shared by many programs,
 * and the NVDA screen reader (an accessibility tool; flagging its users is wrong).
 */
const DENIED_PROCESS_NAMES = new Set(['dwm.exe', 'installshield setup.exe', 'connect.exe', 'nvda.exe', 'nvda_*.exe']);

/**
 * A clean process name, or undefined for noise: wildcard-only names (`*.exe`), names with path
 * separators left in, and LOLRMM's `.exee` typo (G2MHost.exee) which is corrected.
 */
export function cleanProcessName(raw: string): string | undefined {
  let name = raw.trim().toLowerCase();
  if (name.endsWith('.exee')) name = name.slice(0, -1);
  // Regex fragments ("wec_launcher_[a-z0-9]*_.exe") become plain wildcards.
  name = name.replace(/\[[^\]]*\](\{\d+(,\d+)?\}|[+*])?/g, '*').replace(/\*+/g, '*');
  if (DENIED_PROCESS_NAMES.has(name)) return undefined;
  if (name === '' || /[\\/]/.test(name)) return undefined;
  if (name.replace(/\*/g, '').replace(/^\.exe$/, '') === '') return undefined;
  if (name.startsWith('*')) return undefined; // "*host.exe" would match far too much
  if (name.includes('%') || name.includes('<') || name.includes('(')) return undefined;
  return name;
}

/**
 * A clean domain, or undefined for placeholders: empty, `user_managed`, `<operator-configured...>`,
 * example domains, wildcard-only strings, things without a dot. `:port` suffixes are dropped and
 * regex fragments (`relay-[a-f0-9]{8}`) become `*`.
 */
export function cleanDomain(raw: string): string | undefined {
  let domain = raw.trim().toLowerCase();
  if (domain === '' || domain.includes('<') || domain.includes(' ') || domain === 'user_managed') return undefined;
  domain = domain.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '').replace(/:\d+$/, '');
  domain = domain.replace(/\[[^\]]*\](\{\d+(,\d+)?\}|[+*])?/g, '*').replace(/\*+/g, '*');
  if (!domain.includes('.')) return undefined;
  const withoutWildcards = domain.replace(/[*.]/g, '');
  if (withoutWildcards === '') return undefined;
  if (/(^|\.)example\.(com|org|net)$/.test(domain) || domain.endsWith('.local') || domain.endsWith('.localhost')) return undefined;
  if (!/^[a-z0-9*.-]+$/.test(domain)) return undefined;
  return domain;
}

/**
 * Split one LOLRMM InstallationPaths item: a bare name is a process; a Windows path gives its
 * directory (if wildcard-free) as an install path and its `.exe` basename as a process; a Unix path
 * goes to darwin (/Applications, /Library) or linux, with its binary basename as a process.
 */
function addInstallationItem(draft: Draft, raw: string, oses: Set<CatalogOs>): void {
  const item = raw.trim();
  if (item === '') return;
  const isWindowsPath = /^[a-z]:\\/i.test(item) || item.includes('\\') || item.startsWith('%');
  if (isWindowsPath) {
    const parts = item.split('\\');
    const last = parts[parts.length - 1] ?? '';
    if (last.toLowerCase().endsWith('.exe')) {
      const name = cleanProcessName(last);
      if (name) draft.processes.win32.add(name);
    }
    // The install directory: drop a trailing "*" or file name, keep only wildcard-free absolute paths.
    const directory = (last === '*' || last === '' || last.includes('.') ? parts.slice(0, -1) : parts).join('\\');
    if (!directory.includes('*') && !directory.includes('<') && !directory.includes('(Random)') && /^([a-z]:|%[a-z()0-9_]+%)/i.test(directory)) {
      draft.paths.win32.add(directory);
    }
    return;
  }
  if (item.startsWith('/')) {
    const os: CatalogOs = /^\/(Applications|Library|System|Users)\//.test(item) ? 'darwin' : 'linux';
    // A trailing "/" or "/*" means a directory: an install path, never a process name.
    const isDirectory = /\/\*?$/.test(item);
    const trimmed = item.replace(/\/\*?$/, '');
    const base = isDirectory ? '' : path.posix.basename(trimmed);
    if (!trimmed.includes('*')) {
      if (os === 'darwin' && base.endsWith('.app')) {
        draft.paths.darwin.add(trimmed);
        const name = cleanProcessName(base.slice(0, -4));
        if (name) draft.processes.darwin.add(name);
      } else if (!/\.(service|conf|json|plist|log|ini|cfg|xml|txt)$/i.test(base) && !trimmed.startsWith('/etc/')) {
        draft.paths[os].add(trimmed);
        if (base !== '' && (/\/s?bin\//.test(trimmed) || (!base.includes('.') && /\/(agent|meshagent|Remotely|Desktop)\//.test(trimmed)))) {
          const name = cleanProcessName(base);
          if (name) draft.processes[os].add(name);
        }
      }
    }
    return;
  }
  // A bare name: Windows if it ends in .exe; otherwise a Unix process on the OSes the tool supports.
  const name = cleanProcessName(item);
  if (!name) return;
  if (name.endsWith('.exe')) draft.processes.win32.add(name);
  else if (name.endsWith('.app')) draft.processes.darwin.add(name.slice(0, -4));
  else if (!name.includes('.')) {
    for (const os of oses) if (os !== 'win32') draft.processes[os].add(name);
  }
}

function categoryOf(raw: string | null | undefined): ToolCategory {
  return (raw ?? '').toUpperCase() === 'RAT' ? 'remote-access' : 'rmm';
}

export function buildCatalog(lolrmm: readonly LolrmmTool[]): Catalog {
  const drafts = new Map<string, Draft>();
  for (const tool of lolrmm) {
    const name = tool.Name.trim();
    const rawId = kebabId(name);
    const id = ID_ALIASES[rawId] ?? rawId;
    if (id === '') continue;
    // Duplicated LOLRMM names (ISL Online, SimpleHelp...) merge into one entry.
    const draft = drafts.get(id) ?? emptyDraft(id, name, categoryOf(tool.Category));
    draft.fromLolrmm = true;
    drafts.set(id, draft);
    const oses = supportedOses(tool);
    const pe = tool.Details?.PEMetadata;
    for (const entry of Array.isArray(pe) ? pe : pe ? [pe] : []) {
      for (const file of [entry.Filename, entry.OriginalFileName]) {
        if (!file) continue;
        const clean = cleanProcessName(file);
        if (clean?.endsWith('.exe')) draft.processes.win32.add(clean);
      }
    }
    for (const item of tool.Details?.InstallationPaths ?? []) addInstallationItem(draft, item, oses);
    for (const network of tool.Artifacts?.Network ?? []) {
      for (const domain of network.Domains ?? []) {
        const clean = cleanDomain(domain);
        if (clean) draft.domains.add(clean);
      }
      for (const port of network.Ports ?? []) {
        const number = typeof port === 'number' ? port : Number.parseInt(String(port), 10);
        if (Number.isInteger(number) && number > 0 && number < 65536) draft.ports.add(number);
      }
    }
    for (const certificate of tool.CodeSigning?.certificates ?? []) {
      const signer = certificate.signer_name?.trim();
      if (signer) draft.signers.add(signer);
    }
  }
  for (const extra of EXTRA_ENTRIES) {
    const draft = drafts.get(extra.id) ?? emptyDraft(extra.id, extra.name, extra.category);
    draft.fromTelltale = true;
    draft.name = extra.name;
    draft.category = extra.category;
    drafts.set(extra.id, draft);
    for (const name of extra.win32 ?? []) draft.processes.win32.add(name.toLowerCase());
    for (const name of extra.darwin ?? []) draft.processes.darwin.add(name.toLowerCase());
    for (const name of extra.linux ?? []) draft.processes.linux.add(name.toLowerCase());
    for (const item of extra.win32Paths ?? []) draft.paths.win32.add(item);
    for (const item of extra.darwinPaths ?? []) draft.paths.darwin.add(item);
    for (const item of extra.linuxPaths ?? []) draft.paths.linux.add(item);
    for (const port of extra.ports ?? []) draft.ports.add(port);
    for (const domain of extra.domains ?? []) draft.domains.add(domain);
  }
  const sorted = (set: Set<string>) => [...set].sort();
  const entries: CatalogEntry[] = [...drafts.values()]
    .filter((draft) => draft.processes.win32.size + draft.processes.darwin.size + draft.processes.linux.size + draft.paths.win32.size + draft.paths.darwin.size + draft.paths.linux.size > 0)
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((draft) => ({
      id: draft.id,
      name: draft.name,
      category: draft.category,
      origin: draft.fromLolrmm && draft.fromTelltale ? 'lolrmm+telltale' : draft.fromLolrmm ? 'lolrmm' : 'telltale',
      processes: { win32: sorted(draft.processes.win32), darwin: sorted(draft.processes.darwin), linux: sorted(draft.processes.linux) },
      paths: { win32: sorted(draft.paths.win32), darwin: sorted(draft.paths.darwin), linux: sorted(draft.paths.linux) },
      ports: [...draft.ports].sort((a, b) => a - b),
      domains: sorted(draft.domains),
      signers: sorted(draft.signers),
    }));
  return {
    version: 1,
    source: 'LOLRMM (magicsword-io/LOLRMM @ 3c75cf09, Apache-2.0) + Telltale extra entries; generated by tools/catalog/generate.ts',
    entries,
  };
}

export function renderCatalog(catalog: Catalog): string {
  return `${JSON.stringify(catalog, null, 1)}\n`;
}

export function generateFromRepo(): string {
  const lolrmm = JSON.parse(fs.readFileSync(LOLRMM_COPY, 'utf8')) as LolrmmTool[];
  return renderCatalog(buildCatalog(lolrmm));
}

export const CATALOG_COMMAND = {
  usage: 'npm run catalog --',
  name: 'catalog',
  summary:
    `Regenerates ${path.relative(root, CATALOG_FILE)}, the remote-tool catalog the agent matches processes against, from the ` +
    `in-repo LOLRMM copy (${path.relative(root, LOLRMM_COPY)}) plus Telltale's own entries (tools/catalog/extra-entries.ts). ` +
    'Review the diff and commit it. Takes a second.',
  flags: {
    import: { type: 'string', value: 'FILE', description: "Replace the in-repo LOLRMM copy with LOLRMM's rmm_tools.json (trimmed to the fields used) first." },
    check: { type: 'boolean', description: 'Write nothing; exit 1 if the committed catalog differs from a fresh generation.' },
  },
  examples: [
    ['npm run catalog', 'Regenerate from the in-repo copy.'],
    ['npm run catalog -- --import ~/Downloads/rmm_tools.json', 'Refresh LOLRMM, then regenerate.'],
    ['npm run catalog -- --check', 'What CI runs.'],
  ],
  exitCodes: [
    [0, 'written (or up to date with --check)'],
    [1, 'stale (with --check)'],
    [2, 'usage: an unknown flag'],
  ],
} as const satisfies CommandSpec<Record<string, FlagSpec>>;

function main(argv: readonly string[]): void {
  const args = parseOrExit(CATALOG_COMMAND, argv, process);
  if (args.import !== undefined) {
    const input = args.import;
    const tools = JSON.parse(fs.readFileSync(input, 'utf8')) as LolrmmTool[];
    fs.writeFileSync(LOLRMM_COPY, `${JSON.stringify(trimLolrmm(tools), null, 1)}\n`);
    console.log(`Imported ${tools.length} LOLRMM tools into ${path.relative(root, LOLRMM_COPY)}`);
  }
  const text = generateFromRepo();
  if (args.check) {
    const current = fs.existsSync(CATALOG_FILE) ? fs.readFileSync(CATALOG_FILE, 'utf8') : '';
    if (current !== text) {
      console.error(`${path.relative(root, CATALOG_FILE)} is stale: run npm run catalog`);
      process.exit(1);
    }
    return;
  }
  fs.writeFileSync(CATALOG_FILE, text);
  const catalog = JSON.parse(text) as Catalog;
  for (const os of ['win32', 'darwin', 'linux'] as const) {
    const tools = catalog.entries.filter((entry) => entry.processes[os].length + entry.paths[os].length > 0).length;
    const names = catalog.entries.reduce((sum, entry) => sum + entry.processes[os].length, 0);
    console.log(`${os}: ${tools} tools, ${names} process names`);
  }
  console.log(`Wrote ${catalog.entries.length} entries to ${path.relative(root, CATALOG_FILE)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main(process.argv.slice(2));
}
