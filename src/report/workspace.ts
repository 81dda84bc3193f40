import { lstatSync } from 'node:fs';
import type { ScanReport } from '../scan/index.js';
import { listScanFindings } from '../scan/index.js';
import type { VerifiedSources, VerifyReport } from '../verify/findings.js';
import { listFindingFiles, placeScanFindings, placeVerifyFindings, type Placement, type Workspace } from './locate.js';

/**
 * The reads placing findings needs, done once before anything is rendered: git's top folder and
 * which of the files findings name are regular files now. The lockfile and package-lock.json are
 * not read here: their lines come from the bytes verify read (VerifiedSources).
 */
export function readWorkspace(cwd: string, files: readonly string[] = []): Workspace {
  return { cwd, repoRoot: getRepoRoot(cwd), files: new Set(files.filter((path) => lstatSync(path, { throwIfNoEntry: false })?.isFile() === true)) };
}

/** Where each verify finding points, from the bytes verified and this machine's workspace. */
export function getVerifyPlacement(report: VerifyReport, sources: VerifiedSources, cwd = process.cwd()): Placement {
  return placeVerifyFindings(report, sources, readWorkspace(cwd, listFindingFiles(report, cwd)));
}

/** Where each scan finding points. */
export function getScanPlacement(report: ScanReport, cwd = process.cwd()): Placement {
  return placeScanFindings(listScanFindings(report), readWorkspace(cwd));
}

/** The git work tree's top folder when `cwd` is in one, else `cwd`: what SARIF paths are relative to. */
export function getRepoRoot(cwd: string): string {
  try {
    // Loaded only here: child_process (and net, dgram under it) is not what a human report should pay to start.
    const { execFileSync } = process.getBuiltinModule('node:child_process');
    return execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000, maxBuffer: 64 * 1024 }).trim() || cwd;
  } catch {
    return cwd;
  }
}
