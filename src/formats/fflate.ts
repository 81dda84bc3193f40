import { createRequire } from 'node:module';
import type * as Fflate from 'fflate';

let loaded: typeof Fflate | undefined;

/**
 * fflate, loaded when the first gzip stream or deflated zip member is opened: its tables take
 * ~5 ms to build, which every `aisc verify` would otherwise pay at start. Synchronous, because
 * the inspectors that need it are fed chunk by chunk.
 */
export function fflate(): typeof Fflate {
  loaded ??= createRequire(import.meta.url)('fflate') as typeof Fflate;
  return loaded;
}
