/** Composition of active adapters into the engine's stacked LoRA slots (rank concatenation). */
import { moduleShape, type Architecture, type LoraConfig, type LoraModule } from '../model/config';
import type { AdapterModules, LoraTensors } from '../model/engine';
import { EngineError } from '../errors';

export interface ActiveAdapter {
  modules: AdapterModules;
  /** The user's scale; alpha / rank is applied on top, as PEFT does. */
  scale: number;
}

/**
 * A [layers, in, slots*rank] and B [layers, slots*rank, out] per target module: adapter k fills columns
 * (rows of B) k*rank..(k+1)*rank, with alpha / rank * scale folded into B; unused slots stay zero.
 */
export function composeSlots(adapters: ActiveAdapter[], arch: Architecture, lora: LoraConfig): LoraTensors | null {
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
