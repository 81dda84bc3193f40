import { compareCodePoints } from '../lockfile/canonical-json.js';
import type { FormatFacts } from '../lockfile/types.js';
import { getWeightFormat } from './classify.js';
import type { SafetensorsCapture } from './safetensors-capture.js';
import { toSafetensorsFacts } from './safetensors.js';

export { getFileRole, getWeightFormat, inferKind, type FileRole } from './classify.js';
export { SafetensorsHeaderCapture, type SafetensorsCapture } from './safetensors-capture.js';
export { readSafetensorsFacts, toSafetensorsFacts, type SafetensorsFacts } from './safetensors.js';

/** A hashed file as format facts need it: its safetensors header, captured while it was hashed. */
export interface InspectedFile {
  path: string;
  size: number;
  safetensors?: SafetensorsCapture;
}

/** Whether a file's header is to be captured while it is hashed. */
export function getInspection(path: string): 'safetensors' | undefined {
  return getWeightFormat(path) === 'safetensors' ? 'safetensors' : undefined;
}

/**
 * Format facts for an artifact: which weight formats it holds and what its safetensors declare,
 * read from the header bytes the hash workers captured (what is judged is what was hashed).
 */
export function getFormatFacts(files: readonly InspectedFile[]): FormatFacts | undefined {
  const weights = new Set<string>();
  const dtypes = new Set<string>();
  let tensors = 0;
  let parameters = 0;
  let sawSafetensors = false;
  for (const { path, size, safetensors } of files) {
    const format = getWeightFormat(path);
    if (!format) continue;
    weights.add(format);
    if (format !== 'safetensors') continue;
    const facts = toSafetensorsFacts(safetensors ?? { problem: 'its header was not read while it was hashed' }, size, path);
    sawSafetensors = true;
    tensors += facts.tensors;
    parameters += facts.parameters;
    facts.dtypes.forEach((d) => dtypes.add(d));
  }
  if (weights.size === 0) return undefined;
  const result: FormatFacts = { weights: [...weights].sort(compareCodePoints) };
  if (sawSafetensors) Object.assign(result, { tensors, parameters, dtypes: [...dtypes].sort(compareCodePoints) });
  return result;
}
