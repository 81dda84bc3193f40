import { getWeightFormat } from './classify.js';
import { PICKLE_FORMATS, type ContentFormat, type Inspection } from './inspection.js';
import { SAFE_PICKLE_IMPORTS } from './pickle-allowlist.js';

export type ContentFindingCode = 'PICKLE_UNSAFE' | 'CONTENT_UNSCANNABLE' | 'FORMAT_INVALID' | 'FORMAT_MISMATCH';

export interface ContentFinding {
  code: ContentFindingCode;
  message: string;
  /** The imports that are not allowed, for PICKLE_UNSAFE. */
  imports?: string[];
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
 * Judges one inspected file: pickles whose imports are not all allowed (or that the walk could not
 * follow) are unsafe; containers that could not be opened are unscannable; a malformed weight
 * header is invalid; a file whose name promises code-free content but that holds a pickle is a
 * mismatch. Pure: the allowlist beyond aisc's own comes from the policy.
 */
export function judgeContent(path: string, inspection: Inspection, allowed: ReadonlySet<string> = new Set()): ContentFinding[] {
  const findings: ContentFinding[] = [];
  for (const pickle of inspection.pickles ?? []) {
    const where = pickle.member === undefined ? '' : ` (in ${pickle.member})`;
    const denied = pickle.imports.filter((name) => !SAFE_PICKLE_IMPORTS.has(name) && !allowed.has(name));
    if (denied.length > 0) findings.push({ code: 'PICKLE_UNSAFE', message: `a pickle${where} imports ${denied.join(', ')}, which can run code when it is loaded`, imports: denied });
    for (const problem of pickle.problems) findings.push({ code: 'PICKLE_UNSAFE', message: `a pickle${where}: ${problem}` });
  }
  for (const reason of inspection.opaque ?? []) findings.push({ code: 'CONTENT_UNSCANNABLE', message: `cannot be inspected where a pickle may hide: ${reason}` });
  if (inspection.invalid !== undefined) findings.push({ code: 'FORMAT_INVALID', message: inspection.invalid });
  const named = getExtension(path);
  const promised = named === undefined ? undefined : CODE_FREE.get(named);
  if (promised !== undefined && hasPickle(inspection)) {
    const content = inspection.format === 'pickle' ? 'a pickle' : `${describeFormat(inspection.format)} holding a pickle`;
    findings.push({ code: 'FORMAT_MISMATCH', message: `named .${named ?? ''} (${promised}) but its content is ${content}` });
  } else if ((named === 'safetensors' || named === 'gguf') && inspection.format !== named && inspection.invalid === undefined) {
    findings.push({ code: 'FORMAT_INVALID', message: `named .${named} but its content is ${describeFormat(inspection.format)}` });
  }
  return findings;
}

/** Whether loading it may unpickle something: a pickle anywhere in it, or a pickle-based format. */
export function hasPickle(inspection: Inspection): boolean {
  return PICKLE_FORMATS.has(inspection.format) || (inspection.pickles?.length ?? 0) > 0;
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
