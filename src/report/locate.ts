import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Finding } from '../findings.js';
import type { VerifiedSources, VerifyReport } from '../verify/findings.js';

/** A file in the repository ('/'-separated, relative to its root) and a 1-based line. */
export interface Location {
  file: string;
  line: number;
}

export interface Located {
  finding: Finding;
  /** Absent when nothing in the repository can be pointed at. */
  location?: Location;
}

/** What renderers that point into the repository take besides the report: decided before rendering. */
export interface Placement {
  repoRoot: string;
  located: Located[];
}

/** Where the report's paths are on this machine, read once before placing (workspace.ts). */
export interface Workspace {
  /** The folder the report's paths are relative to. */
  cwd: string;
  /** The git work tree's top folder, else `cwd`: what SARIF paths are relative to. */
  repoRoot: string;
  /** Of the files findings name (listFindingFiles), the absolute paths that are regular files now. */
  files: ReadonlySet<string>;
}

/**
 * Where each verify finding points: the file itself when it is in the repository and still
 * there; else the lockfile at the artifact's entry (a missing file, weights in the HF cache), or
 * package-lock.json at the package's entry. Lines come from the bytes verify read, never from the
 * files as they are now. Pure.
 */
export function placeVerifyFindings(report: VerifyReport, sources: VerifiedSources, workspace: Workspace): Placement {
  const { cwd, repoRoot } = workspace;
  const lockfilePath = resolve(cwd, report.lockfile);
  const lockfileFile = toRepoPath(lockfilePath, repoRoot);
  // package-lock.json paths are recorded relative to the lockfile's folder.
  const toPackageLockPath = (path: string): string => resolve(dirname(lockfilePath), path);
  const artifactLines = getArtifactLines(sources.lockfile.split('\n'));
  const roots = new Map(report.artifacts.map((artifact) => [artifact.name, artifact]));
  const packageLockLines = new Map([...sources.packageLocks].map(([path, text]) => [path, text.split('\n')]));
  const atLockfile = (artifact: string | undefined): Location | undefined => (lockfileFile ? { file: lockfileFile, line: (artifact && artifactLines.get(artifact)) || 1 } : undefined);
  const place = (finding: Finding, packageLock?: string): Located => {
    const artifact = finding.artifact === undefined ? undefined : roots.get(finding.artifact);
    const lockPath = packageLock ?? (artifact?.kind === 'npm' ? artifact.root : undefined);
    if (lockPath !== undefined) {
      const file = toRepoPath(toPackageLockPath(lockPath), repoRoot);
      const line = findPackageLine(packageLockLines.get(lockPath) ?? [], finding.artifact);
      return { finding, location: file ? { file, line } : atLockfile(finding.artifact) };
    }
    if (artifact && finding.path !== undefined) {
      const absolute = resolve(cwd, artifact.root, finding.path);
      const file = workspace.files.has(absolute) ? toRepoPath(absolute, repoRoot) : undefined;
      if (file) return { finding, location: { file, line: 1 } };
    }
    return { finding, location: atLockfile(finding.artifact) };
  };
  // In the order of listFindings: the lockfile's, each artifact's, each package-lock's.
  const located = [...(report.findings ?? []).map((f) => place(f)), ...report.artifacts.flatMap((a) => a.findings.map((f) => place(f))), ...(report.packageLocks ?? []).flatMap((p) => p.findings.map((f) => place(f, p.path)))];
  return { repoRoot, located };
}

/** The files verify findings name in file artifacts (absolute): the workspace says which are still there. */
export function listFindingFiles(report: VerifyReport, cwd: string): string[] {
  return report.artifacts.filter((artifact) => artifact.kind !== 'npm').flatMap((artifact) => artifact.findings.filter((f) => f.path !== undefined).map((f) => resolve(cwd, artifact.root, f.path ?? '')));
}

/** Scan findings point at the scanned file when it is in the repository. Pure. */
export function placeScanFindings(findings: readonly Finding[], workspace: Pick<Workspace, 'cwd' | 'repoRoot'>): Placement {
  const { cwd, repoRoot } = workspace;
  return {
    repoRoot,
    located: findings.map((finding) => {
      const file = finding.path === undefined ? undefined : toRepoPath(resolve(cwd, finding.path), repoRoot);
      return file ? { finding, location: { file, line: 1 } } : { finding };
    }),
  };
}

function toRepoPath(absolute: string, repoRoot: string): string | undefined {
  const path = relative(repoRoot, absolute);
  if (path === '' || path.startsWith('..') || isAbsolute(path)) return undefined;
  return path.split(sep).join('/');
}

/** Canonical lockfiles put each artifact's name alone on a line at 4 spaces inside "artifacts". */
function getArtifactLines(lines: readonly string[]): Map<string, number> {
  const found = new Map<string, number>();
  const start = lines.indexOf('  "artifacts": {');
  if (start < 0) return found;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('  }')) break;
    const match = /^ {4}("(?:[^"\\]|\\.)*"): \{$/.exec(line);
    if (match?.[1]) found.set(JSON.parse(match[1]) as string, i + 1);
  }
  return found;
}

/** The line of an npm artifact's entry (`npm:name@version`) in package-lock.json; 1 when not found. */
function findPackageLine(lines: readonly string[], artifact: string | undefined): number {
  const id = artifact?.startsWith('npm:') ? artifact.slice(4) : undefined;
  const name = id === undefined ? undefined : id.slice(0, id.lastIndexOf('@') > 0 ? id.lastIndexOf('@') : id.length);
  if (!name) return 1;
  const index = lines.findIndex((line) => line.trimStart().startsWith(`"node_modules/${name}": {`) || line.trimEnd().endsWith(`/node_modules/${name}": {`));
  return index < 0 ? 1 : index + 1;
}
