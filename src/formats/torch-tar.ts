import type { Inspection } from './inspection.js';
import { toImportName } from './pickle-allowlist.js';
import { PickleMachine, type StreamVerdict } from './pickle.js';
import { isOpaque, type Value } from './pickle-values.js';
import type { ByteSink } from './zip-walk.js';

/** The members of PyTorch's oldest format (a tar) that `legacy_load` reads as pickles between raw bytes. */
export type TorchTarMember = 'storages' | 'tensors';

/** torch.load reads these from any tar it is given, by these exact names (tarfile's `extract`). */
export function isTorchTarMember(name: string): name is TorchTarMember {
  return name === 'storages' || name === 'tensors';
}

/** `_element_size(storage_type.dtype)` for the storage classes torch and torch.cuda define. */
const ELEMENT_SIZES = new Map<string, number>([
  ['FloatStorage', 4], ['DoubleStorage', 8], ['HalfStorage', 2], ['BFloat16Storage', 2],
  ['LongStorage', 8], ['IntStorage', 4], ['ShortStorage', 2], ['CharStorage', 1],
  ['ByteStorage', 1], ['BoolStorage', 1], ['ComplexFloatStorage', 8], ['ComplexDoubleStorage', 16],
]);

type Step =
  | { k: 'pickle'; machine: PickleMachine; start?: number; until?: number; then: (stream: StreamVerdict, at: number) => Step }
  | { k: 'read'; need: number; got: Buffer[]; length: number; then: (b: Buffer) => Step }
  | { k: 'skip'; remaining: bigint; then: () => Step }
  | { k: 'done' };

const DONE: Step = { k: 'done' };

/**
 * Reads a legacy tar's `storages` or `tensors` member as torch.serialization's `legacy_load` does:
 * a count pickle, then per item an args pickle (plain `pickle.load`, no persistent_load) and the
 * raw bytes after it, skipped by their declared sizes; `storages` ends with its views pickle.
 * Where torch raises, reading ends; where aisc cannot know what torch reads next, it is undecidable.
 */
export class TorchTarReader implements ByteSink {
  private step: Step;
  private pos = 0;
  private evident = false;
  private readonly imports = new Set<string>();
  private readonly undecidable: string[] = [];

  constructor(member: TorchTarMember) {
    this.step = this.pickle((stream, at) => this.count(stream, at, (n) => (member === 'storages' ? this.storage(0, n) : this.tensor(0, n))));
  }

  feed(chunk: Buffer): void {
    let b = chunk;
    while (b.length > 0 && this.step.k !== 'done') {
      const n = this.advance(this.step, b);
      this.pos += n;
      b = b.subarray(n);
    }
  }

  end(): Inspection {
    // What was left unread ends here: torch raises at a short read, and nothing after it runs.
    if (this.step.k === 'pickle') this.settle(this.step, false);
    this.step = DONE;
    const inspection: Inspection = { format: 'pickle' };
    if (this.imports.size > 0 || this.undecidable.length > 0) inspection.pickles = [{ loaded: true, evident: this.evident, imports: [...this.imports], undecidable: this.undecidable }];
    return inspection;
  }

  /** `num_storages = pickle_module.load(f)`, then `for i in range(num_storages)`. */
  private count(stream: StreamVerdict, at: number, next: (n: number) => Step): Step {
    const result = stream.result;
    if (result?.k === 'int') return Number.isNaN(result.n) ? this.cannotKnow(`the count of items is an int too large for aisc to keep (at byte ${at})`) : next(result.n);
    return result && isOpaque(result) ? this.cannotKnow(`range() of a count whose type aisc cannot know (at byte ${at})`) : DONE;
  }

  /** `key, location, storage_type = pickle_module.load(f)`, then `_new_with_file(f, _element_size(storage_type.dtype))`. */
  private storage(i: number, n: number): Step {
    if (i >= n) return this.pickle(() => DONE); // storage_views: the member's last read
    return this.pickle((stream, at) => {
      if (!canUnpackThree(stream.result)) return DONE;
      const third = stream.result?.k === 'tuple' ? stream.result.items[2] : undefined;
      if (third && !isOpaque(third)) return DONE; // a plain value has no .dtype
      const names = new Set(stream.imports.map(({ module, name }) => toImportName(module, name)));
      if (names.size === 0) return DONE; // nothing it builds without an import has a .dtype
      const [only] = stream.imports;
      const size = names.size === 1 && only && (only.module === 'torch' || only.module === 'torch.cuda') ? ELEMENT_SIZES.get(only.name) : undefined;
      if (size === undefined) return this.cannotKnow(`storage ${i}'s type is ${[...names].join(' or ')}, whose element size aisc does not know: where its raw bytes end is unknown (at byte ${at})`);
      // THPStorage_readFileRaw: an int64 count, then count × element size bytes (a size_t: it wraps).
      return this.read(8, (b) => this.skip(BigInt.asUintN(64, BigInt(size) * b.readBigInt64LE(0)), () => this.storage(i + 1, n)));
    });
  }

  /** `key, storage_id, original_tensor_type = pickle_module.load(f)`, then ndim, 4 bytes, sizes, strides, offset. */
  private tensor(i: number, n: number): Step {
    if (i >= n) return DONE;
    return this.pickle((stream) => {
      if (!canUnpackThree(stream.result)) return DONE;
      return this.read(4, (b) => {
        const ndim = b.readInt32LE(0);
        // struct.unpack(f'<{ndim}q') raises for a negative ndim; every read here must be whole.
        return ndim < 0 ? DONE : this.skip(BigInt(4 + 16 * ndim + 8), () => this.tensor(i + 1, n));
      });
    });
  }

  private pickle(then: (stream: StreamVerdict, at: number) => Step): Step {
    return { k: 'pickle', machine: new PickleMachine({ encoding: 'any', persistentLoad: false, maxStreams: 1 }), then };
  }

  private read(need: number, then: (b: Buffer) => Step): Step {
    return { k: 'read', need, got: [], length: 0, then };
  }

  private skip(remaining: bigint, then: () => Step): Step {
    return remaining === 0n ? then() : { k: 'skip', remaining, then };
  }

  private cannotKnow(reason: string): Step {
    this.undecidable.push(reason);
    return DONE;
  }

  /** Takes what the step reads of `b`; returns how many bytes it took. */
  private advance(step: Step, b: Buffer): number {
    switch (step.k) {
      case 'pickle':
        return this.advancePickle(step, b);
      case 'read': {
        const take = b.subarray(0, step.need - step.length);
        step.got.push(Buffer.from(take));
        step.length += take.length;
        if (step.length === step.need) this.step = step.then(Buffer.concat(step.got));
        return take.length;
      }
      case 'skip': {
        const n = step.remaining < BigInt(b.length) ? Number(step.remaining) : b.length;
        step.remaining -= BigInt(n);
        if (step.remaining === 0n) this.step = step.then();
        return n;
      }
      case 'done':
        return b.length;
      default:
        return step satisfies never;
    }
  }

  /** An unbuffered file stands where load() left it: after the STOP, or after the FRAME holding it. */
  private advancePickle(step: Extract<Step, { k: 'pickle' }>, b: Buffer): number {
    const start = (step.start ??= this.pos);
    if (step.until === undefined) {
      step.machine.feed(b);
      if (!step.machine.finished) return b.length;
      const stream = step.machine.streams[0];
      if (stream?.outcome !== 'ok') {
        this.settle(step, false);
        return b.length;
      }
      step.until = start + (stream.readTo ?? stream.end);
    } else {
      step.machine.feed(b.subarray(0, step.until - this.pos));
    }
    const taken = Math.min(b.length, step.until - this.pos);
    if (this.pos + taken >= step.until) this.settle(step, true);
    return taken;
  }

  /** Ends the stream (a FRAME cut short stops it at the FRAME) and goes on where it returned. */
  private settle(step: Extract<Step, { k: 'pickle' }>, whole: boolean): void {
    const stream = step.machine.end()[0];
    const at = (step.start ?? this.pos) + (stream?.end ?? 0);
    this.step = DONE;
    if (!stream) return;
    this.evident ||= stream.header || stream.outcome === 'ok';
    for (const { module, name } of stream.imports) this.imports.add(toImportName(module, name));
    if (stream.outcome === 'undecidable') this.undecidable.push(`${stream.reason.replace(/^\w+: /, '')} (at byte ${at})`);
    if (whole && stream.outcome === 'ok') this.step = step.then(stream, at);
  }
}

/** Whether `a, b, c = value` may succeed: CPython raises for a scalar or a tuple of another length. */
function canUnpackThree(value: Value | undefined): boolean {
  if (!value) return false;
  switch (value.k) {
    case 'none':
    case 'int':
    case 'float':
      return false;
    case 'tuple':
      return value.items.length === 3;
    default:
      return true; // a list, str, dict or object may hold three items
  }
}
