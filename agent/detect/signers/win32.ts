/**
 * Windows code signer: `Get-AuthenticodeSignature` on the executable, as JSON.
 *
 * Only a signature Windows reports as Valid (chain trusted, hash matching) yields a signer; the signer
 * is the certificate subject's CN ("AnyDesk Software GmbH"), the publisher name Windows shows. The
 * path reaches PowerShell through an environment variable, never inside the command text, so a
 * process path with quotes cannot inject PowerShell.
 */
import { parseJsonRecords, ProbeError, stringField, type CommandRunner } from '../command-runner';

/** Environment variable that carries the file path to PowerShell. */
export const SIGNED_FILE_ENV = 'TELLTALE_SIGNED_FILE';

export const AUTHENTICODE_COMMAND = `[Console]::OutputEncoding = [Text.Encoding]::UTF8; Get-AuthenticodeSignature -LiteralPath $env:${SIGNED_FILE_ENV} | Select-Object Status,@{n='Subject';e={$_.SignerCertificate.Subject}} | ConvertTo-Json`;

export interface AuthenticodeResult {
  /** SignatureStatus name: "Valid", "NotSigned", "HashMismatch", "NotTrusted", ... */
  readonly status: string;
  /** Signer certificate subject DN, e.g. "CN=AnyDesk Software GmbH, O=AnyDesk Software GmbH, C=DE". */
  readonly subject: string | null;
}

/** SignatureStatus values in enum order: ConvertTo-Json prints the number, not the name. */
const SIGNATURE_STATUS = ['Valid', 'UnknownError', 'NotSigned', 'HashMismatch', 'NotTrusted', 'NotSupportedFileFormat', 'Incompatible'] as const;

/** Parse the JSON of `Get-AuthenticodeSignature ... | Select-Object Status,Subject | ConvertTo-Json`. */
export function parseAuthenticode(text: string): AuthenticodeResult {
  const [record] = parseJsonRecords(text, 'Get-AuthenticodeSignature output');
  if (record === undefined) throw new ProbeError('PROBE_OUTPUT_INVALID', 'Get-AuthenticodeSignature printed nothing');
  const raw = record.Status;
  const status = typeof raw === 'number' ? (SIGNATURE_STATUS[raw] ?? `Unknown(${raw})`) : typeof raw === 'string' ? raw : 'Unknown';
  return { status, subject: stringField(record, 'Subject') };
}

/** Split an X.500 subject ("CN=\"Foo, Inc.\", O=Foo") into attributes, honouring quoted values. */
export function parseDistinguishedName(subject: string): Map<string, string> {
  const result = new Map<string, string>();
  const pattern = /\s*([A-Za-z][\w.]*)\s*=\s*("(?:[^"]|"")*"|[^,]*)\s*(?:,|$)/g;
  for (const match of subject.matchAll(pattern)) {
    if (match[0] === '') break;
    const value = match[2]!.startsWith('"') ? match[2]!.slice(1, -1).replace(/""/g, '"') : match[2]!.trim();
    if (!result.has(match[1]!.toUpperCase())) result.set(match[1]!.toUpperCase(), value);
  }
  return result;
}

/** The signer name of a verified signature, or null (unsigned, invalid, untrusted, no subject). */
export function signerFromAuthenticode(result: AuthenticodeResult): string | null {
  if (result.status !== 'Valid' || result.subject === null) return null;
  const names = parseDistinguishedName(result.subject);
  return names.get('CN') ?? names.get('O') ?? null;
}

/** Verify one file's Authenticode signature; null when it is not validly signed. */
export async function readSignerWin32(run: CommandRunner, file: string): Promise<string | null> {
  const result = await run('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', AUTHENTICODE_COMMAND], { env: { [SIGNED_FILE_ENV]: file } });
  if (result.exitCode !== 0) return null;
  return signerFromAuthenticode(parseAuthenticode(result.stdout));
}
