import { join } from 'node:path';
import { toFinding, type Finding, type FindingCode } from '../findings.js';
import { judgeContent, type ContentFormat, type WeightFacts } from '../formats/index.js';
import { acquireHashPool, type HashJob, type ProgressSource } from '../hashing/index.js';
import { listTarget, resolveLocalTarget, type WalkEntry } from '../sources/index.js';

export interface ScanOptions {
  jobs?: number;
  onHashing?: (progress: ProgressSource, totalBytes: number) => void;
}

export interface ScannedFile {
  /** As given on the command line, joined with the path inside a folder. */
  path: string;
  size: number;
  sha256: string;
  format: ContentFormat;
  facts?: WeightFacts;
  /** Every pickle import found, allowed or not (`module.name`). */
  imports: string[];
  findings: Finding[];
}

/** Every finding of a scan, those of files not scanned too: what SARIF and annotations show. */
export function listScanFindings(report: ScanReport): Finding[] {
  return [...report.files.flatMap((file) => file.findings), ...report.skipped.map(({ path, code, reason }) => toFinding({ code, path, message: `not scanned: ${reason}` }))];
}

export interface ScanReport {
  ok: boolean;
  files: ScannedFile[];
  /** What could not be scanned: a file that cannot be read, a symlink (never followed). */
  skipped: { path: string; code: FindingCode; reason: string }[];
  summary: { files: number; bytes: number; unsafe: number; skipped: number };
}

/**
 * The format gate on its own, like picklescan: every file under the paths given is read once,
 * hashed and told apart by its bytes; pickles are judged by their imports against aisc's
 * allowlist. Nothing is loaded. A path that does not exist is bad usage (SOURCE_NOT_FOUND).
 */
export async function scanPaths(paths: readonly string[], options: ScanOptions = {}): Promise<ScanReport> {
  const jobs: HashJob[] = [];
  const shown: string[] = [];
  const sizes: number[] = [];
  const skipped: ScanReport['skipped'] = [];
  for (const given of paths) {
    const target = resolveLocalTarget(given);
    const entries: WalkEntry[] = listTarget(target, { ignore: () => false });
    for (const entry of entries) {
      const path = target.layout === 'file' ? given : join(given, entry.path);
      if (entry.type === 'folder') continue;
      if (entry.type !== 'file') {
        if (entry.type === 'symlink') skipped.push({ path, code: 'SYMLINK_REFUSED', reason: 'a symlink (not followed)' });
        else if (entry.type === 'unreadable') skipped.push({ path, code: 'UNREADABLE_FILE', reason: 'cannot be listed' });
        else skipped.push({ path, code: 'NOT_A_FILE', reason: 'not a regular file' });
        continue;
      }
      jobs.push({ path: entry.path, root: target.realRoot, followSymlinks: false, inspect: true });
      shown.push(path);
      sizes.push(entry.size ?? 0);
    }
  }
  const pool = acquireHashPool({ jobs: options.jobs });
  const files: ScannedFile[] = [];
  try {
    options.onHashing?.(pool, sizes.reduce((a, b) => a + b, 0));
    await pool.hashEach(
      jobs,
      (index, result) => {
        const path = shown[index] ?? '';
        if (!result.ok || !result.format) {
          skipped.push({ path, code: result.ok ? 'UNREADABLE_FILE' : result.code, reason: result.ok ? 'not inspected' : result.message });
          return;
        }
        const inspection = result.inspection ?? { format: result.format };
        const imports = [...new Set((inspection.pickles ?? []).flatMap((pickle) => pickle.imports))];
        files.push({ path, size: result.size, sha256: result.sha256, format: inspection.format, ...(inspection.facts ? { facts: inspection.facts } : {}), imports, findings: judgeContent(path, inspection) });
      },
      sizes,
    );
  } finally {
    await pool.close();
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const unsafe = files.filter((file) => file.findings.length > 0).length;
  return {
    ok: unsafe === 0 && skipped.length === 0,
    files,
    skipped,
    summary: { files: files.length, bytes: files.reduce((sum, file) => sum + file.size, 0), unsafe, skipped: skipped.length },
  };
}
