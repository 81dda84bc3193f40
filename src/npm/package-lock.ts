import { basename } from 'node:path';
import { AiscError } from '../errors.js';
import { compareCodePoints } from '../lockfile/canonical-json.js';
import { describeJsonValue, parseJsonStrict } from '../io/index.js';

/** A package-lock.json larger than this is refused (the largest real ones are tens of MB). */
export const MAX_PACKAGE_LOCK_BYTES = 256 * 1024 * 1024;

export type NpmSourceType = 'registry' | 'git' | 'file' | 'link' | 'remote';

/** One installed package version, however many places it is installed in. */
export interface NpmPackage {
  /** The real package name (an alias `node_modules/x` with `name: y` is package y). */
  name: string;
  version: string;
  resolved?: string;
  integrity?: string;
  type: NpmSourceType;
  /** Only needed for development (every place it is installed is dev). */
  dev: boolean;
  optional: boolean;
  hasInstallScript: boolean;
  /** Where it is installed: node_modules/a, node_modules/b/node_modules/a, … */
  paths: string[];
}

/** npm's rules, with the upper case that packages published before 2017 may still have. */
const NAME = /^(@[A-Za-z0-9._~-]+\/)?[A-Za-z0-9._~-]+$/;
const VERSION = /^[0-9A-Za-z.+-]{1,256}$/;

interface LockEntry {
  name?: unknown;
  version?: unknown;
  resolved?: unknown;
  integrity?: unknown;
  dev?: unknown;
  optional?: unknown;
  devOptional?: unknown;
  hasInstallScript?: unknown;
  link?: unknown;
}

/**
 * Reads a package-lock.json (lockfileVersion 2 or 3; 1 is refused with how to upgrade) into its
 * installed packages, sorted by name and version. The root project and workspace folders are
 * not packages; links are, with type "link".
 */
export function parsePackageLock(text: string, where: string): NpmPackage[] {
  let json: unknown;
  try {
    json = parseJsonStrict(text, where);
  } catch (error) {
    throw new AiscError('NPM_LOCK_INVALID', (error as Error).message, { cause: error });
  }
  const lock = json as { lockfileVersion?: unknown; packages?: unknown };
  if (typeof json !== 'object' || json === null) throw new AiscError('NPM_LOCK_INVALID', `${where}: expected a JSON object`);
  if (lock.lockfileVersion === 1) {
    throw new AiscError('NPM_LOCK_UNSUPPORTED', `${where}: lockfileVersion 1 has no "packages" section; upgrade it with npm 7 or newer: npm install --lockfile-version 3`);
  }
  if (lock.lockfileVersion !== 2 && lock.lockfileVersion !== 3) throw new AiscError('NPM_LOCK_UNSUPPORTED', `${where}: expected lockfileVersion 2 or 3, got ${JSON.stringify(lock.lockfileVersion) ?? 'none'}`);
  if (typeof lock.packages !== 'object' || lock.packages === null || Array.isArray(lock.packages)) {
    throw new AiscError('NPM_LOCK_INVALID', `${where}: expected "packages" to be an object keyed by install path, got ${describeJsonValue(lock.packages)}`);
  }
  // npm always writes the project itself under "": without it this is no lock npm wrote.
  if (!Object.hasOwn(lock.packages, '')) throw new AiscError('NPM_LOCK_INVALID', `${where}: expected "packages" to hold the project itself under "", got no such entry`);
  const byId = new Map<string, NpmPackage>();
  for (const [path, raw] of Object.entries(lock.packages as Record<string, unknown>)) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new AiscError('NPM_LOCK_INVALID', `${where}: packages[${JSON.stringify(path)}]: expected an object, got ${describeJsonValue(raw)}`);
    if (path === '' || !path.includes('node_modules/')) continue; // the project itself, or a workspace folder
    const entry = raw as LockEntry;
    const name = typeof entry.name === 'string' ? entry.name : path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const link = entry.link === true;
    const version = typeof entry.version === 'string' ? entry.version : link ? '0.0.0-link' : '';
    if (!version) throw new AiscError('NPM_LOCK_INVALID', `${where}: packages[${JSON.stringify(path)}]: expected a version`);
    // What is recorded must be a name and version npm could publish: nothing that reads as a path or a URL.
    if (!NAME.test(name) || name.length > 214) throw new AiscError('NPM_LOCK_INVALID', `${where}: packages[${JSON.stringify(path)}]: expected a package name, got ${JSON.stringify(name)}`);
    if (!VERSION.test(version)) throw new AiscError('NPM_LOCK_INVALID', `${where}: packages[${JSON.stringify(path)}]: expected a version, got ${JSON.stringify(version)}`);
    const resolved = typeof entry.resolved === 'string' ? entry.resolved : undefined;
    const id = `${name}@${version}`;
    const dev = entry.dev === true;
    const optional = entry.optional === true || entry.devOptional === true;
    const existing = byId.get(id);
    if (existing) {
      existing.paths.push(path);
      existing.dev &&= dev;
      existing.optional &&= optional;
      continue;
    }
    byId.set(id, {
      name,
      version,
      ...(resolved ? { resolved } : {}),
      ...(typeof entry.integrity === 'string' ? { integrity: entry.integrity } : {}),
      type: link ? 'link' : toSourceType(resolved),
      dev,
      optional,
      hasInstallScript: entry.hasInstallScript === true,
      paths: [path],
    });
  }
  return [...byId.values()].sort((a, b) => compareCodePoints(a.name, b.name) || compareCodePoints(a.version, b.version));
}

function toSourceType(resolved: string | undefined): NpmSourceType {
  // npm leaves `resolved` out for registry packages when omit-lockfile-registry-resolved is set.
  if (resolved === undefined) return 'registry';
  if (/^git\+|^git:|^github:|^gitlab:|^bitbucket:/.test(resolved)) return 'git';
  if (resolved.startsWith('file:')) return 'file';
  if (/^https?:\/\/.*\/-\/[^/]+-\d[^/]*\.tgz$/.test(resolved)) return 'registry';
  return 'remote';
}

/** package-lock.json and npm-shrinkwrap.json are npm sources; anything else is a file or folder. */
export function isPackageLockPath(path: string): boolean {
  const name = basename(path);
  return name === 'package-lock.json' || name === 'npm-shrinkwrap.json';
}
