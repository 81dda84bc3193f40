import type { FileArtifactKind } from '../lockfile/types.js';

/** What a reviewer cares about in a file: weights, tokenizer, config, data or anything else. */
export type FileRole = 'weights' | 'tokenizer' | 'config' | 'data' | 'other';

/** By file extension. A Map: an extension such as `.constructor` is data, never a property. */
const WEIGHT_FORMATS = new Map<string, string>([
  ['safetensors', 'safetensors'],
  ['gguf', 'gguf'],
  ['ggml', 'ggml'],
  ['bin', 'pickle'],
  ['pt', 'pickle'],
  ['pth', 'pickle'],
  ['ckpt', 'pickle'],
  ['pkl', 'pickle'],
  ['pickle', 'pickle'],
  ['joblib', 'pickle'],
  ['onnx', 'onnx'],
  ['h5', 'hdf5'],
  ['keras', 'keras'],
  ['msgpack', 'flax'],
  ['tflite', 'tflite'],
  ['pb', 'tensorflow'],
  ['npz', 'numpy'],
  ['npy', 'numpy'],
  ['mlmodel', 'coreml'],
]);

const TOKENIZER_NAMES = new Set([
  'tokenizer.json',
  'tokenizer_config.json',
  'tokenizer.model',
  'special_tokens_map.json',
  'added_tokens.json',
  'vocab.json',
  'vocab.txt',
  'merges.txt',
  'spiece.model',
  'sentencepiece.bpe.model',
  'chat_template.jinja',
]);

const CONFIG_NAMES = new Set(['config.json', 'generation_config.json', 'adapter_config.json', 'preprocessor_config.json', 'model_index.json', 'params.json']);

const DATA_EXTENSIONS = new Set(['jsonl', 'parquet', 'csv', 'tsv', 'arrow', 'avro', 'txt', 'ndjson', 'orc']);

function extensionOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot + 1).toLowerCase();
}

function baseNameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The weight format a file's name says it is in, if any (`pytorch_model.bin` → pickle). */
export function getWeightFormat(path: string): string | undefined {
  return WEIGHT_FORMATS.get(extensionOf(path));
}

export function getFileRole(path: string): FileRole {
  const base = baseNameOf(path);
  if (TOKENIZER_NAMES.has(base)) return 'tokenizer';
  if (CONFIG_NAMES.has(base)) return 'config';
  if (getWeightFormat(path)) return 'weights';
  if (DATA_EXTENSIONS.has(extensionOf(path))) return 'data';
  return 'other';
}

/** The kind a set of files most likely is, or undefined when the files do not say. */
export function inferKind(paths: readonly string[]): FileArtifactKind | undefined {
  const bases = new Set(paths.map(baseNameOf));
  const roles = new Set(paths.map(getFileRole));
  if (bases.has('adapter_config.json')) return 'adapter';
  if (roles.has('weights')) return 'model';
  if (roles.has('tokenizer') && !roles.has('data')) return 'tokenizer';
  if (roles.has('data') && !roles.has('tokenizer')) return 'dataset';
  return undefined;
}

/** Names that a pickle loader opens: torch.load (.bin, .pt, .pth, .ckpt), pickle and joblib, np.load's fallback for what is not an array. */
const PICKLE_LOADED = new Set(['bin', 'pt', 'pth', 'ckpt', 'pkl', 'pickle', 'joblib', 'npy', 'npz']);

/** Names whose loader is known and never unpickles (weights, text, data, images, code). */
const NOT_PICKLE_LOADED = new Set([
  'safetensors', 'gguf', 'ggml', 'onnx', 'h5', 'hdf5', 'keras', 'msgpack', 'tflite', 'pb', 'mlmodel', 'model',
  'json', 'jsonl', 'ndjson', 'txt', 'md', 'rst', 'csv', 'tsv', 'parquet', 'arrow', 'avro', 'orc', 'yaml', 'yml', 'toml', 'xml', 'html', 'jinja',
  'py', 'js', 'ts', 'sh', 'cfg', 'ini', 'png', 'jpg', 'jpeg', 'gif', 'webp', 'wav', 'mp3', 'flac', 'mp4', 'pdf', 'zip', 'tar', 'gz', 'tgz', 'zst', 'xz', 'bz2', '7z',
]);

/**
 * Who opens a file by its name: `pickle` when its loader unpickles it (every import counts),
 * `other` when a loader that never unpickles does (only a disguised pickle counts), `unknown`
 * when the name does not say (judged as a pickle loader would, unless its content is text).
 */
export function getPickleLoader(path: string): 'pickle' | 'other' | 'unknown' {
  const extension = extensionOf(path);
  if (PICKLE_LOADED.has(extension)) return 'pickle';
  if (NOT_PICKLE_LOADED.has(extension)) return 'other';
  return 'unknown';
}
