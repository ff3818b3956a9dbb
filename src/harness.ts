/** Harness for e2e tests and benchmarks: the shipped engine, driven from playwright through window.harness. */
import { createEngineClient } from './model/client';
import type { LoraTensors } from './model/engine';
import { composeSlots } from './adapters/slots';
import type { PackManifest } from './model/config';
import type { AdapterModules } from './model/engine';
import type { BackendPreference } from './model/env';
import { moduleShape, type LoraModule } from './model/config';
import { seededRandom } from './model/sampling';

const engine = createEngineClient();
let manifest: PackManifest | null = null;
/** Adapters made in this page, by the caller's id (benchmarks reuse one adapter across many cases). */
const adapters = new Map<string, AdapterModules>();

/** LoRA as plain arrays (JSON fixtures) turned into typed arrays. */
type PlainLora = Record<string, { A: number[]; B: number[] }>;

const harness = {
  async loadPack(baseUrl: string, preference: BackendPreference) {
    const info = await engine.loadPack(baseUrl, preference, () => undefined);
    manifest = info.manifest;
    return { backend: info.backend, engine: info.engine, note: info.backendNote, id: info.manifest.id };
  },
  async setLora(lora: PlainLora | null) {
    const tensors: LoraTensors | null = lora
      ? Object.fromEntries(Object.entries(lora).map(([m, t]) => [m, { a: Float32Array.from(t.A), b: Float32Array.from(t.B) }]))
      : null;
    await engine.setLora(tensors);
  },
  /** Bind a deterministic random LoRA of the loaded pack's shapes (uniform in [-scale, scale]). */
  async setRandomLora(seed: number, scale = 0.1) {
    const m = manifest!;
    const random = seededRandom(seed);
    const rank = m.lora.rank * m.lora.slots;
    const fill = (n: number) => Float32Array.from({ length: n }, () => (2 * random() - 1) * scale);
    const tensors: LoraTensors = {};
    for (const module of m.lora.targetModules) {
      const [fanIn, fanOut] = moduleShape(m.architecture, module as LoraModule);
      tensors[module] = { a: fill(m.architecture.numHiddenLayers * fanIn * rank), b: fill(m.architecture.numHiddenLayers * rank * fanOut) };
    }
    await engine.setLora(tensors);
  },
  async logits(inputIds: number[]) {
    return Array.from(await engine.logits(inputIds));
  },
  async encodeSkill(text: string, chunkTokens: number) {
    const enc = await engine.encodeSkill(text, chunkTokens);
    return { ...enc, hidden: Array.from(enc.hidden) };
  },
  /** Make an adapter from skill text and bind it alone in slot 0 at scale 1; returns its tensors and timings. */
  async makeAndBindAdapter(text: string) {
    const made = await engine.makeAdapter(text);
    await engine.setLora(composeSlots([{ modules: made.modules, scale: 1 }], manifest!.architecture, manifest!.lora));
    const modules = Object.fromEntries(Object.entries(made.modules).map(([m, p]) => [m, { A: Array.from(p.a), B: Array.from(p.b) }]));
    return { ...made, modules };
  },
  async makeAdapter(id: string, text: string) {
    const made = await engine.makeAdapter(text);
    adapters.set(id, made.modules);
    return { tokens: made.tokens, chunks: made.chunks, encodeMs: made.encodeMs, hypernetMs: made.hypernetMs, device: made.device };
  },
  /** Bind these adapters (by id) in slots 0.. at scale 1, or none. */
  async bindAdapters(ids: string[]) {
    const active = ids.map((id) => ({ modules: adapters.get(id)!, scale: 1 }));
    await engine.setLora(composeSlots(active, manifest!.architecture, manifest!.lora));
  },
  /** Greedy; `ignoreEos` decodes a fixed number of steps (perf), `stopAtLineEnd` stops after a one-line answer (skills). */
  async generate(
    messages: { role: 'user' | 'assistant' | 'system'; content: string }[],
    maxNewTokens: number,
    stop: { ignoreEos?: boolean; stopAtLineEnd?: boolean } = {},
  ) {
    return engine.generate({ messages, maxNewTokens, temperature: 0, topP: 1, ...stop }, () => undefined);
  },
};

(window as unknown as { harness: typeof harness }).harness = harness;
document.body.dataset.ready = 'true';
