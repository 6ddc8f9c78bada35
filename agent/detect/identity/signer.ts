/**
 * Executable identity on Windows and macOS: a process whose binary is code-signed by a catalogued
 * tool's publisher (Authenticode subject, or the Developer ID organisation from codesign) is that
 * tool, whatever the file is called. LOLRMM records the signers of most Windows tools.
 *
 * Bounded: each executable is verified once (the signer reader caches by file version) and at most
 * `maxNewPerWindow` new executables are verified per minute, since each costs a PowerShell or
 * codesign run. Signers of platform vendors (Microsoft, Apple, Google) sign far more than the
 * catalogued tool and never identify one; a signer shared by several entries names the first.
 */
import type { Catalog, CatalogEntry } from '../catalog/catalog';
import type { SignerReader } from '../signers/read-signer';

const PLATFORM_VENDORS = /^(microsoft|apple|google)\b/i;

/** Lowercased signer → the catalog entry it identifies. */
export function signerIndex(catalog: Catalog): Map<string, CatalogEntry> {
  const index = new Map<string, CatalogEntry>();
  for (const entry of catalog.entries) {
    for (const signer of entry.signers) {
      const key = signer.trim().toLowerCase();
      if (key === '' || PLATFORM_VENDORS.test(key) || index.has(key)) continue;
      index.set(key, entry);
    }
  }
  return index;
}

export interface SignerIdentity {
  readonly entry: CatalogEntry;
  readonly signer: string;
}

export class SignerIdentifier {
  private readonly index: Map<string, CatalogEntry>;
  private readonly known = new Map<string, string | null>();
  private windowStart = 0;
  private readsInWindow = 0;

  constructor(
    catalog: Catalog,
    private readonly readSigner: SignerReader,
    private readonly options: { maxNewPerWindow?: number; now?: () => number } = {},
  ) {
    this.index = signerIndex(catalog);
  }

  /** The catalog entry whose publisher signed `exe`; undefined when unsigned, unknown or not yet verified. */
  async identify(exe: string | null): Promise<SignerIdentity | undefined> {
    if (!exe) return undefined;
    let signer = this.known.get(exe);
    if (signer === undefined) {
      const now = (this.options.now ?? Date.now)();
      if (now - this.windowStart >= 60_000) {
        this.windowStart = now;
        this.readsInWindow = 0;
      }
      if (this.readsInWindow >= (this.options.maxNewPerWindow ?? 8)) return undefined;
      this.readsInWindow++;
      signer = await this.readSigner(exe);
      this.known.set(exe, signer);
    }
    const entry = signer ? this.index.get(signer.trim().toLowerCase()) : undefined;
    return entry && signer ? { entry, signer } : undefined;
  }
}
