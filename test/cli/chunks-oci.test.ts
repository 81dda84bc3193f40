import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkDigests, MiB, sha256, type Lock } from '../helpers/chunked-model.js';
import { runAiscAsync } from '../helpers/cli.js';
import { MODELPACK, pushModelPack, registryAvailable, startOciRegistry, type RunningRegistry } from '../helpers/oci-registry.js';
import { makeTempDir } from '../helpers/temp.js';

const available = registryAvailable();
/** Four 1 MiB chunks and a short fifth: above the chunk threshold, in one raw layer. */
const WEIGHTS = randomBytes(4 * MiB + 7);
const CONFIG = '{"hidden_size": 16}\n';

const weightsOf = (dir: string, lockfile = 'aisc.lock.json'): Record<string, unknown> | undefined => (JSON.parse(readFileSync(join(dir, lockfile), 'utf8')) as Lock).artifacts.big?.files.find((file) => file.path === 'weights.bin') as Record<string, unknown> | undefined;
/** The file's access time: its first read after it was written moves it (relatime). */
const accessed = (path: string): bigint => statSync(path, { bigint: true }).atimeNs;

describe.skipIf(!available)('oci:// and the hash record: a fetched one-file layer is not read again by lock', () => {
  let registry: RunningRegistry;
  let root: string;
  let pushed: Awaited<ReturnType<typeof pushModelPack>>;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'aisc-oci-record-'));
    registry = await startOciRegistry(root);
    pushed = await pushModelPack(registry, 'acme/big', 'v1', { 'config.json': CONFIG, 'weights.bin': WEIGHTS });
  }, 30_000);
  afterAll(async () => {
    await registry?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  // Into the aisc OCI cache; and into --path, with every blob also laid out by --oci-layout (the file copied from the layout's blob).
  const placements = [
    { where: 'the aisc OCI cache', lock: [] as string[], fetch: [] as string[], folder: (dir: string): string => join(dir, 'oci-cache', registry.host.replace(':', '+'), 'acme', 'big', pushed.digest.replace(':', '-')) },
    { where: '--path, fetched with --oci-layout', lock: ['--path', 'models/big'], fetch: ['--oci-layout', 'layout'], folder: (dir: string): string => join(dir, 'models', 'big') },
  ];

  it.each(placements)('lock oci:// again gets the chunks fetch recorded, and lock of the fetched folder takes digest, chunks and format from the record: the same lockfile a read writes ($where)', async (placement) => {
    const dir = makeTempDir();
    const env = { XDG_CACHE_HOME: join(dir, 'xdg'), AISC_OCI_CACHE: join(dir, 'oci-cache'), DOCKER_CONFIG: join(dir, 'no-docker'), REGISTRY_AUTH_FILE: '', AISC_CHUNK_BYTES: String(MiB) };
    const spec = `oci://${registry.host}/acme/big:v1`;
    const weightsLayer = pushed.layers.find((layer) => layer.annotations?.[MODELPACK.filepath] === 'weights.bin');
    const earlier = registry.requests().length;
    const blobGets = (): number => registry.requests().slice(earlier).filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${weightsLayer?.digest ?? '?'}`)).length;

    expect((await runAiscAsync(['lock', spec, '--name', 'big', ...placement.lock], dir, env)).status).toBe(0);
    // Listed from the manifest: the layer's digest without its bytes, so no chunks.
    expect(weightsOf(dir)).toEqual({ path: 'weights.bin', size: WEIGHTS.length, sha256: sha256(WEIGHTS), inspected: false });

    const fetched = await runAiscAsync(['fetch', ...placement.fetch], dir, env);
    expect(fetched.stderr).toBe('');
    expect(fetched.status).toBe(0);
    expect(blobGets()).toBe(1);
    const folder = placement.folder(dir);
    const file = join(folder, 'weights.bin');
    expect(readFileSync(join(dir, 'xdg', 'aisc', 'hashed.v1.jsonl'), 'utf8')).toContain(chunkDigests(WEIGHTS).join(''));
    const before = accessed(file);

    // oci:// again: the layer digest the manifest lists is the one recorded for the unchanged file in the OCI folder.
    const relocked = await runAiscAsync(['lock', spec, '--name', 'big', ...placement.lock], dir, env);
    expect(relocked.status).toBe(0);
    expect(weightsOf(dir)).toEqual({ path: 'weights.bin', size: WEIGHTS.length, sha256: sha256(WEIGHTS), inspected: false, chunks: { size: MiB, sha256: chunkDigests(WEIGHTS) } });
    expect(accessed(file)).toBe(before);

    // The folder fetch laid out: digest, chunks and inspection from fetch's pass, not from a second read.
    const local = await runAiscAsync(['lock', folder, '--name', 'big', '--lockfile', 'local.lock.json'], dir, env);
    expect(local.stderr).toBe('');
    expect(local.status).toBe(0);
    expect(weightsOf(dir, 'local.lock.json')).toEqual({ path: 'weights.bin', size: WEIGHTS.length, sha256: sha256(WEIGHTS), format: 'unknown', chunks: { size: MiB, sha256: chunkDigests(WEIGHTS) } });
    expect(accessed(file)).toBe(before);
    expect(blobGets()).toBe(1);

    // The control: without the record the same lock reads the file (its access time moves) and writes the same bytes.
    const read = await runAiscAsync(['lock', folder, '--name', 'big', '--lockfile', 'read.lock.json'], dir, { ...env, XDG_CACHE_HOME: join(dir, 'elsewhere') });
    expect(read.status).toBe(0);
    expect(accessed(file)).not.toBe(before);
    expect(readFileSync(join(dir, 'local.lock.json'), 'utf8')).toBe(readFileSync(join(dir, 'read.lock.json'), 'utf8'));
    // Verify (which reads the file, by its chunks) agrees with both.
    expect((await runAiscAsync(['verify'], dir, env)).status).toBe(0);
    expect((await runAiscAsync(['verify', '--lockfile', 'local.lock.json'], dir, env)).status).toBe(0);
  });
});
