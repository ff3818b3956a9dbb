/**
 * Hugging Face PEFT LoRA files: adapter_config.json + adapter_model.safetensors, written and read.
 *
 * Our adapters hold per module A [layers, in, rank] and B [layers, rank, out] (y = x W^T + x A B);
 * PEFT holds per layer lora_A.weight [r, in] and lora_B.weight [out, r] (nn.Linear layout) and
 * applies lora_alpha / r itself, so export transposes and folds only the user's scale into lora_B.
 */
import { moduleShape, type Architecture, type LoraConfig, type LoraModule, type PackManifest } from '../model/config';
import type { AdapterModules } from '../model/engine';
import { parseSafetensors, type TensorInfo, writeSafetensors, type F32Tensor } from '../formats/safetensors';
import { readZip, writeZip } from '../formats/zip';
import { AdapterFormatError } from '../errors';

export const PEFT_CONFIG_FILE = 'adapter_config.json';
export const PEFT_WEIGHTS_FILE = 'adapter_model.safetensors';
/** Our own keys in the safetensors __metadata__: PEFT ignores them, our import restores the adapter's identity. */
const META = { name: 'parametric_skills.name', skill: 'parametric_skills.skill', packId: 'parametric_skills.pack_id', packSha256: 'parametric_skills.pack_sha256' };

export { AdapterFormatError };

/** What an export needs of an adapter. */
export interface ExportableAdapter {
  name: string;
  skillText: string;
  packSha256: string;
  /** The user's scale, folded into B: PEFT and llama.cpp apply alpha / r on their own. */
  scale: number;
  modules: AdapterModules;
}

/** One layer of one module in PEFT layout: lora_A [r, in], lora_B [out, r]. */
export interface PeftLayerPair {
  module: LoraModule;
  layer: number;
  fanIn: number;
  fanOut: number;
  loraA: Float32Array;
  loraB: Float32Array;
}

/** The submodule that holds each target in Hugging Face's llama, qwen2 and gemma3 decoder layers. */
const PARENT: Record<LoraModule, 'self_attn' | 'mlp'> = {
  q_proj: 'self_attn', k_proj: 'self_attn', v_proj: 'self_attn', o_proj: 'self_attn',
  gate_proj: 'mlp', up_proj: 'mlp', down_proj: 'mlp',
};

export function peftKey(layer: number, module: LoraModule, half: 'A' | 'B'): string {
  return `base_model.model.model.layers.${layer}.${PARENT[module]}.${module}.lora_${half}.weight`;
}

/** [rows, cols] starting at `offset` of `src`, transposed to [cols, rows] and multiplied by `scale`. */
function transpose(src: Float32Array, offset: number, rows: number, cols: number, scale = 1): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[offset + r * cols + c] * scale;
  }
  return out;
}

/** Every (layer, module) pair of an adapter in PEFT layout, layer by layer in the pack's module order. */
export function toPeftLayout(modules: AdapterModules, scale: number, arch: Architecture, lora: LoraConfig): PeftLayerPair[] {
  const { rank } = lora;
  const layers = arch.numHiddenLayers;
  for (const module of lora.targetModules) {
    const [fanIn, fanOut] = moduleShape(arch, module);
    const pair = modules[module];
    if (!pair || pair.a.length !== layers * fanIn * rank || pair.b.length !== layers * rank * fanOut) {
      throw new AdapterFormatError(`the adapter has no ${module} of shape A [${layers}, ${fanIn}, ${rank}], B [${layers}, ${rank}, ${fanOut}] for this pack`);
    }
  }
  const out: PeftLayerPair[] = [];
  for (let layer = 0; layer < layers; layer++) {
    for (const module of lora.targetModules) {
      const [fanIn, fanOut] = moduleShape(arch, module);
      const { a, b } = modules[module];
      out.push({
        module, layer, fanIn, fanOut,
        loraA: transpose(a, layer * fanIn * rank, fanIn, rank),
        loraB: transpose(b, layer * rank * fanOut, rank, fanOut, scale),
      });
    }
  }
  return out;
}

export function peftConfig(manifest: PackManifest): Record<string, unknown> {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: manifest.id,
    r: manifest.lora.rank,
    lora_alpha: manifest.lora.alpha,
    target_modules: [...manifest.lora.targetModules],
    fan_in_fan_out: false,
    bias: 'none',
    lora_dropout: 0,
    use_rslora: false,
    use_dora: false,
    init_lora_weights: true,
    inference_mode: true,
    modules_to_save: null,
    layers_to_transform: null,
    rank_pattern: {},
    alpha_pattern: {},
  };
}

export interface PeftFiles {
  config: Uint8Array;
  weights: Uint8Array;
}

export function exportPeft(adapter: ExportableAdapter, manifest: PackManifest): PeftFiles {
  const tensors: F32Tensor[] = toPeftLayout(adapter.modules, adapter.scale, manifest.architecture, manifest.lora).flatMap((p) => [
    { name: peftKey(p.layer, p.module, 'A'), shape: [manifest.lora.rank, p.fanIn], data: p.loraA },
    { name: peftKey(p.layer, p.module, 'B'), shape: [p.fanOut, manifest.lora.rank], data: p.loraB },
  ]);
  const metadata = { format: 'pt', [META.name]: adapter.name, [META.skill]: adapter.skillText, [META.packId]: manifest.id, [META.packSha256]: adapter.packSha256 };
  return {
    config: new TextEncoder().encode(JSON.stringify(peftConfig(manifest), null, 2) + '\n'),
    weights: writeSafetensors(tensors, metadata),
  };
}

/** Both PEFT files in one stored zip, named as PEFT's save_pretrained names them. */
export function exportPeftZip(adapter: ExportableAdapter, manifest: PackManifest): Uint8Array {
  const { config, weights } = exportPeft(adapter, manifest);
  return writeZip([{ name: PEFT_CONFIG_FILE, data: config }, { name: PEFT_WEIGHTS_FILE, data: weights }]);
}

export interface ImportedAdapter {
  /** Name, skill text and base pack as our export recorded them; null for adapters made elsewhere. */
  name: string | null;
  skillText: string | null;
  packId: string | null;
  packSha256: string | null;
  /** The config's base_model_name_or_path. */
  baseModel: string | null;
  /** In the pack's layout and rank, unscaled: alpha / rank of the pack reproduces PEFT's scaling. */
  modules: AdapterModules;
  /** What the user should know that did not stop the import. */
  notes: string[];
}

/** PEFT names: ...layers.<l>.<self_attn|mlp>.<module>.lora_<A|B>[.<adapter name>].weight, under any model prefix. */
const KEY = /(?:^|\.)layers\.(\d+)\.(?:self_attn|mlp)\.([a-z_]+)\.lora_([AB])(?:\.[\w-]+)?\.weight$/;

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** A tensor's values as float32; adapters made elsewhere are often saved in F16 or BF16. */
function readFloats(bytes: Uint8Array, t: TensorInfo, fileName: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + t.begin, t.end - t.begin);
  const count = t.shape.reduce((n, d) => n * d, 1);
  const out = new Float32Array(count);
  if (t.dtype === 'F32') for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  else if (t.dtype === 'F16') for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  else if (t.dtype === 'BF16') {
    // bfloat16 is the top half of a float32.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = view.getUint16(2 * i, true) << 16;
  } else throw new AdapterFormatError(`${fileName}: tensor "${t.name}" is ${t.dtype}; LoRA weights must be F32, F16 or BF16`);
  return out;
}

function parseConfig(bytes: Uint8Array): Record<string, unknown> {
  let config: unknown;
  try {
    config = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new AdapterFormatError(`${PEFT_CONFIG_FILE} is not JSON (${(e as Error).message})`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new AdapterFormatError(`${PEFT_CONFIG_FILE} is not a JSON object`);
  return config as Record<string, unknown>;
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && Object.keys(v as object).length === 0);
}

/** The factor PEFT multiplies lora_B by, after checking the config asks for nothing a LoRA slot cannot carry. */
function checkConfig(config: Record<string, unknown>, packRank: number): { r: number; scaling: number } {
  const refuse = (why: string): never => {
    throw new AdapterFormatError(`${PEFT_CONFIG_FILE}: ${why}`);
  };
  if (config.peft_type !== 'LORA') refuse(`peft_type is ${JSON.stringify(config.peft_type)}; only LORA adapters can be imported`);
  const r = config.r;
  if (typeof r !== 'number' || !Number.isInteger(r) || r <= 0) refuse(`r must be a positive integer (got ${JSON.stringify(r)})`);
  const rank = r as number;
  if (rank > packRank) refuse(`rank r=${rank} is larger than this pack's adapter rank (${packRank})`);
  const alpha = config.lora_alpha ?? 8; // PEFT's default lora_alpha
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) refuse(`lora_alpha must be a number (got ${JSON.stringify(alpha)})`);
  if (config.use_dora === true) refuse('DoRA adapters (use_dora) cannot be imported: they rescale the base weights');
  if (config.fan_in_fan_out === true) refuse('fan_in_fan_out adapters (Conv1D layout) do not fit this model');
  if (config.bias !== undefined && config.bias !== 'none') refuse(`bias "${String(config.bias)}" adds bias terms, which a LoRA slot cannot carry`);
  if (config.lora_bias === true) refuse('lora_bias adds bias terms, which a LoRA slot cannot carry');
  if (!isEmpty(config.modules_to_save)) refuse('modules_to_save replaces whole modules, which a LoRA slot cannot carry');
  if (!isEmpty(config.rank_pattern) || !isEmpty(config.alpha_pattern)) refuse('per-module rank_pattern or alpha_pattern is not supported');
  const scaling = config.use_rslora === true ? (alpha as number) / Math.sqrt(rank) : (alpha as number) / rank;
  return { r: rank, scaling };
}

/**
 * Read a PEFT LoRA (ours or made elsewhere for the same base) into the pack's layout; refuses with an
 * AdapterFormatError when its rank, target modules, layers or shapes do not fit the pack.
 */
export function importPeft(configBytes: Uint8Array, weightsBytes: Uint8Array, manifest: PackManifest): ImportedAdapter {
  const { architecture: arch, lora } = manifest;
  const config = parseConfig(configBytes);
  const { r, scaling } = checkConfig(config, lora.rank);
  let file;
  try {
    file = parseSafetensors(weightsBytes, PEFT_WEIGHTS_FILE);
  } catch (e) {
    throw new AdapterFormatError((e as Error).message);
  }
  const layers = arch.numHiddenLayers;
  const packScaling = lora.alpha / lora.rank;
  // Folding PEFT's scaling over ours into B makes composeSlots give exactly what PEFT computes.
  const fold = scaling / packScaling;
  const modules: AdapterModules = {};
  const zeros = (module: LoraModule) => {
    const [fanIn, fanOut] = moduleShape(arch, module);
    return { a: new Float32Array(layers * fanIn * lora.rank), b: new Float32Array(layers * lora.rank * fanOut) };
  };
  /** Halves found per "<layer> <module>": both must be there. */
  const halves = new Map<string, string[]>();
  for (const t of file.tensors.values()) {
    const match = KEY.exec(t.name);
    if (!match) throw new AdapterFormatError(`${PEFT_WEIGHTS_FILE}: tensor "${t.name}" is not a LoRA A/B weight of a decoder layer`);
    const layer = Number(match[1]);
    const module = match[2] as LoraModule;
    const half = match[3] as 'A' | 'B';
    if (!(lora.targetModules as string[]).includes(module)) {
      throw new AdapterFormatError(`the adapter changes ${module}, but this pack's slots carry only ${lora.targetModules.join(', ')}`);
    }
    if (layer >= layers) throw new AdapterFormatError(`tensor "${t.name}" is for layer ${layer}, but the model has ${layers} layers`);
    const [fanIn, fanOut] = moduleShape(arch, module);
    const want = half === 'A' ? [r, fanIn] : [fanOut, r];
    if (t.shape.length !== 2 || t.shape[0] !== want[0] || t.shape[1] !== want[1]) {
      throw new AdapterFormatError(`tensor "${t.name}" has shape [${t.shape.join(', ')}], but this pack needs [${want.join(', ')}]`);
    }
    const found = halves.get(`layer ${layer} ${module}`) ?? [];
    if (found.includes(half)) throw new AdapterFormatError(`${PEFT_WEIGHTS_FILE}: layer ${layer} ${module} has lora_${half} twice`);
    halves.set(`layer ${layer} ${module}`, [...found, half]);
    const values = readFloats(weightsBytes, t, PEFT_WEIGHTS_FILE);
    const pair = (modules[module] ??= zeros(module));
    if (half === 'A') {
      // lora_A [r, in] -> A[layer] [in, rank]; ranks below the pack's are zero-padded.
      for (let j = 0; j < r; j++) for (let i = 0; i < fanIn; i++) pair.a[(layer * fanIn + i) * lora.rank + j] = values[j * fanIn + i];
    } else {
      // lora_B [out, r] -> B[layer] [rank, out].
      for (let o = 0; o < fanOut; o++) for (let j = 0; j < r; j++) pair.b[(layer * lora.rank + j) * fanOut + o] = values[o * r + j] * fold;
    }
  }
  for (const [where, found] of halves) {
    if (found.length !== 2) throw new AdapterFormatError(`${PEFT_WEIGHTS_FILE}: ${where} has lora_${found[0]} but not its other half`);
  }
  if (halves.size === 0) throw new AdapterFormatError(`${PEFT_WEIGHTS_FILE} holds no LoRA weights`);

  const notes: string[] = [];
  for (const module of lora.targetModules) {
    if (!modules[module]) {
      modules[module] = zeros(module);
      notes.push(`The adapter does not change ${module}.`);
    }
  }
  if (r < lora.rank) notes.push(`Its rank ${r} was padded to this pack's rank ${lora.rank}.`);
  const text = (key: string): string | null => file.metadata[key] ?? null;
  const baseModel = typeof config.base_model_name_or_path === 'string' ? config.base_model_name_or_path : null;
  return { name: text(META.name), skillText: text(META.skill), packId: text(META.packId), packSha256: text(META.packSha256), baseModel, modules, notes };
}

export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

/** The file of `wanted` name in a selection: a bare name, or one inside a folder of a zip. */
function pick(files: Map<string, Uint8Array>, wanted: string): Uint8Array | undefined {
  for (const [name, bytes] of files) if (name === wanted || name.endsWith(`/${wanted}`)) return bytes;
  return undefined;
}

/** Import from what the user chose: one zip holding both PEFT files, or the two files themselves. */
export async function importPeftFiles(files: readonly NamedBytes[], manifest: PackManifest): Promise<ImportedAdapter> {
  const all = new Map<string, Uint8Array>();
  for (const f of files) {
    if (f.name.toLowerCase().endsWith('.zip')) {
      try {
        for (const [name, bytes] of await readZip(f.bytes)) all.set(name, bytes);
      } catch (e) {
        throw new AdapterFormatError(`${f.name}: ${(e as Error).message}`);
      }
    } else all.set(f.name, f.bytes);
  }
  const config = pick(all, PEFT_CONFIG_FILE);
  const weights = pick(all, PEFT_WEIGHTS_FILE);
  if (!config || !weights) {
    const missing = [!config && PEFT_CONFIG_FILE, !weights && PEFT_WEIGHTS_FILE].filter(Boolean).join(' and ');
    throw new AdapterFormatError(`A PEFT adapter needs ${PEFT_CONFIG_FILE} and ${PEFT_WEIGHTS_FILE} (or a zip holding both); ${missing} is missing.`);
  }
  return importPeft(config, weights, manifest);
}
