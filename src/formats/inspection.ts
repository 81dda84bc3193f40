import { CONTENT_FORMATS, type ContentFormat } from '../lockfile/types.js';

export { CONTENT_FORMATS, type ContentFormat } from '../lockfile/types.js';

/**
 * The shared constant for a format name that crossed threads: a structured clone makes a fresh
 * string each time, and 300,000 files would otherwise keep 300,000 copies of "json".
 */
export function toSharedFormat(name: ContentFormat): ContentFormat {
  return CONTENT_FORMATS.find((format) => format === name) ?? name;
}

/** Formats whose loading runs pickles: denied by `denyFormats: [pickle]` along with plain pickles. */
export const PICKLE_FORMATS: ReadonlySet<ContentFormat> = new Set(['pickle', 'pytorch-zip', 'pytorch-legacy']);

/** Formats that hold model weights, for the artifact's `format.weights`. */
export const WEIGHT_FORMATS: ReadonlySet<ContentFormat> = new Set(['safetensors', 'gguf', 'pytorch-zip', 'pytorch-legacy', 'pickle', 'numpy']);

/** What a reviewer reads of a weight file's header. */
export interface WeightFacts {
  tensors: number;
  parameters: number;
  dtypes: string[];
  /** GGUF `general.architecture`. */
  architecture?: string;
  /** GGUF `general.file_type`, by llama.cpp's name (Q4_K_M…). */
  quantization?: string;
}

/** One pickle stream's verdict, in the file itself or in a member of it. */
export interface PickleReport {
  /** The member holding it (`archive/data.pkl`, `inner.zip!/x.pkl`); absent for the file itself. */
  member?: string;
  /**
   * Its loader unpickles these bytes (a pickle's name, torch.load's data.pkl, an object array), so
   * every import counts; otherwise only a pickle evident from its bytes does (a disguised one).
   */
  loaded: boolean;
  /** The bytes are evidently a pickle that imports: the stream began with PROTO or reached its STOP. */
  evident: boolean;
  /** Every import the unpickler reaches before it stops (`module.name`). */
  imports: string[];
  /** Where aisc cannot know what the unpickler does (a computed import, a limit): PICKLE_UNDECIDABLE. */
  undecidable: string[];
}

/** A file's inspection, made in the hash worker from the chunks it hashed. Plain data: it crosses threads. */
export interface Inspection {
  format: ContentFormat;
  facts?: WeightFacts;
  pickles?: PickleReport[];
  /** Why a weight file is malformed (safetensors, GGUF, numpy header): FORMAT_INVALID. */
  invalid?: string;
  /** Where a pickle may hide that could not be opened (an encrypted or corrupt zip, 7z, xz). */
  opaque?: string[];
}
