// A writer for the hash record's concurrency tests: one process that, round after round, opens the
// record as `aisc fetch` does, adds files it made and saves, through aisc's own HashRecord (dist/).
// Exits 0 when every save went through; a record it may not use is exit 2, with why on stderr.
// What it records of a file is made from the file's path: sha256 of the path, one 1 MiB chunk.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HashRecord } from '../../dist/hashing/hash-record.js';

const [cache, folder, rounds, perRound] = process.argv.slice(2);
mkdirSync(folder, { recursive: true });
for (let round = 0; round < Number(rounds); round++) {
  const record = await HashRecord.open({ XDG_CACHE_HOME: cache }, true);
  if (!(record instanceof HashRecord)) {
    console.error(record.problem);
    process.exit(2);
  }
  for (let k = 0; k < Number(perRound); k++) {
    const file = join(folder, `${round}-${k}`);
    writeFileSync(file, file);
    const sha256 = createHash('sha256').update(file).digest('hex');
    record.add(file, { sha256, size: Buffer.byteLength(file), chunks: { size: 1024 * 1024, sha256: [sha256] } });
  }
  await record.save();
}
