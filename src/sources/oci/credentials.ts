import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AiscError } from '../../errors.js';
import { getAuthKeys } from './reference.js';

/** A user name and password (or identity token) for one registry. */
export interface RegistryLogin {
  username: string;
  password: string;
  /** The config file they came from, for messages. */
  from: string;
}

const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * The login `docker login` / `podman login` stored for a registry: REGISTRY_AUTH_FILE (podman,
 * skopeo), then $DOCKER_CONFIG/config.json, then ~/.docker/config.json; the first file that exists
 * is the one read, as docker does. Only plain `auths` entries (base64 `auth`, or `username` and
 * `password`, or an `identitytoken`): credential helpers run programs, which aisc does not.
 */
export function findLogin(registry: string, env: NodeJS.ProcessEnv): RegistryLogin | undefined {
  for (const path of getConfigPaths(env)) {
    let text: string;
    try {
      const bytes = readFileSync(path);
      if (bytes.length > MAX_CONFIG_BYTES) throw new AiscError('FILE_TOO_LARGE', `${path}: larger than ${MAX_CONFIG_BYTES} bytes`);
      text = bytes.toString('utf8');
    } catch (error) {
      if (error instanceof AiscError) throw error;
      continue;
    }
    return readLogin(text, path, registry);
  }
  return undefined;
}

function getConfigPaths(env: NodeJS.ProcessEnv): string[] {
  const paths: string[] = [];
  if (env.REGISTRY_AUTH_FILE) paths.push(env.REGISTRY_AUTH_FILE);
  paths.push(join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json'));
  return paths;
}

function readLogin(text: string, path: string, registry: string): RegistryLogin | undefined {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    throw new AiscError('JSON_INVALID', `${path}: not JSON (the registry credentials file)`);
  }
  const auths = (config as { auths?: unknown } | null)?.auths;
  if (typeof auths !== 'object' || auths === null) return undefined;
  for (const key of getAuthKeys(registry)) {
    if (!Object.hasOwn(auths, key)) continue;
    const entry = (auths as Record<string, unknown>)[key];
    if (typeof entry !== 'object' || entry === null) continue;
    const login = toLogin(entry as Record<string, unknown>, path);
    if (login) return login;
  }
  return undefined;
}

function toLogin(entry: Record<string, unknown>, from: string): RegistryLogin | undefined {
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') return { username: '<token>', password: entry.identitytoken, from };
  if (typeof entry.username === 'string' && typeof entry.password === 'string') return { username: entry.username, password: entry.password, from };
  if (typeof entry.auth !== 'string' || entry.auth === '') return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new AiscError('JSON_INVALID', `${from}: an "auth" entry is not base64 of user:password`);
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), from };
}
