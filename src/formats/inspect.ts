import { isUtf8 } from 'node:buffer';
import { isAiscError } from '../errors.js';
import { fflate } from './fflate.js';
import { GgufInvalid, MAX_GGUF_HEADER_BYTES, NeedMore, parseGgufHeader, type GgufHeader } from './gguf.js';
import type { ContentFormat, Inspection, PickleReport, WeightFacts } from './inspection.js';
import { NPY_MAGIC, parseNpyHeader } from './numpy.js';
import { getPickleLoader } from './classify.js';
import { PickleScanner, type PickleScan } from './pickle-scan.js';
import { MAX_SAFETENSORS_HEADER_BYTES, SafetensorsHeaderCapture, type SafetensorsCapture } from './safetensors-capture.js';
import { toSafetensorsFacts } from './safetensors.js';
import { TarWalker } from './tar-walk.js';
import { isTorchTarMember, TorchTarReader } from './torch-tar.js';
import { ZipWalker, type ByteSink, type ZipWalk } from './zip-walk.js';

/** Bytes looked at before the format is decided. */
const HEAD_BYTES = 4096;
/** Containers inside containers (a zip in a zip in a gzip) are opened this deep, no deeper. */
const MAX_DEPTH = 3;
const MAX_GUNZIPPED_BYTES = 64 * 1024 ** 3;
/** PyTorch's legacy format opens with a pickle of its magic number (protocol 2, LONG1). */
const TORCH_LEGACY_MAGIC = Buffer.from('80028a0a6cfc9c46f9206aa850192e', 'hex');
const ZIP_MAGIC = Buffer.from('PK\x03\x04', 'latin1');
const EMPTY_ZIP_MAGIC = Buffer.from('PK\x05\x06', 'latin1');
const GGUF_MAGIC = Buffer.from('GGUF', 'latin1');
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);
/** At byte 257 of a POSIX tar header. */
const TAR_MAGIC = Buffer.from('ustar', 'latin1');
const OPAQUE_MAGIC: [Buffer, string][] = [
  [Buffer.from('377abcaf271c', 'hex'), '7z'],
  [Buffer.from('fd377a585a00', 'hex'), 'xz'],
  [Buffer.from('28b52ffd', 'hex'), 'zstd'],
  [Buffer.from('04224d18', 'hex'), 'lz4'],
  [Buffer.from('526172211a07', 'hex'), 'rar'],
  [Buffer.from('425a68', 'hex'), 'bzip2'],
];

/**
 * Formats whose inspection is settled by the file's first bytes (a header, a text's start, a
 * stream the pickle walk leaves at once): verify spreads such a file's chunks over its threads.
 * Only a hint taken from the lockfile: a file that does not settle is read on for the inspector.
 */
export const SETTLED_BY_START: ReadonlySet<ContentFormat> = new Set(['safetensors', 'gguf', 'text', 'json', 'unknown']);

interface Consumer {
  feed(chunk: Buffer): void;
  end(total: number): void;
  /** No later byte can change what `end` says (absent: every byte matters, as in a container). */
  settled?(): boolean;
}

/**
 * Tells what a byte stream is from its content, as it streams by in the chunks being hashed:
 * magic bytes and structure, never a name. Every stream is also walked by the model of CPython's
 * unpickler from its first byte, and judged by what its loader would do: a name a pickle loader
 * opens counts every import; other names count only a pickle evident from its bytes. Containers
 * are opened as their loaders open them: torch.load reads a zip's data.pkl and constants.pkl and
 * never its storages; np.load unpickles object arrays only; other members go by their own names.
 */
export class ContentInspector implements ByteSink {
  private head: Buffer[] = [];
  private headLength = 0;
  private consumer: Consumer | undefined;
  private decided = false;
  private readonly pickle = new PickleScanner();
  private total = 0;
  private readonly result: Inspection = { format: 'unknown' };

  /** `name`: the file's path in its artifact, or the member's in its container; it says which loader opens it. */
  constructor(
    private readonly size: number | undefined,
    private readonly name = '',
    private readonly depth = 0,
  ) {}

  feed(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.total += chunk.length;
    if (!this.pickle.finished) this.pickle.feed(chunk);
    if (this.decided) return this.consumer?.feed(chunk);
    // The head in one chunk (most files, and every small one): decided at once, nothing copied.
    if (this.headLength === 0 && (chunk.length >= HEAD_BYTES || chunk.length === this.size)) {
      // Complete only when the head is the whole file: a longer one may cut a character at its end.
      this.decide(chunk.subarray(0, HEAD_BYTES), chunk.length === this.size && chunk.length <= HEAD_BYTES);
      if (chunk.length > HEAD_BYTES) this.consumer?.feed(chunk.subarray(HEAD_BYTES));
      return;
    }
    // Copied: the hash worker reuses its read buffer for the next chunk.
    const take = chunk.subarray(0, HEAD_BYTES - this.headLength);
    this.head.push(Buffer.from(take));
    this.headLength += take.length;
    if (this.headLength < HEAD_BYTES) return;
    this.decide(Buffer.concat(this.head), false);
    this.head = [];
    if (chunk.length > take.length) this.consumer?.feed(chunk.subarray(take.length));
  }

  /**
   * True once no later byte can change what `end` says: the format is decided, the pickle walk has
   * stopped, and what the format reads is read (a safetensors or GGUF header, text's first bytes).
   * Verify then stops feeding a file whose chunks other threads hash; a container never settles.
   */
  get settled(): boolean {
    return this.decided && this.pickle.finished && (this.consumer === undefined || this.consumer.settled?.() === true);
  }

  /** `size`: the stream's length when it was not fed whole (verify stopped once it was settled). */
  end(size = this.total): Inspection {
    if (!this.decided) this.decide(Buffer.concat(this.head), true);
    this.consumer?.end(size);
    const scan = this.pickle.end();
    const format = this.result.format;
    // torch.load opens a zip or a tar as one and never unpickles its raw bytes.
    if (format === 'zip' || format === 'pytorch-zip' || format === 'tar' || format === 'numpy') return this.result;
    // Most streams stop before any import or STOP: then the name need not be looked at.
    if (!scan.complete && scan.imports.length === 0 && scan.undecidable.length === 0) return this.result;
    const loaded = isLoaded(this.name, format);
    if (isPickleFormat(scan, loaded) && (format === 'unknown' || format === 'text' || format === 'json')) this.result.format = 'pickle';
    this.addStream(scan, loaded);
    return this.result;
  }

  /** A stream's verdict, kept when it reaches an import or cannot be followed (the judge decides by `loaded`). */
  private addStream(scan: PickleScan, loaded: boolean, member?: string): void {
    if (scan.imports.length === 0 && scan.undecidable.length === 0) return;
    // Bytes that import and then call what they imported act as a pickle, whatever comes after.
    const evident = scan.complete || scan.header || scan.called;
    const report: PickleReport = { loaded, evident, imports: scan.imports, undecidable: scan.undecidable };
    this.addPickle(member === undefined ? report : { member, ...report });
  }

  private decide(h: Buffer, complete: boolean): void {
    const starts = (magic: Buffer, at = 0): boolean => startsWith(h, magic, at);
    this.decided = true;
    let consumer: Consumer | undefined;
    if (h.length === 0) this.result.format = 'unknown';
    else if (starts(TORCH_LEGACY_MAGIC)) this.result.format = 'pytorch-legacy';
    else if (h[0] === 0x80) this.result.format = 'unknown'; // a pickle's PROTO: decided by where the walk gets
    else if (starts(ZIP_MAGIC) || starts(EMPTY_ZIP_MAGIC)) consumer = this.container('zip', (open) => new ZipWalker(open));
    else if (starts(GGUF_MAGIC)) consumer = this.gguf();
    else if (starts(NPY_MAGIC)) consumer = this.numpy();
    else if (starts(GZIP_MAGIC)) consumer = this.gzip();
    else if (starts(TAR_MAGIC, 257)) consumer = this.container('tar', (open) => new TarWalker(open));
    else if (h.length >= 9 && h[8] === 0x7b) consumer = this.safetensors();
    else {
      const opaque = OPAQUE_MAGIC.find(([magic]) => starts(magic));
      if (opaque) this.addOpaque(`compressed with ${opaque[1]}, which aisc does not open: a pickle may hide inside`);
      else this.result.format = getTextFormat(h, complete) ?? 'unknown';
    }
    this.consumer = consumer;
    consumer?.feed(h);
  }

  private container(format: 'zip' | 'tar', make: (open: (size: number | undefined, name: string) => ByteSink) => { feed(b: Buffer): void; end(): ZipWalk }): Consumer | undefined {
    this.result.format = format;
    if (this.depth >= MAX_DEPTH) {
      this.addOpaque(`a ${format} nested more than ${MAX_DEPTH} deep`);
      return undefined;
    }
    // torch.load reads a tar's `storages` and `tensors` as legacy_load does: pickles between raw bytes.
    const walker = make((size, name) => (format === 'tar' && isTorchTarMember(name) ? new TorchTarReader(name) : new ContentInspector(size, name, this.depth + 1)));
    return {
      feed: (chunk) => walker.feed(chunk),
      end: () => {
        const walk = walker.end();
        walk.opaque.forEach((reason) => this.addOpaque(reason));
        const members = walk.members;
        const own = getPickleLoader(this.name);
        // Under a loader's name (or none), the loaders of a zip are torch.load (data.pkl and
        // constants.pkl, found case-insensitively as miniz does) and np.load (any member with the
        // .npy magic, read as an array: its object array unpickled), never other members' bytes.
        const loaders = format === 'zip' && own !== 'other';
        const torch = loaders && members.some((m) => TORCH_PICKLES.test(m.name));
        const numpy = format === 'zip' && members.length > 0 && members.every((m) => m.inspection.format === 'numpy');
        for (const member of members) {
          const inspection = loaders ? (TORCH_PICKLES.test(member.name) ? member.inspection : onlyObjectArrays(member.inspection)) : member.inspection;
          // The member's own bytes are judged by the central directory's name, the one its loader opens.
          if (inspection) this.addMember(member.name, { ...inspection, pickles: inspection.pickles?.map((p) => (p.member === undefined ? { ...p, loaded: loaders || isLoaded(member.name, inspection.format) } : p)) });
        }
        if (torch) this.result.format = 'pytorch-zip';
        else if (numpy) {
          this.result.format = 'numpy';
          this.result.facts = sumFacts(members.map((m) => m.inspection.facts));
        }
      },
    };
  }

  private gzip(): Consumer | undefined {
    this.result.format = 'gzip';
    if (this.depth >= MAX_DEPTH) {
      this.addOpaque(`gzip nested more than ${MAX_DEPTH} deep`);
      return undefined;
    }
    const inner = new ContentInspector(undefined, this.name.replace(/\.(gz|gzip)$/i, ''), this.depth + 1);
    let out = 0;
    let failed = false;
    const gunzip = new (fflate().Gunzip)((data) => {
      out += data.length;
      if (out > MAX_GUNZIPPED_BYTES) throw new Error(`decompresses past ${MAX_GUNZIPPED_BYTES} bytes`);
      inner.feed(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    });
    const push = (chunk: Uint8Array, final: boolean): void => {
      if (failed) return;
      try {
        gunzip.push(chunk, final);
      } catch (error) {
        failed = true;
        this.addOpaque(`corrupt gzip data (${error instanceof Error ? error.message : String(error)})`);
      }
    };
    return {
      feed: (chunk) => push(chunk, false),
      end: () => {
        push(new Uint8Array(0), true);
        this.addMember('(decompressed)', inner.end());
      },
    };
  }

  /** Safetensors only on evidence: the 8-byte length fits the file and the header is a JSON object; else of no known format. */
  private safetensors(): Consumer {
    this.result.format = 'safetensors';
    const capture = new SafetensorsHeaderCapture(this.size ?? MAX_SAFETENSORS_HEADER_BYTES + 8 + Number.MAX_SAFE_INTEGER / 2);
    return {
      feed: (chunk) => capture.feed(chunk),
      settled: () => capture.settled,
      end: (total) => {
        const captured = capture.result();
        // Under its own name a broken header is a malformed safetensors file; under another, no evidence of one.
        if (!isJsonObjectHeader(captured) && !/\.safetensors$/i.test(this.name)) {
          this.result.format = 'unknown';
          return;
        }
        try {
          this.result.facts = { ...toSafetensorsFacts(captured, total, '') };
        } catch (error) {
          if (!isAiscError(error)) throw error;
          this.result.invalid = error.message;
        }
      },
    };
  }

  private gguf(): Consumer {
    this.result.format = 'gguf';
    const chunks: Buffer[] = [];
    let kept = 0;
    let attemptAt = 64 * 1024;
    let header: GgufHeader | undefined;
    const attempt = (final: boolean): void => {
      try {
        header = parseGgufHeader(Buffer.concat(chunks));
        chunks.length = 0;
      } catch (error) {
        if (error instanceof GgufInvalid) this.result.invalid = `not a valid GGUF file: ${error.message}`;
        else if (!(error instanceof NeedMore)) throw error;
        else if (final || kept >= MAX_GGUF_HEADER_BYTES) this.result.invalid = `not a valid GGUF file: the header ${kept >= MAX_GGUF_HEADER_BYTES ? `runs past ${MAX_GGUF_HEADER_BYTES} bytes` : 'is truncated'}`;
        else return;
        chunks.length = 0;
      }
    };
    return {
      settled: () => header !== undefined || this.result.invalid !== undefined,
      feed: (chunk) => {
        if (header || this.result.invalid) return;
        const take = chunk.subarray(0, MAX_GGUF_HEADER_BYTES - kept);
        chunks.push(Buffer.from(take));
        kept += take.length;
        if (kept >= attemptAt || kept >= MAX_GGUF_HEADER_BYTES) {
          attemptAt *= 2;
          attempt(false);
        }
      },
      end: (total) => {
        if (!header && !this.result.invalid) attempt(true);
        if (!header) return;
        const needed = header.dataStart + header.dataBytes;
        if (needed > total) this.result.invalid = `not a valid GGUF file: its tensors need ${needed} bytes, the file has ${total}`;
        else this.result.facts = header.facts;
      },
    };
  }

  private numpy(): Consumer {
    this.result.format = 'numpy';
    const chunks: Buffer[] = [];
    let data: PickleScanner | undefined;
    let decided = false;
    return {
      // An object array's data is a pickle walked to its end; other arrays are settled by their header.
      settled: () => decided && (data === undefined || data.finished),
      feed: (chunk) => {
        if (decided) return data?.feed(chunk);
        chunks.push(Buffer.from(chunk));
        const b = Buffer.concat(chunks);
        const header = parseNpyHeader(b);
        if (header === undefined) return;
        decided = true;
        chunks.length = 0;
        if (typeof header === 'string') {
          this.result.invalid = `not a valid .npy file: ${header}`;
          return;
        }
        this.result.facts = header.facts;
        // An object array's data is one pickle (np.load with allow_pickle=True unpickles it).
        if (header.object) {
          data = new PickleScanner(1);
          data.feed(b.subarray(header.length));
        }
      },
      end: () => {
        if (!decided) this.result.invalid = 'not a valid .npy file: the header is truncated';
        const scan = data?.end();
        if (scan) this.addStream(scan, true, OBJECT_ARRAY);
      },
    };
  }

  private addMember(name: string, inner: Inspection): void {
    for (const pickle of inner.pickles ?? []) this.addPickle({ ...pickle, member: pickle.member === undefined ? name : `${name}!/${pickle.member}` });
    for (const reason of inner.opaque ?? []) this.addOpaque(`${name}: ${reason}`);
  }

  private addPickle(pickle: NonNullable<Inspection['pickles']>[number]): void {
    (this.result.pickles ??= []).push(pickle);
  }

  private addOpaque(reason: string): void {
    (this.result.opaque ??= []).push(reason);
  }
}


/** The members torch.load unpickles: `<archive>/data.pkl`, and TorchScript's `<archive>/constants.pkl`. */
const TORCH_PICKLES = /^(?:[^/]*\/)?(?:data|constants)\.pkl$/i;
const OBJECT_ARRAY = '(object array data)';

/** What np.load unpickles of an .npz member: its object array's data, nothing else. */
function onlyObjectArrays(inspection: Inspection): Inspection | undefined {
  const pickles = inspection.pickles?.filter((p) => p.member === OBJECT_ARRAY);
  return pickles && pickles.length > 0 ? { format: inspection.format, pickles } : undefined;
}

/**
 * Whether the file's loader unpickles its bytes: a pickle loader's name, PyTorch's legacy format,
 * or a name that says nothing over content that is not text.
 */
function isLoaded(name: string, format: ContentFormat): boolean {
  const loader = getPickleLoader(name);
  return loader === 'pickle' || format === 'pytorch-legacy' || (loader === 'unknown' && format !== 'text' && format !== 'json');
}

/** Whether the first stream shows the bytes are a pickle: it reached its STOP (or an import) and was written as one. */
function isPickleFormat(scan: PickleScan, loaded: boolean): boolean {
  if (scan.complete) return scan.header || scan.imports.length > 0 || loaded;
  return scan.header && scan.imports.length > 0;
}

/** A safetensors header as the reference reader first takes it: a length that fits, then a UTF-8 JSON object. */
function isJsonObjectHeader(capture: SafetensorsCapture): boolean {
  if ('problem' in capture) return false;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(capture.header));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

/** text or json from the first bytes: UTF-8 with no control bytes but whitespace (and ESC). */
/** Byte by byte: magics are a few bytes, and a native compare costs more to call than to run. */
function startsWith(h: Buffer, magic: Buffer, at: number): boolean {
  if (h.length < at + magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (h[at + i] !== magic[i]) return false;
  return true;
}

function getTextFormat(h: Buffer, complete: boolean): ContentFormat | undefined {
  // Read as bytes, not decoded: every small file passes here, and a string each is garbage.
  const text = complete ? h : h.subarray(0, h.length - getCutSequence(h));
  if (!isUtf8(text)) return undefined;
  let first: number | undefined;
  // A byte-order mark is not content, as a UTF-8 decoder drops it.
  const start = text.length >= 3 && text[0] === 0xef && text[1] === 0xbb && text[2] === 0xbf ? 3 : 0;
  for (let i = start; i < text.length; i++) {
    const byte = text[i] as number;
    if (BYTE_CLASS[byte] === CONTROL) return undefined;
    if (first === undefined && BYTE_CLASS[byte] !== SPACE) first = byte;
  }
  return first === 0x7b || first === 0x5b ? 'json' : 'text';
}

const [OTHER, CONTROL, SPACE] = [0, 1, 2];
/** Control characters that text does not hold (tab, newlines and escape excepted), and ASCII whitespace. */
const BYTE_CLASS = Uint8Array.from({ length: 256 }, (_, byte) =>
  byte === 0x09 || byte === 0x0a || byte === 0x0b || byte === 0x0c || byte === 0x0d || byte === 0x20 ? SPACE : byte <= 0x08 || (byte >= 0x0e && byte <= 0x1a) || (byte >= 0x1c && byte <= 0x1f) || byte === 0x7f ? CONTROL : OTHER,
);

/** How many bytes at the end of `h` start a UTF-8 sequence that the cut left unfinished. */
function getCutSequence(h: Buffer): number {
  for (let back = 1; back <= Math.min(3, h.length); back++) {
    const byte = h[h.length - back] as number;
    if ((byte & 0xc0) === 0x80) continue;
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? back : 0;
  }
  return 0;
}

function sumFacts(all: (WeightFacts | undefined)[]): WeightFacts | undefined {
  const present = all.filter((facts): facts is WeightFacts => facts !== undefined);
  if (present.length === 0) return undefined;
  return {
    tensors: present.reduce((sum, f) => sum + f.tensors, 0),
    parameters: present.reduce((sum, f) => sum + f.parameters, 0),
    dtypes: [...new Set(present.flatMap((f) => f.dtypes))].sort(),
  };
}
