import type { Rule } from 'eslint';
export declare const AGENT_RUNTIME_PACKAGES: string[];
export declare const COLLECTOR_RUNTIME_PACKAGES: string[];
export declare const LAYER_RULES: Record<string, { layers: string[]; only?: Record<string, string[]>; node: boolean; electron: boolean; packages: '*' | string[] }>;
export declare function checkImport(file: string, specifier: string, root: string): string | null;
export declare const importLayersRule: Rule.RuleModule;
declare const plugin: { rules: Record<string, Rule.RuleModule> };
export default plugin;
