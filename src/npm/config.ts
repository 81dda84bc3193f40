import { homedir } from 'node:os';
import { join } from 'node:path';
import { AiscError, isAiscError } from '../errors.js';
import { readBoundedText } from '../io/index.js';

export const DEFAULT_REGISTRY = 'https://registry.npmjs.org/';

/** An .npmrc holds a few settings; one this large is not one (FILE_TOO_LARGE, exit 2). */
export const MAX_NPMRC_BYTES = 1024 * 1024;

/** Where packages come from and the tokens to fetch them with, as npm reads them. */
export interface RegistryConfig {
  registry: string;
  /** `@scope` → registry URL (`@scope:registry=` lines). */
  scopes: Map<string, string>;
  /** nerf-darted URL (`//host/path/`) → token (`//host/path/:_authToken=` lines). Never logged. */
  tokens: Map<string, string>;
  /** npm's fetch-timeout (ms) and fetch-retries, when set. */
  fetchTimeout?: number;
  fetchRetries?: number;
}

/**
 * npm's precedence, highest first: --registry, npm_config_registry, the project's .npmrc, the
 * user's ~/.npmrc, the public registry. `${ENV}` references in .npmrc are expanded as npm does.
 * A missing .npmrc is none; one that cannot be read whole (too large, not a file, not UTF-8) is a
 * coded error: the registry a lock would ask must not depend on a file read in part.
 */
export async function readRegistryConfig(options: { cwd?: string; env?: NodeJS.ProcessEnv; registry?: string; userConfig?: string } = {}): Promise<RegistryConfig> {
  const env = options.env ?? process.env;
  const files = [options.userConfig ?? join(homedir(), '.npmrc'), join(options.cwd ?? process.cwd(), '.npmrc')];
  const config: RegistryConfig = { registry: DEFAULT_REGISTRY, scopes: new Map(), tokens: new Map() };
  for (const file of files) {
    let text: string;
    try {
      text = await readBoundedText(file, { limit: MAX_NPMRC_BYTES, what: '.npmrc' });
    } catch (error) {
      if (isAiscError(error) && error.code === 'FILE_NOT_FOUND') continue;
      throw error;
    }
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
      const at = line.indexOf('=');
      if (at < 0) continue;
      const key = line.slice(0, at).trim();
      const value = line.slice(at + 1).trim().replace(/\$\{([^}]+)\}/g, (_, name: string) => env[name] ?? '');
      if (key === 'registry') config.registry = toRegistryUrl(value, `${file}: registry`);
      else if (/^@[^:]+:registry$/.test(key)) config.scopes.set(key.slice(0, key.indexOf(':')), toRegistryUrl(value, `${file}: ${key}`));
      else if (key.startsWith('//') && key.endsWith(':_authToken')) config.tokens.set(key.slice(0, -':_authToken'.length), value);
      else if (key === 'fetch-timeout' || key === 'fetch-retries') setFetchOption(config, key, value);
    }
  }
  for (const key of ['fetch-timeout', 'fetch-retries'] as const) {
    const value = env[`npm_config_${key.replace('-', '_')}`];
    if (value !== undefined) setFetchOption(config, key, value);
  }
  const fromEnv = env.npm_config_registry ?? env.NPM_CONFIG_REGISTRY;
  if (fromEnv) config.registry = toRegistryUrl(fromEnv, 'npm_config_registry');
  if (options.registry) config.registry = toRegistryUrl(options.registry, '--registry');
  return config;
}

function setFetchOption(config: RegistryConfig, key: 'fetch-timeout' | 'fetch-retries', value: string): void {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) return;
  if (key === 'fetch-timeout' && n > 0) config.fetchTimeout = n;
  if (key === 'fetch-retries') config.fetchRetries = n;
}

/** An http(s) URL ending in '/', or a usage error naming where the value came from. */
function toRegistryUrl(value: string, from: string): string {
  const protocol = URL.canParse(value) ? new URL(value).protocol : undefined;
  if (protocol !== 'https:' && protocol !== 'http:') throw new AiscError('USAGE', `${from}: expected an http(s) registry URL, got ${JSON.stringify(value)}`);
  return value.endsWith('/') ? value : `${value}/`;
}

/** The registry a package name is fetched from: its scope's, or the default. */
export function getRegistryFor(config: RegistryConfig, name: string): string {
  const scope = name.startsWith('@') ? name.slice(0, name.indexOf('/')) : undefined;
  return (scope && config.scopes.get(scope)) ?? config.registry;
}

/** The token for a URL: the longest nerf-darted prefix that matches it, as npm picks. */
export function getTokenFor(config: RegistryConfig, url: string): string | undefined {
  const nerf = url.replace(/^https?:/, '');
  let best: string | undefined;
  for (const prefix of config.tokens.keys()) {
    if (nerf.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`) && (!best || prefix.length > best.length)) best = prefix;
  }
  return best === undefined ? undefined : config.tokens.get(best);
}
