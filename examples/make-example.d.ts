export interface TensorSpec {
  dtype: 'F32' | 'F16' | 'BF16' | 'I64';
  shape: number[];
}
export function makeSafetensors(tensors: Record<string, TensorSpec>, seed?: number, metadata?: Record<string, string>): Buffer;
export function makeExample(root: string): { model: string; tokenizer: string; adapter: string; dataset: string };
