import { resolve } from 'node:path';
import { AiscError } from '../../errors.js';
import type { HubSource } from '../../lockfile/types.js';
import { findRefs, getRealBlobsFolder, parseSnapshotPath } from '../hf-cache.js';
import type { SpecParser } from '../kind.js';
import { resolveLocalTarget } from '../local.js';
import { listLocalFiles } from '../local-listing.js';
import { getHubOrigin } from './hub.js';

/**
 * A snapshot folder of the Hugging Face cache (`…/models--org--name/snapshots/<commit>`), told by
 * its path: locked as that repo at that commit (recorded as a Hub source), its links followed
 * only into the repo's own blobs/.
 */
export const hfSnapshotSpec: SpecParser = {
  parse(spec, context) {
    const guess = parseSnapshotPath(resolve(spec));
    if (!guess) return undefined;
    return {
      spec,
      origin: getHubOrigin({ repo: guess.repo, repoType: guess.repoType }),
      resolve() {
        const target = resolveLocalTarget(spec);
        const cached = parseSnapshotPath(target.realRoot);
        if (target.layout !== 'directory' || !cached) throw new AiscError('SOURCE_NOT_FOUND', `${spec}: expected an HF cache snapshot folder (…/models--org--name/snapshots/<commit>)`);
        const refs = findRefs(cached, cached.commit);
        const ref = refs.includes('main') ? 'main' : (refs[0] ?? cached.commit);
        const source: HubSource = { type: 'huggingface', repo: cached.repo, repoType: cached.repoType, revision: cached.commit, ref };
        const linkRoot = getRealBlobsFolder(cached) ?? target.realRoot;
        return Promise.resolve({
          source,
          layout: 'directory',
          name: cached.repo.split('/')[1] ?? cached.repo,
          ...(cached.repoType === 'dataset' ? { kind: 'dataset' as const } : {}),
          // Its links into blobs/ are the cache's layout, not the artifact's: never recorded.
          onDisk: { realRoot: target.realRoot, linkRoot, followSymlinks: true },
          list: () => Promise.resolve(listLocalFiles(spec, target, { lockfile: context.lockfile, ignore: context.ignore, allowSymlinks: true, linkRoot })),
        });
      },
    };
  },
};
