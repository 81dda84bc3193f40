import { compareCodePoints } from '../lockfile/canonical-json.js';
import type { FormatFacts } from '../lockfile/types.js';
import { getWeightFormat } from './classify.js';
import { WEIGHT_FORMATS, type ContentFormat, type Inspection } from './inspection.js';
import type { SafetensorsCapture } from './safetensors-capture.js';
import { toSafetensorsFacts } from './safetensors.js';
import { getDeniableFormats } from './verdict.js';

export { getFileRole, getWeightFormat, inferKind, type FileRole } from './classify.js';
export { ContentInspector, SETTLED_BY_START } from './inspect.js';
export { CONTENT_FORMATS, PICKLE_FORMATS, WEIGHT_FORMATS, type ContentFormat, type Inspection, type PickleReport, type WeightFacts } from './inspection.js';
export { modelLoad, PickleScanner, type LoadOptions, type LoadVerdict, type PickleScan } from './pickle-scan.js';
export { SAFE_PICKLE_IMPORTS } from './pickle-allowlist.js';
export { SafetensorsHeaderCapture, type SafetensorsCapture } from './safetensors-capture.js';
export { readSafetensorsFacts, toSafetensorsFacts, type SafetensorsFacts } from './safetensors.js';
export { getDeniableFormats, hasPickle, judgeContent, type ContentSubject } from './verdict.js';

/** A file as format facts need it: its format when its bytes were read, else only its name. */
export interface InspectedFile {
  path: string;
  format?: ContentFormat;
}

/** A safetensors header read on its own (a Range request on a Hub file not downloaded) as an inspection. */
export function toHeaderInspection(capture: SafetensorsCapture, size: number): Inspection {
  try {
    return { format: 'safetensors', facts: { ...toSafetensorsFacts(capture, size, '') } };
  } catch (error) {
    return { format: 'safetensors', invalid: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Format facts for an artifact, from what its files' bytes are (what is judged is what was
 * hashed): the weight formats it holds (with `pickle` when any file holds one), and the tensors,
 * parameters, dtypes, architecture and quantization its weight headers declare. A file whose bytes
 * were not read (a Hub LFS file locked without download) counts by its name.
 */
export function getFormatFacts(files: readonly InspectedFile[], inspections: ReadonlyMap<number, Inspection> = new Map()): FormatFacts | undefined {
  const weights = new Set<string>();
  const dtypes = new Set<string>();
  const architectures = new Set<string>();
  const quantizations = new Set<string>();
  let tensors = 0;
  let parameters = 0;
  let sawFacts = false;
  for (const [i, { path, format }] of files.entries()) {
    // Only inspections that say more than a format are kept by callers; the rest is the format.
    const inspection = inspections.get(i) ?? (format === undefined ? undefined : { format });
    if (!inspection) {
      const named = getWeightFormat(path);
      if (named) weights.add(named);
      continue;
    }
    for (const format of getDeniableFormats(inspection)) if (WEIGHT_FORMATS.has(format as never)) weights.add(format);
    const facts = inspection.facts;
    if (!facts || !WEIGHT_FORMATS.has(inspection.format)) continue;
    sawFacts = true;
    tensors += facts.tensors;
    parameters += facts.parameters;
    facts.dtypes.forEach((d) => dtypes.add(d));
    if (facts.architecture !== undefined) architectures.add(facts.architecture);
    if (facts.quantization !== undefined) quantizations.add(facts.quantization);
  }
  if (weights.size === 0) return undefined;
  const result: FormatFacts = { weights: [...weights].sort(compareCodePoints) };
  if (sawFacts) Object.assign(result, { tensors, parameters, dtypes: [...dtypes].sort(compareCodePoints) });
  if (architectures.size > 0) result.architecture = [...architectures].sort(compareCodePoints).join(', ');
  if (quantizations.size > 0) result.quantization = [...quantizations].sort(compareCodePoints).join(', ');
  return result;
}
