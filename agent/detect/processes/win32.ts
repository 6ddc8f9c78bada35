/**
 * Windows process listing: PowerShell `Get-CimInstance Win32_Process` as JSON (gives the executable
 * path), with `tasklist /fo csv` as a parser for the no-PowerShell case.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { baseName, type ProcessInfo } from './process-info';

export const WIN32_CIM_COMMAND =
  'Get-CimInstance Win32_Process | Select-Object ProcessId,ParentProcessId,Name,ExecutablePath,CreationDate | ConvertTo-Json -Compress';

interface CimProcess {
  ProcessId?: number;
  ParentProcessId?: number;
  Name?: string | null;
  ExecutablePath?: string | null;
  CreationDate?: string | null;
}

/** Parse `Get-CimInstance Win32_Process | ... | ConvertTo-Json` (an object when there is one process). */
export function parseWin32Cim(text: string): ProcessInfo[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const parsed = JSON.parse(trimmed) as CimProcess | CimProcess[];
  const list = Array.isArray(parsed) ? parsed : [parsed];
  return list
    .filter((item) => typeof item.ProcessId === 'number' && typeof item.Name === 'string')
    .map((item) => ({
      pid: item.ProcessId!,
      ppid: item.ParentProcessId ?? null,
      uid: null,
      name: item.Name!,
      exe: item.ExecutablePath ?? null,
      argv0: item.ExecutablePath ? baseName(item.ExecutablePath) : null,
      script: null,
      startedAt: parseCimDate(item.CreationDate ?? null),
    }));
}

/** ConvertTo-Json renders CIM datetimes as "/Date(1718000000000)/" (Windows PowerShell 5.1) or ISO text (7+). */
function parseCimDate(value: string | null): number | null {
  if (!value) return null;
  const legacy = /\/Date\((\d+)\)\//.exec(value);
  if (legacy) return Number(legacy[1]);
  const parsed = Date.parse(value);
  return Number.isFinite(parsed) ? parsed : null;
}

/** Parse `tasklist /v /fo csv` (or `/fo csv` without /v): "Image Name","PID",... with a header row. */
export function parseTasklistCsv(text: string): ProcessInfo[] {
  const rows = text.split(/\r?\n/).filter((line) => line.trim() !== '').map(parseCsvLine);
  const header = rows.shift();
  if (!header) return [];
  const nameColumn = header.indexOf('Image Name');
  const pidColumn = header.indexOf('PID');
  if (nameColumn < 0 || pidColumn < 0) throw new Error('tasklist output has no "Image Name"/"PID" header (non-English Windows?)');
  return rows
    .filter((row) => /^\d+$/.test(row[pidColumn] ?? ''))
    .map((row) => ({
      pid: Number(row[pidColumn]),
      ppid: null,
      uid: null,
      name: row[nameColumn]!,
      exe: null,
      argv0: null,
      script: null,
      startedAt: null,
    }));
}

/** One CSV line (RFC 4180 quoting: "" inside quotes is a quote) into its fields. */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let index = 0; index < line.length; index++) {
    const char = line[index]!;
    if (quoted) {
      if (char === '"' && line[index + 1] === '"') {
        current += '"';
        index++;
      } else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      fields.push(current);
      current = '';
    } else current += char;
  }
  fields.push(current);
  return fields;
}

export async function listProcessesWin32(): Promise<ProcessInfo[]> {
  const { stdout } = await promisify(execFile)('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', WIN32_CIM_COMMAND], {
    maxBuffer: 32 * 1024 * 1024,
    windowsHide: true,
  });
  return parseWin32Cim(stdout);
}
