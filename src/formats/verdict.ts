import { toFinding, type ContentFindingCode, type Finding } from '../findings.js';
import { getWeightFormat } from './classify.js';
import { PICKLE_FORMATS, type ContentFormat, type Inspection } from './inspection.js';
import { SAFE_PICKLE_IMPORTS } from './pickle-allowlist.js';

/** Which file a content finding is about: its path, and the artifact it belongs to (verify). */
export interface ContentSubject {
  artifact?: string;
  path: string;
}

/** Extensions that promise content which runs no code when loaded. */
const CODE_FREE = new Map<string, string>([
  ['safetensors', 'safetensors'],
  ['gguf', 'gguf'],
  ['json', 'json'],
  ['jsonl', 'json lines'],
  ['txt', 'text'],
  ['md', 'text'],
  ['model', 'a SentencePiece model'],
  ['parquet', 'parquet'],
  ['csv', 'csv'],
  ['onnx', 'onnx'],
]);

/**
 * Judges one inspected file as its loader would treat it. Where the loader unpickles the bytes,
 * every import the unpickler reaches outside the allowlist is unsafe, and what aisc cannot follow
 * is undecidable; elsewhere only a pickle evident from its bytes counts, and under a name that
 * promises code-free content it is a mismatch. A data-only pickle is no finding under any name.
 * Containers that could not be opened are unscannable; a malformed weight header is invalid.
 * Pure: the allowlist beyond aisc's own comes from the policy. `subject` names the file (a path
 * alone, or with its artifact) in the findings.
 */
export function judgeContent(subject: string | ContentSubject, inspection: Inspection, allowed: ReadonlySet<string> = new Set()): Finding[] {
  const { artifact, path } = typeof subject === 'string' ? { artifact: undefined, path: subject } : subject;
  const findings: Finding[] = [];
  const add = (code: ContentFindingCode, message: string): void => void findings.push(toFinding({ code, artifact, path, message }));
  const named = getExtension(path);
  const promised = named === undefined ? undefined : CODE_FREE.get(named);
  let disguised: string[] | undefined;
  for (const pickle of inspection.pickles ?? []) {
    if (!pickle.loaded && !pickle.evident) continue;
    const where = pickle.member === undefined ? '' : ` (in ${pickle.member})`;
    if (pickle.member === undefined && !pickle.loaded && promised !== undefined && pickle.imports.length > 0) disguised = pickle.imports;
    const denied = pickle.imports.filter((name) => !SAFE_PICKLE_IMPORTS.has(name) && !allowed.has(name));
    if (denied.length > 0) add('PICKLE_UNSAFE', `a pickle${where} imports ${denied.join(', ')}, which can run code when it is loaded`);
    for (const reason of pickle.undecidable) add('PICKLE_UNDECIDABLE', `a pickle${where}: ${reason}; aisc cannot tell what loading it imports`);
  }
  if (disguised) add('FORMAT_MISMATCH', `named .${named ?? ''} (${promised ?? ''}) but its content is a pickle that imports ${disguised.join(', ')}`);
  for (const reason of inspection.opaque ?? []) add('CONTENT_UNSCANNABLE', `cannot be inspected where a pickle may hide: ${reason}`);
  if (inspection.invalid !== undefined) add('FORMAT_INVALID', inspection.invalid);
  if ((named === 'safetensors' || named === 'gguf') && !disguised && inspection.format !== named && inspection.invalid === undefined) {
    add('FORMAT_MISMATCH', `named .${named} but its content is ${describeFormat(inspection.format)}: its loader refuses it`);
  }
  return findings;
}

/** Whether loading it may unpickle something: a pickle-based format, or a pickle its loader reads or that its bytes show. */
export function hasPickle(inspection: Inspection): boolean {
  return PICKLE_FORMATS.has(inspection.format) || (inspection.pickles ?? []).some((p) => p.loaded || p.evident);
}

/** The formats a file counts as for `denyFormats`: its own, and `pickle` when it holds one. */
export function getDeniableFormats(inspection: Inspection): string[] {
  return hasPickle(inspection) && inspection.format !== 'pickle' ? [inspection.format, 'pickle'] : [inspection.format];
}

export function describeFormat(format: ContentFormat): string {
  return format === 'unknown' ? 'of no known format' : format;
}

function getExtension(path: string): string | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? undefined : base.slice(dot + 1).toLowerCase();
}

/** The weight format a name alone says, for files whose bytes were not read (a Hub LFS file). */
export { getWeightFormat };
