import { PickleMachine, type PickleEncoding } from './pickle.js';
import { toImportName } from './pickle-allowlist.js';

/** What one `Unpickler(file, encoding=…).load()` of these bytes does, as aisc models it. */
export interface LoadVerdict {
  /** Every find_class call reached, in order, up to and including the first refused one. */
  imports: [module: string, name: string][];
  outcome: 'unsafe' | 'ok' | 'stopped' | 'undecidable';
  reason: string;
  assumed: boolean;
}

export interface LoadOptions {
  encoding: Exclude<PickleEncoding, 'any'>;
  persistentLoad: boolean;
  allowed: (module: string, name: string) => boolean;
}

export function modelLoad(bytes: Uint8Array, options: LoadOptions): LoadVerdict {
  const machine = new PickleMachine({ ...options, maxStreams: 1 });
  machine.feed(bytes);
  const stream = machine.end()[0];
  if (!stream) return { imports: [], outcome: 'stopped', reason: 'ran out of input', assumed: false };
  const imports = stream.imports.map(({ module, name }): [string, string] => [module, name]);
  const refused = imports.some(([module, name]) => !options.allowed(module, name));
  return { imports, outcome: refused ? 'unsafe' : stream.outcome, reason: stream.reason, assumed: stream.assumed };
}

/** What the gate reads of a pickle: every import each stream reaches, and what cannot be known. */
export interface PickleScan {
  /** The first stream was written as a pickle: PROTO first. */
  header: boolean;
  /** The first stream reached its STOP. */
  complete: boolean;
  /** Some stream called what it had imported or made (REDUCE, NEWOBJ, OBJ, INST). */
  called: boolean;
  /** Every import reached (`module.name`), first seen first, each once. */
  imports: string[];
  /** Why aisc cannot know what the unpickler does past a point: PICKLE_UNDECIDABLE. */
  undecidable: string[];
  streams: number;
}

/**
 * The gate's walk: the unpickler model with every encoding at once and a persistent_load (what
 * torch.load has), over up to `maxStreams` streams one after another, naming every import.
 */
export class PickleScanner {
  private readonly machine: PickleMachine;

  constructor(maxStreams = 5) {
    this.machine = new PickleMachine({ encoding: 'any', persistentLoad: true, maxStreams });
  }

  get finished(): boolean {
    return this.machine.finished;
  }

  feed(chunk: Uint8Array): void {
    this.machine.feed(chunk);
  }

  end(): PickleScan {
    const streams = this.machine.end();
    const imports = new Set<string>();
    const undecidableReasons: string[] = [];
    for (const stream of streams) {
      for (const { module, name } of stream.imports) imports.add(toImportName(module, name));
      if (stream.outcome === 'undecidable') undecidableReasons.push(`${stream.reason.replace(/^\w+: /, '')} (at byte ${stream.end})`);
    }
    const first = streams[0];
    return {
      header: first?.header ?? false,
      complete: first?.outcome === 'ok',
      called: streams.some((s) => s.called),
      imports: [...imports],
      undecidable: undecidableReasons,
      streams: streams.filter((s) => s.outcome === 'ok').length,
    };
  }
}
