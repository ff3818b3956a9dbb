/**
 * The hypernetwork's file (hypernet.safetensors): its format and config, checked tensor by tensor, the summary the UI
 * shows, and what both implementations share (the Hypernet interface, parameter lookup, where heads write).
 */
import type { LoraHeadTarget } from '../kernels';
import type { LoraTensors } from './lora';
import { EngineError, PackError } from '../errors';
import { parseSafetensors } from '../formats/safetensors';

export const HYPERNET_FORMAT = 'parametric-skills-hypernet';
export const HYPERNET_FORMAT_VERSION = 1;
/** training/hypernet.py RMS_EPS. */
export const RMS_EPS = 1e-6;
const FILE = 'hypernet.safetensors';

/** training/hypernet.py HypernetConfig, field for field: the JSON in the file's `config` metadata. */
export interface HypernetConfig {
  hidden_size: number;
  num_encoder_layers: number;
  num_layers: number;
  modules: string[];
  module_in: number[];
  module_out: number[];
  rank: number;
  d_model: number;
  num_heads: number;
  mlp_hidden: number;
  /** Training-time initialisation only. */
  a_init_std?: number;
}

/** What the file says of how it was made (its `provenance` metadata) and how its weights are stored. */
export interface HypernetSummary {
  /** trained: a training run's record (steps); random: random weights (test packs); unknown: no readable record. */
  origin: 'trained' | 'random' | 'unknown';
  steps?: number;
  seed?: number;
  /** Weight dtypes as stored (readers widen to float32), e.g. ['F16']. */
  storedAs: string[];
}

export interface HypernetFile {
  config: HypernetConfig;
  /** The skill encoder's chunk length, shared with training. */
  chunkTokens: number;
  summary: HypernetSummary;
  /** Parameters under their PyTorch state_dict names, shapes checked against the config. */
  params: ReadonlyMap<string, Float32Array>;
}

/** Encoder hidden states: [encoder layers E, tokens T, hidden size H]. */
export type EncoderShape = readonly [number, number, number];

export interface Hypernet {
  readonly config: HypernetConfig;
  /** One vector per target after out_norm, z [N, D] (Hypernetwork.pool). */
  pool(hidden: Float32Array, shape: EncoderShape): Promise<Float32Array>;
  /** Per module A [layers, in, r] and B [layers, r, out], unscaled (Hypernetwork.forward). */
  run(hidden: Float32Array, shape: EncoderShape): Promise<LoraTensors>;
  dispose(): void;
}

function invalid(what: string): never {
  throw new PackError('manifest-invalid', `${FILE}: ${what}`, FILE);
}

function positiveInt(c: Record<string, unknown>, key: string): void {
  const v = c[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) invalid(`config.${key} must be a positive integer (got ${JSON.stringify(v)})`);
}

function validateConfig(raw: unknown): HypernetConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) invalid('config is not a JSON object');
  const c = raw as Record<string, unknown>;
  for (const k of ['hidden_size', 'num_encoder_layers', 'num_layers', 'rank', 'd_model', 'num_heads', 'mlp_hidden']) positiveInt(c, k);
  const modules = c.modules;
  if (!Array.isArray(modules) || modules.length === 0 || !modules.every((m) => typeof m === 'string') || new Set(modules).size !== modules.length) {
    invalid('config.modules must be a non-empty list of distinct module names');
  }
  for (const k of ['module_in', 'module_out']) {
    const v = c[k];
    if (!Array.isArray(v) || v.length !== modules.length || !v.every((d) => Number.isInteger(d) && d > 0)) {
      invalid(`config.${k} must hold one positive size per module (${modules.length})`);
    }
  }
  if ((c.d_model as number) % (c.num_heads as number) !== 0) invalid('config.num_heads must divide config.d_model');
  return c as unknown as HypernetConfig;
}

/** Every parameter of Hypernetwork(config) with its shape, in state_dict names. */
export function hypernetParamShapes(c: HypernetConfig): Map<string, number[]> {
  const d = c.d_model;
  const shapes = new Map<string, number[]>([
    ['layer_mix', [c.num_encoder_layers]],
    ['in_norm', [c.hidden_size]],
    ['in_proj.weight', [d, c.hidden_size]],
    ['in_proj.bias', [d]],
    ['queries', [c.num_layers * c.modules.length, d]],
    ['k_proj.weight', [d, d]],
    ['v_proj.weight', [d, d]],
    ['o_proj.weight', [d, d]],
    ['mlp_norm', [d]],
    ['fc1.weight', [c.mlp_hidden, d]],
    ['fc1.bias', [c.mlp_hidden]],
    ['fc2.weight', [d, c.mlp_hidden]],
    ['fc2.bias', [d]],
    ['out_norm', [d]],
  ]);
  c.modules.forEach((_, i) => {
    shapes.set(`head_a.${i}.weight`, [c.module_in[i] * c.rank, d]);
    shapes.set(`head_a.${i}.bias`, [c.module_in[i] * c.rank]);
    shapes.set(`head_b.${i}.weight`, [c.rank * c.module_out[i], d]);
    shapes.set(`head_b.${i}.bias`, [c.rank * c.module_out[i]]);
  });
  return shapes;
}

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

/**
 * The training record in `provenance` (training/train_hypernet.py writes {config: {seed, ...}, steps, final, ...};
 * test packs write {kind: "random-init", seed}). It only informs the user, so a missing or garbled record
 * is "unknown", never an error.
 */
export function summarizeHypernet(provenance: string | undefined, dtypes: Iterable<string>): HypernetSummary {
  const storedAs = [...new Set(dtypes)].sort();
  let p: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(provenance ?? '');
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) p = parsed as Record<string, unknown>;
  } catch {
    // no readable record
  }
  const config = typeof p.config === 'object' && p.config !== null ? (p.config as Record<string, unknown>) : {};
  const seed = count(config.seed) ?? count(p.seed);
  const steps = count(p.steps);
  if (steps !== undefined && steps > 0) return { origin: 'trained', steps, seed, storedAs };
  if (p.kind === 'random-init') return { origin: 'random', seed, storedAs };
  return { origin: 'unknown', storedAs };
}

/** Read hypernet.safetensors: checks the format and version first, then every tensor against the config. */
export function loadHypernet(bytes: Uint8Array): HypernetFile {
  const file = parseSafetensors(bytes, FILE);
  const { format, formatVersion } = file.metadata;
  if (format !== HYPERNET_FORMAT || formatVersion !== String(HYPERNET_FORMAT_VERSION)) {
    throw new PackError(
      'format-version',
      `${FILE}: format ${JSON.stringify(format)} version ${JSON.stringify(formatVersion)}; this app reads ${HYPERNET_FORMAT} version ${HYPERNET_FORMAT_VERSION}`,
      FILE,
    );
  }
  let rawConfig: unknown;
  try {
    rawConfig = JSON.parse(file.metadata.config ?? '');
  } catch {
    invalid('metadata "config" is missing or not JSON');
  }
  const config = validateConfig(rawConfig);
  const chunkTokens = Number(file.metadata.chunkTokens);
  if (!Number.isInteger(chunkTokens) || chunkTokens <= 0) invalid(`metadata "chunkTokens" must be a positive integer (got ${JSON.stringify(file.metadata.chunkTokens)})`);

  const expected = hypernetParamShapes(config);
  for (const name of file.tensors.keys()) {
    if (!expected.has(name)) invalid(`tensor "${name}" is not a parameter of the hypernetwork its config describes`);
  }
  const params = new Map<string, Float32Array>();
  for (const [name, shape] of expected) {
    const t = file.tensors.get(name);
    if (!t) invalid(`tensor "${name}" is missing`);
    if (t.shape.length !== shape.length || t.shape.some((dim, i) => dim !== shape[i])) {
      invalid(`tensor "${name}" has shape [${t.shape.join(', ')}], the config needs [${shape.join(', ')}]`);
    }
    params.set(name, file.float32(name));
  }
  const summary = summarizeHypernet(file.metadata.provenance, [...file.tensors.values()].map((t) => t.dtype));
  return { config, chunkTokens, summary, params };
}

export function param(file: HypernetFile, name: string): Float32Array {
  const p = file.params.get(name);
  // Invariant: loadHypernet has checked every parameter of the config (a PackError names a missing one).
  if (!p) throw new Error(`hypernetwork parameter ${name} is missing`);
  return p;
}

/** k_proj and v_proj stacked as one [2D, D] projection: one matrix product makes keys and values side by side. */
export function keyValueWeight(file: HypernetFile): Float32Array {
  const k = param(file, 'k_proj.weight');
  const kv = new Float32Array(k.length * 2);
  kv.set(k, 0);
  kv.set(param(file, 'v_proj.weight'), k.length);
  return kv;
}

export function checkEncoderShape(c: HypernetConfig, hidden: Float32Array, shape: EncoderShape): void {
  const [e, t, h] = shape;
  if (e !== c.num_encoder_layers || h !== c.hidden_size || !Number.isInteger(t) || t < 1) {
    throw new EngineError('input', `hypernetwork input has shape [${shape.join(', ')}], expected [${c.num_encoder_layers}, tokens >= 1, ${c.hidden_size}]`);
  }
  if (hidden.length !== e * t * h) throw new EngineError('input', `hypernetwork input holds ${hidden.length} values, shape [${shape.join(', ')}] needs ${e * t * h}`);
}

/** Where module `m`'s A and B go in stacked slot tensors A [L, in, slots*r] and B [L, slots*r, out]. */
export function slotWrites(c: HypernetConfig, m: number, slot: number, slots: number, scale: number) {
  const r = c.rank;
  const total = slots * r;
  const common = { modules: c.modules.length, module: m };
  const a: LoraHeadTarget = { ...common, headRows: c.module_in[m], headCols: r, rowOffset: 0, colOffset: slot * r, scale: 1 };
  const b: LoraHeadTarget = { ...common, headRows: r, headCols: c.module_out[m], rowOffset: slot * r, colOffset: 0, scale };
  return {
    a: { target: a, shape: [c.num_layers, c.module_in[m], total] as const },
    b: { target: b, shape: [c.num_layers, total, c.module_out[m]] as const },
  };
}
