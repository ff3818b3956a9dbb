/** The engine's LoRA inputs: every target module's stacked A [layers, in, slots*rank] and B [layers, slots*rank, out]. */
import { moduleShape, type LoraModule, type PackManifest } from './config';
import { EngineError } from '../errors';
import type { LoraTensors } from './lora';

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
