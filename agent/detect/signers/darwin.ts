/**
 * macOS code signer: `codesign --verify` (is the signature intact and anchored?) then
 * `codesign -dv --verbose=2` (who signed it?), whose details go to stderr:
 *
 *   Authority=Developer ID Application: AnyDesk Software GmbH (TEAMID1234)
 *   Authority=Developer ID Certification Authority
 *   Authority=Apple Root CA
 *   TeamIdentifier=TEAMID1234
 *
 * The signer is the name in the leaf "Developer ID Application" authority, accepted only when its team
 * id in parentheses equals TeamIdentifier. Apple's own binaries ("Software Signing") are "Apple Inc.".
 * Ad-hoc and App Store signatures name no developer and yield null.
 */
import type { CommandRunner } from '../command-runner';

export interface CodesignDetails {
  readonly identifier: string | null;
  /** Certificate chain, leaf first. */
  readonly authorities: readonly string[];
  readonly teamIdentifier: string | null;
}

/** Parse the stderr of `codesign -dv --verbose=2 <path>`. */
export function parseCodesignDetails(text: string): CodesignDetails {
  const authorities: string[] = [];
  let identifier: string | null = null;
  let teamIdentifier: string | null = null;
  for (const line of text.split('\n')) {
    const match = /^(\w[\w ]*?)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, key, value] = match as unknown as [string, string, string];
    if (key === 'Authority') authorities.push(value);
    else if (key === 'Identifier') identifier = value;
    // "not set" is what codesign prints for ad-hoc signatures.
    else if (key === 'TeamIdentifier') teamIdentifier = value === 'not set' ? null : value;
  }
  return { identifier, authorities, teamIdentifier };
}

/** The developer name of a signature, or null when it names none or its team id disagrees. */
export function signerFromCodesign(details: CodesignDetails): string | null {
  const leaf = details.authorities[0];
  if (leaf === undefined) return null;
  if (leaf === 'Software Signing') return 'Apple Inc.';
  const match = /^Developer ID Application: (.+?)(?: \(([A-Z0-9]{10})\))?$/.exec(leaf);
  if (!match) return null;
  if (match[2] !== undefined && details.teamIdentifier !== null && match[2] !== details.teamIdentifier) return null;
  return match[1]!;
}

/** Verify then read one file's signer; null when it is unsigned, broken or names no developer. */
export async function readSignerDarwin(run: CommandRunner, file: string): Promise<string | null> {
  const verify = await run('codesign', ['--verify', '--strict', file]);
  if (verify.exitCode !== 0) return null;
  const details = await run('codesign', ['-dv', '--verbose=2', file]);
  if (details.exitCode !== 0) return null;
  return signerFromCodesign(parseCodesignDetails(details.stderr));
}
