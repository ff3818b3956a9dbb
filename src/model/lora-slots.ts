/**
 * The engine's LoRA inputs: every target module's stacked A [layers, in, slots*rank] and B [layers, slots*rank, out],
 * checked, and composed from adapters where the engine runs (rank concatenation, one adapter per slot).
 */
import { moduleShape, type Architecture, type LoraConfig, type LoraModule, type PackManifest } from './config';
import { EngineError } from '../errors';
import type { AdapterModules, LoraTensors } from './lora';

export interface ActiveAdapter {
  modules: AdapterModules;
  /** The user's scale; alpha / rank is applied on top, as PEFT does. */
  scale: number;
}

/**
 * A [layers, in, slots*rank] and B [layers, slots*rank, out] per target module: adapter k fills columns
 * (rows of B) k*rank..(k+1)*rank, with alpha / rank * scale folded into B; unused slots stay zero.
 */
export function composeSlots(adapters: readonly ActiveAdapter[], arch: Architecture, lora: LoraConfig): LoraTensors | null {
  if (adapters.length === 0) return null;
  if (adapters.length > lora.slots) throw new EngineError('input', `${adapters.length} adapters are active, but this pack has ${lora.slots} slots`);
  const { rank, slots } = lora;
  const layers = arch.numHiddenLayers;
  const total = rank * slots;
  const out: LoraTensors = {};
  for (const module of lora.targetModules) {
    const [fanIn, fanOut] = moduleShape(arch, module as LoraModule);
    const a = new Float32Array(layers * fanIn * total);
    const b = new Float32Array(layers * total * fanOut);
    adapters.forEach((adapter, k) => {
      const src = adapter.modules[module];
      if (!src || src.a.length !== layers * fanIn * rank || src.b.length !== layers * rank * fanOut) {
        throw new EngineError('input', `adapter ${k + 1} has no ${module} of shape A [${layers}, ${fanIn}, ${rank}], B [${layers}, ${rank}, ${fanOut}]`);
      }
      const scale = (lora.alpha / rank) * adapter.scale;
      for (let l = 0; l < layers; l++) {
        for (let i = 0; i < fanIn; i++) {
          const from = (l * fanIn + i) * rank;
          a.set(src.a.subarray(from, from + rank), (l * fanIn + i) * total + k * rank);
        }
        for (let j = 0; j < rank; j++) {
          const from = (l * rank + j) * fanOut;
          const to = (l * total + k * rank + j) * fanOut;
          for (let o = 0; o < fanOut; o++) b[to + o] = src.b[from + o] * scale;
        }
      }
    });
    out[module] = { a, b };
  }
  return out;
}

/** The (in, out) features and the stacked rank of each of the pack's target modules. */
export function slotShapes(m: PackManifest): { module: string; fanIn: number; fanOut: number; rank: number; layers: number }[] {
  const rank = m.lora.rank * m.lora.slots;
  return m.lora.targetModules.map((module) => {
    const [fanIn, fanOut] = moduleShape(m.architecture, module as LoraModule);
    return { module, fanIn, fanOut, rank, layers: m.architecture.numHiddenLayers };
  });
}

/**
 * Tensors a backend can bind as they are: every given module a target of the pack with the stacked shapes, zeros for
 * targets not given; null (the base model) for null or none given.
 */
export function checkedLora(m: PackManifest, tensors: LoraTensors | null): LoraTensors | null {
  if (!tensors || Object.keys(tensors).length === 0) return null;
  const shapes = slotShapes(m);
  for (const module of Object.keys(tensors)) {
    if (!shapes.some((s) => s.module === module)) throw new EngineError('input', `the pack has no LoRA target "${module}"`);
  }
  const out: LoraTensors = {};
  for (const { module, fanIn, fanOut, rank, layers } of shapes) {
    const sizeA = layers * fanIn * rank;
    const sizeB = layers * rank * fanOut;
    const given = tensors[module];
    if (given && (given.a.length !== sizeA || given.b.length !== sizeB)) {
      throw new EngineError('input', `LoRA for ${module} must be A [${layers}, ${fanIn}, ${rank}] and B [${layers}, ${rank}, ${fanOut}]`);
    }
    out[module] = given ?? { a: new Float32Array(sizeA), b: new Float32Array(sizeB) };
  }
  return out;
}
