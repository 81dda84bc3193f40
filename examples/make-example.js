// Writes the bundled example deployment: a tiny model (two safetensors shards, config, index),
// a tokenizer, a LoRA adapter and an evaluation dataset. Deterministic: the same bytes every time,
// from a seeded generator, so nothing binary is committed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** xorshift32: small, seeded, good enough for example weights. */
function makeRandom(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
}

const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2, I64: 8 };

/**
 * A valid safetensors file: 8-byte little-endian header length, a JSON header padded with spaces to
 * an 8-byte boundary, then the tensors back to back in header order.
 * @param {Record<string, { dtype: 'F32' | 'F16' | 'BF16' | 'I64', shape: number[] }>} tensors
 */
export function makeSafetensors(tensors, seed = 1, metadata = { format: 'pt' }) {
  const random = makeRandom(seed);
  const header = { __metadata__: metadata };
  const parts = [];
  let offset = 0;
  for (const [name, { dtype, shape }] of Object.entries(tensors)) {
    const bytes = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    const data = Buffer.alloc(bytes);
    if (dtype === 'F32') for (let i = 0; i < bytes; i += 4) data.writeFloatLE((random() - 0.5) * 0.02, i);
    else for (let i = 0; i < bytes; i++) data[i] = Math.floor(random() * 256);
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    parts.push(data);
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([prefix, Buffer.from(json), ...parts]);
}

function write(root, path, content) {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, typeof content === 'string' ? content : content);
}

const json = (value) => `${JSON.stringify(value, null, 2)}\n`;

/** Lays the example out under `root`; returns the paths a user would lock. */
export function makeExample(root) {
  const model = 'models/tiny-llama';
  const hidden = 64;
  const vocab = 512;
  const layer = (i) => ({
    [`model.layers.${i}.self_attn.q_proj.weight`]: { dtype: 'F32', shape: [hidden, hidden] },
    [`model.layers.${i}.self_attn.k_proj.weight`]: { dtype: 'F32', shape: [hidden, hidden] },
    [`model.layers.${i}.self_attn.v_proj.weight`]: { dtype: 'F32', shape: [hidden, hidden] },
    [`model.layers.${i}.mlp.up_proj.weight`]: { dtype: 'F16', shape: [4 * hidden, hidden] },
  });
  const shard1 = { 'model.embed_tokens.weight': { dtype: 'F32', shape: [vocab, hidden] }, ...layer(0) };
  const shard2 = { ...layer(1), 'lm_head.weight': { dtype: 'F32', shape: [vocab, hidden] } };
  write(root, `${model}/model-00001-of-00002.safetensors`, makeSafetensors(shard1, 1));
  write(root, `${model}/model-00002-of-00002.safetensors`, makeSafetensors(shard2, 2));
  const weightMap = Object.fromEntries([
    ...Object.keys(shard1).map((k) => [k, 'model-00001-of-00002.safetensors']),
    ...Object.keys(shard2).map((k) => [k, 'model-00002-of-00002.safetensors']),
  ]);
  write(root, `${model}/model.safetensors.index.json`, json({ metadata: { total_size: 0 }, weight_map: weightMap }));
  write(root, `${model}/config.json`, json({ architectures: ['LlamaForCausalLM'], hidden_size: hidden, num_hidden_layers: 2, vocab_size: vocab, torch_dtype: 'float32' }));
  write(root, `${model}/generation_config.json`, json({ bos_token_id: 1, eos_token_id: 2, max_new_tokens: 64 }));

  const tokenizer = 'tokenizers/tiny-llama-tokenizer';
  const tokens = Object.fromEntries(Array.from({ length: vocab }, (_, i) => [i < 3 ? ['<unk>', '<s>', '</s>'][i] : `tok${i}`, i]));
  write(root, `${tokenizer}/tokenizer.json`, json({ version: '1.0', model: { type: 'BPE', vocab: tokens, merges: [] }, added_tokens: [] }));
  write(root, `${tokenizer}/tokenizer_config.json`, json({ bos_token: '<s>', eos_token: '</s>', model_max_length: 2048 }));
  write(root, `${tokenizer}/special_tokens_map.json`, json({ bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' }));

  const adapter = 'adapters/support-lora';
  write(root, `${adapter}/adapter_config.json`, json({ base_model_name_or_path: 'tiny-llama', peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['q_proj', 'v_proj'] }));
  write(root, `${adapter}/adapter_model.safetensors`, makeSafetensors({
    'base_model.model.layers.0.self_attn.q_proj.lora_A.weight': { dtype: 'F32', shape: [8, hidden] },
    'base_model.model.layers.0.self_attn.q_proj.lora_B.weight': { dtype: 'F32', shape: [hidden, 8] },
  }, 3));

  const random = makeRandom(4);
  const rows = Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: i, prompt: `Question ${i}: how do I reset my password?`, expected: random() < 0.5 ? 'reset-link' : 'escalate' }));
  write(root, 'data/eval.jsonl', `${rows.join('\n')}\n`);

  return { model, tokenizer, adapter, dataset: 'data/eval.jsonl' };
}
