import { join } from 'node:path';
import { compareCodePoints } from '../lockfile/canonical-json.js';
import type { FormatFacts } from '../lockfile/types.js';
import { getWeightFormat } from './classify.js';
import { readSafetensorsFacts } from './safetensors.js';

export { getFileRole, getWeightFormat, inferKind, type FileRole } from './classify.js';
export { readSafetensorsFacts, type SafetensorsFacts } from './safetensors.js';

/** Format facts for an artifact: which weight formats it holds and what its safetensors declare. */
export function getFormatFacts(realRoot: string, paths: readonly string[], single: boolean): FormatFacts | undefined {
  const weights = new Set<string>();
  const dtypes = new Set<string>();
  let tensors = 0;
  let parameters = 0;
  let sawSafetensors = false;
  for (const path of paths) {
    const format = getWeightFormat(path);
    if (!format) continue;
    weights.add(format);
    if (format !== 'safetensors') continue;
    const facts = readSafetensorsFacts(single ? realRoot : join(realRoot, path), path);
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
