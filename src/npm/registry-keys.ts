import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AiscError } from '../errors.js';

/** A key the npm registry signs with: `npm:signatures` (ECDSA over name@version:integrity) or `npm:attestations`. */
export interface RegistryKey {
  keyId: string;
  usage: string;
  key: KeyObject;
  start: Date;
  end?: Date;
}

const TARGET = 'registry.npmjs.org%2Fkeys.json';
let shipped: RegistryKey[] | undefined;

/**
 * The npm registry's public keys as @sigstore/tuf ships them (its seeds.json embeds the TUF target
 * registry.npmjs.org/keys.json): what `npm audit signatures` trusts, with no network at all.
 */
export function getNpmRegistryKeys(): RegistryKey[] {
  if (!shipped) {
    const seeds = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('@sigstore/tuf/seeds.json'), 'utf8')) as Record<string, { targets?: Record<string, string> }>;
    const target = Object.values(seeds).find((repo) => repo.targets?.[TARGET])?.targets?.[TARGET];
    if (!target) throw new AiscError('INTERNAL', `@sigstore/tuf ships no ${TARGET}`);
    shipped = toRegistryKeys(JSON.parse(Buffer.from(target, 'base64').toString('utf8')) as unknown);
  }
  return shipped;
}

export function toRegistryKeys(json: unknown): RegistryKey[] {
  const keys = (json as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new AiscError('INTERNAL', 'registry keys: expected {keys: [...]}');
  return keys.map((entry: { keyId?: string; keyUsage?: string; publicKey?: { rawBytes?: string; validFor?: { start?: string; end?: string } } }) => {
    const start = entry.publicKey?.validFor?.start;
    if (!entry.keyId || !entry.publicKey?.rawBytes || !start) throw new AiscError('INTERNAL', `registry key ${entry.keyId ?? '?'}: expected keyId, rawBytes and a validity start`);
    const end = entry.publicKey.validFor?.end;
    return {
      keyId: entry.keyId,
      usage: entry.keyUsage ?? 'npm:signatures',
      key: createPublicKey({ key: Buffer.from(entry.publicKey.rawBytes, 'base64'), format: 'der', type: 'spki' }),
      start: new Date(start),
      ...(end ? { end: new Date(end) } : {}),
    };
  });
}
