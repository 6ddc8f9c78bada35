/**
 * Linux code signer: there is none. ELF binaries carry no signature the OS verifies (distribution
 * packages are signed, installed files are not), so a signer-only approval rule never matches on
 * Linux: it is never taken on trust from a file name.
 */

/** Always null: Linux has no code signature to verify. */
export async function readSignerLinux(_file: string): Promise<string | null> {
  return null;
}
