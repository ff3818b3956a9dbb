/** The model pack manifest (docs/pack-format.md), typed field for field, and its validation. */
import { PackError } from '../errors';
import type { DecoderLinear, DecoderShape } from '../kernels/decode/decoder-weights';

export const PACK_FORMAT = 'parametric-skills-pack';
export const PACK_FORMAT_VERSION = 1;

export type ArchitectureType = 'llama' | 'qwen2' | 'gemma3';
export type LoraModule = DecoderLinear;
export type FileRole = 'model' | 'weights' | 'tokenizer' | 'tokenizer_config' | 'hypernet' | 'cpu-model' | 'cpu-weights';
/** Which of a pack's graphs an engine runs: `gpu` the pack's own (model, weights), `cpu` the WebAssembly one where the
 * pack has it (cpu-model, cpu-weights: int8 products that onnxruntime-web's wasm build runs fast). */
export type PackGraph = 'gpu' | 'cpu';

/**
 * The manifest's `architecture`, field for field: the shape the WGSL decoder runs (DecoderShape, declared on the kernel
 * side so kernels need no model import) plus what only the graphs and exporters read.
 */
export interface Architecture extends DecoderShape {
  type: ArchitectureType;
  attentionBias: boolean;
}

export interface LoraConfig {
  rank: number;
  alpha: number;
  targetModules: LoraModule[];
  slots: number;
}

export interface PackFile {
  name: string;
  role: FileRole | string;
  bytes: number;
  sha256: string;
}

/** Where one tensor lies in a weights file (ONNX external data: a byte range). */
export interface TensorRange {
  name: string;
  offset: number;
  bytes: number;
  dtype: string;
  shape: number[];
}

/** manifest.cpuGraph (training/export/cpu_graph.py), as far as the app reads it: where the LM head that left the CPU
 * graph finds its int8 table and row scales in the CPU graph's weights file (null: the head is in the graph). */
export interface CpuGraphInfo {
  head?: { input: string; weight: TensorRange; scale: TensorRange } | null;
}

export interface PackManifest {
  format: string;
  formatVersion: number;
  id: string;
  name: string;
  architecture: Architecture;
  lora: LoraConfig;
  encoder: { layers: number[] };
  generation: { eosTokenIds: number[]; contextLength: number };
  weights: { dtype: string };
  files: PackFile[];
  cpuGraph?: CpuGraphInfo;
  license: { name: string; note?: string; url?: string };
  provenance: Record<string, unknown>;
}

const LORA_MODULES: readonly string[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
const REQUIRED_ROLES: readonly FileRole[] = ['model', 'weights', 'tokenizer', 'tokenizer_config'];

function fail(field: string, why: string): never {
  throw new PackError('manifest-invalid', `manifest.json: field "${field}" ${why}`, 'manifest.json');
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'must be an object');
  return v as Record<string, unknown>;
}

function posInt(o: Record<string, unknown>, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(`${path}.${key}`, `must be a positive integer (got ${JSON.stringify(v)})`);
  return v;
}

function num(o: Record<string, unknown>, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${path}.${key}`, `must be a number (got ${JSON.stringify(v)})`);
  return v;
}

function str(o: Record<string, unknown>, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) fail(`${path}.${key}`, 'must be a non-empty string');
  return v;
}

/** Parse and check a manifest; throws PackError naming the first bad field. */
export function validateManifest(raw: unknown): PackManifest {
  const m = obj(raw, '(root)');
  if (m.format !== PACK_FORMAT) fail('format', `must be "${PACK_FORMAT}" (got ${JSON.stringify(m.format)})`);
  if (m.formatVersion !== PACK_FORMAT_VERSION) {
    throw new PackError(
      'format-version',
      `manifest.json: pack format version ${JSON.stringify(m.formatVersion)} is not supported; this app reads version ${PACK_FORMAT_VERSION}`,
      'manifest.json',
    );
  }
  str(m, 'id', '');
  str(m, 'name', '');
  const a = obj(m.architecture, 'architecture');
  if (!['llama', 'qwen2', 'gemma3'].includes(a.type as string)) fail('architecture.type', 'must be llama, qwen2 or gemma3');
  for (const k of ['vocabSize', 'hiddenSize', 'numHiddenLayers', 'numAttentionHeads', 'numKeyValueHeads', 'headDim', 'intermediateSize', 'maxPositionEmbeddings']) {
    posInt(a, k, 'architecture');
  }
  for (const k of ['ropeTheta', 'rmsNormEps', 'embeddingScale', 'normWeightOffset']) num(a, k, 'architecture');
  if ((a.numAttentionHeads as number) % (a.numKeyValueHeads as number) !== 0) {
    fail('architecture.numKeyValueHeads', 'must divide numAttentionHeads');
  }
  if (a.layerTypes !== null && (!Array.isArray(a.layerTypes) || a.layerTypes.length !== a.numHiddenLayers)) {
    fail('architecture.layerTypes', 'must be null or one entry per layer');
  }
  const lora = obj(m.lora, 'lora');
  posInt(lora, 'rank', 'lora');
  posInt(lora, 'slots', 'lora');
  num(lora, 'alpha', 'lora');
  if (!Array.isArray(lora.targetModules) || lora.targetModules.length === 0 || !lora.targetModules.every((t) => LORA_MODULES.includes(t as string))) {
    fail('lora.targetModules', `must be a non-empty list of ${LORA_MODULES.join(', ')}`);
  }
  const enc = obj(m.encoder, 'encoder');
  if (!Array.isArray(enc.layers) || enc.layers.length === 0 || !enc.layers.every((l) => Number.isInteger(l) && l >= 0 && l < (a.numHiddenLayers as number))) {
    fail('encoder.layers', 'must list layer indices of the model');
  }
  const gen = obj(m.generation, 'generation');
  if (!Array.isArray(gen.eosTokenIds) || !gen.eosTokenIds.every((t) => Number.isInteger(t))) fail('generation.eosTokenIds', 'must be a list of token ids');
  posInt(gen, 'contextLength', 'generation');
  if (!Array.isArray(m.files)) fail('files', 'must be a list');
  m.files.forEach((f, i) => {
    const e = obj(f, `files[${i}]`);
    str(e, 'name', `files[${i}]`);
    str(e, 'role', `files[${i}]`);
    if (typeof e.bytes !== 'number' || !Number.isInteger(e.bytes) || e.bytes < 0) fail(`files[${i}].bytes`, 'must be a byte count');
    if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) fail(`files[${i}].sha256`, 'must be a hex sha256');
    if ((e.name as string).includes('/') || (e.name as string).includes('..')) fail(`files[${i}].name`, 'must be a plain file name');
  });
  for (const role of REQUIRED_ROLES) {
    if (!(m.files as PackFile[]).some((f) => f.role === role)) fail('files', `has no file with role "${role}"`);
  }
  str(obj(m.license, 'license'), 'name', 'license');
  return m as unknown as PackManifest;
}

const GRAPH_ROLES: Record<PackGraph, readonly string[]> = { gpu: ['model', 'weights'], cpu: ['cpu-model', 'cpu-weights'] };

/** True when the pack carries the WebAssembly graph (both of its files). */
export function hasCpuGraph(manifest: PackManifest): boolean {
  return GRAPH_ROLES.cpu.every((r) => manifest.files.some((f) => f.role === r));
}

/** The files an engine running `graph` needs: every file but the other graph's (all of them where the pack has one
 * graph only, or no graph is named). */
export function filesFor(manifest: PackManifest, graph?: PackGraph): PackFile[] {
  if (!graph || !hasCpuGraph(manifest)) return manifest.files;
  const other = GRAPH_ROLES[graph === 'cpu' ? 'gpu' : 'cpu'];
  return manifest.files.filter((f) => !other.includes(f.role));
}

/** The (model, weights) roles of `graph` in this pack: the pack's own graph where it has no CPU graph. */
export function graphRoles(manifest: PackManifest, graph: PackGraph): { model: FileRole; weights: FileRole } {
  return graph === 'cpu' && hasCpuGraph(manifest) ? { model: 'cpu-model', weights: 'cpu-weights' } : { model: 'model', weights: 'weights' };
}

export function fileOfRole(manifest: PackManifest, role: FileRole): PackFile {
  const f = manifest.files.find((x) => x.role === role);
  if (!f) throw new PackError('manifest-invalid', `manifest.json: no file with role "${role}"`, 'manifest.json');
  return f;
}

/** (in, out) features of a LoRA target module, as the graph's lora.<module>.A/B inputs expect. */
export function moduleShape(a: Architecture, module: LoraModule): [number, number] {
  const q = a.numAttentionHeads * a.headDim;
  const kv = a.numKeyValueHeads * a.headDim;
  const shapes: Record<LoraModule, [number, number]> = {
    q_proj: [a.hiddenSize, q],
    k_proj: [a.hiddenSize, kv],
    v_proj: [a.hiddenSize, kv],
    o_proj: [q, a.hiddenSize],
    gate_proj: [a.hiddenSize, a.intermediateSize],
    up_proj: [a.hiddenSize, a.intermediateSize],
    down_proj: [a.intermediateSize, a.hiddenSize],
  };
  return shapes[module];
}
