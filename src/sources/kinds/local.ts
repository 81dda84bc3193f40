import { basename, resolve } from 'node:path';
import { AiscError } from '../../errors.js';
import type { LocalSource } from '../../lockfile/types.js';
import type { SourceKind } from '../kind.js';
import { fromLocalSource, resolveLocalTarget, toLocalSource } from '../local.js';
import { listLocalFiles } from '../local-listing.js';

/**
 * A folder or file on this machine: listed by walking it (--ignore and --allow-symlinks apply and
 * are recorded), hashed on the worker pool, verified where it is. Nothing to fetch.
 */
export const localKind: SourceKind<LocalSource> = {
  type: 'local',
  parse(spec, context) {
    return {
      spec,
      origin: toLocalSource(spec, context.lockfile).path,
      takesIgnore: true,
      resolve() {
        const target = resolveLocalTarget(spec);
        const hidden: string[] = [];
        return Promise.resolve({
          source: toLocalSource(spec, context.lockfile),
          layout: target.layout,
          name: basename(resolve(spec)),
          onDisk: { realRoot: target.realRoot, followSymlinks: context.allowSymlinks, hidden },
          followsLinks: context.allowSymlinks,
          recordsIgnore: true,
          list: () => Promise.resolve(listLocalFiles(spec, target, { lockfile: context.lockfile, ignore: context.ignore, allowSymlinks: context.allowSymlinks, hidden })),
        });
      },
    };
  },
  recorded(source) {
    return {
      source,
      origin: source.path,
      onDisk: true,
      describe: () => source.path,
      locate: (_name, _artifact, lockfile) => ({ mode: 'files', root: fromLocalSource(source, lockfile) }),
      mounted: () => ({}),
      unfetchable: 'a folder or file on disk, not a download',
      restore: () => Promise.reject(new AiscError('USAGE', `${source.path}: a folder or file on disk; nothing to fetch`)),
      compare: () => undefined,
      sbom: () => ({ references: [] }),
    };
  },
};
