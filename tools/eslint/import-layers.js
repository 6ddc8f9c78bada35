// ESLint rule: imports only go downward through Telltale's layers.
//
//   common     schemas, types and pure functions: no Node, no DOM-only APIs, no Electron
//   protocol   the wire protocol's code (canonical JSON, report signing, hashing, verifying, the
//              verify worker): common + Node
//   agent      the agent core under plain Node: common + protocol + Node, never electron, and only
//              the runtime packages it ships with
//   collector  the IT server: common + protocol + Node, never electron, never the agent
//   collector/dashboard  the IT dashboard's browser code: DOM only, plus common and the API's response
//              shapes (collector/schemas, for types)
//   main       Electron glue: common + agent + electron, and host/ only for the host's message protocol
//   host       the agent host, run by main in a utilityProcess: common + agent + Node; it talks to
//              main through the process.parentPort global, so never imports electron
//   preload    the bridge: common + electron (it is bundled, sandboxed)
//   renderer   DOM only: common, nothing from Node or Electron
//   lab        the detector lab (bench and tests drive it): common + protocol + agent + Node, never test
//   lab/collector  the collector lab (lab collector, test devices, the route fuzz; bench and tests
//              drive it): common + protocol + collector + Node, never the agent, never test
//   bench      benchmarks: common + protocol + agent + collector + lab + lab/collector + Node, never test
//   test, tools, scripts: anything
// A layer may be a sub-folder of another (collector/dashboard); a file belongs to the longest match.
import path from 'node:path';
import { builtinModules } from 'node:module';

/** Packages the agent core may load at run time: each is a `dependencies` entry it ships with. */
export const AGENT_RUNTIME_PACKAGES = ['@sinclair/typebox', 'better-sqlite3', 'systeminformation', 'uiohook-napi'];
/** Packages the collector may load at run time. */
export const COLLECTOR_RUNTIME_PACKAGES = ['@sinclair/typebox', '@fastify/rate-limit', '@fastify/type-provider-typebox', 'better-sqlite3', 'fastify', 'pg'];

/**
 * For each layer: which of our layers it may import, and which outside modules. `only` narrows an
 * allowed layer to some of its files (repo-relative, without extension).
 */
export const LAYER_RULES = {
  common: { layers: ['common'], node: false, electron: false, packages: ['@sinclair/typebox'] },
  protocol: { layers: ['common', 'protocol'], node: true, electron: false, packages: ['@sinclair/typebox'] },
  agent: { layers: ['common', 'protocol', 'agent'], node: true, electron: false, packages: AGENT_RUNTIME_PACKAGES },
  collector: { layers: ['common', 'protocol', 'collector'], node: true, electron: false, packages: COLLECTOR_RUNTIME_PACKAGES },
  'collector/dashboard': { layers: ['common', 'collector', 'collector/dashboard'], only: { collector: ['collector/schemas'] }, node: false, electron: false, packages: [] },
  main: { layers: ['common', 'agent', 'main', 'host'], only: { host: ['host/agent-host-protocol'] }, node: true, electron: true, packages: [...AGENT_RUNTIME_PACKAGES, 'electron'] },
  host: { layers: ['common', 'protocol', 'agent', 'host'], node: true, electron: false, packages: AGENT_RUNTIME_PACKAGES },
  preload: { layers: ['common', 'preload'], node: false, electron: true, packages: [] },
  renderer: { layers: ['common', 'renderer'], node: false, electron: false, packages: [] },
  lab: { layers: ['common', 'protocol', 'agent', 'lab'], node: true, electron: false, packages: '*' },
  'lab/collector': { layers: ['common', 'protocol', 'collector', 'lab/collector'], node: true, electron: false, packages: '*' },
  bench: { layers: ['common', 'protocol', 'agent', 'collector', 'lab', 'lab/collector', 'bench'], node: true, electron: false, packages: '*' },
};

/** Layer names, longest first, so a sub-folder layer wins over its parent. */
const OWN_LAYERS = Object.keys(LAYER_RULES).sort((a, b) => b.length - a.length);

const BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

function layerOf(file, root) {
  const relative = path.relative(root, file).split(path.sep).join('/');
  if (relative.startsWith('..')) return null;
  return OWN_LAYERS.find((layer) => relative === layer || relative.startsWith(`${layer}/`)) ?? null;
}

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Returns a message when `specifier` imported from `file` breaks the layering, else null. */
export function checkImport(file, specifier, root) {
  const layer = layerOf(file, root);
  if (!layer) return null;
  const rule = LAYER_RULES[layer];
  if (specifier.startsWith('.')) {
    const resolved = path.resolve(path.dirname(file), specifier);
    const target = layerOf(resolved, root);
    if (target === null) return `${layer}/ may not import outside the layered folders ('${specifier}')`;
    if (!rule.layers.includes(target)) return `${layer}/ may not import from ${target}/ (allowed: ${rule.layers.join(', ')})`;
    const only = rule.only?.[target];
    const targetModule = path.relative(root, resolved).split(path.sep).join('/').replace(/\.[cm]?[jt]s$/, '');
    if (only && !only.includes(targetModule)) return `${layer}/ may import from ${target}/ only ${only.join(', ')} ('${specifier}')`;
    return null;
  }
  if (BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0])) {
    return rule.node ? null : `${layer}/ may not import Node built-in '${specifier}'`;
  }
  const name = packageName(specifier);
  if (name === 'electron') return rule.electron ? null : `${layer}/ may not import electron`;
  if (rule.packages === '*' || rule.packages.includes(name)) return null;
  return `${layer}/ may not import package '${name}'`;
}

export const importLayersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports go only downward through the layers: common <- agent/collector <- main; renderer and preload stay thin.' },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, additionalProperties: false }],
    messages: { layer: '{{message}}' },
  },
  create(context) {
    const root = context.options[0]?.root ?? context.cwd;
    const file = context.filename;
    function check(node, source) {
      if (!source || typeof source.value !== 'string') return;
      // Type-only imports vanish at build time, but layering is about design, so they count too.
      const message = checkImport(file, source.value, root);
      if (message) context.report({ node, messageId: 'layer', data: { message } });
    }
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
      CallExpression(node) {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments[0]?.type === 'Literal') {
          check(node, node.arguments[0]);
        }
      },
    };
  },
};

export default { rules: { 'import-layers': importLayersRule } };
