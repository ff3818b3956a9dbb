/**
 * Harness for the WGSL kernel and hypernetwork e2e tests (kernels.html): each call takes plain arrays from playwright,
 * runs one kernel (or the whole hypernetwork) on WebGPU and returns plain arrays, compared in the test with the CPU twins.
 */
import { add, attentionPool, geluTanh, GpuContext, layerMix, linear, loraHeadWrite, rmsNorm, type LinearActivation, type LoraHeadTarget } from './kernels';
import { encodePrepared, prepareDispatch, type KernelProgram } from './kernels/gpu';
import {
  argmaxFinalProgram,
  argmaxPartialProgram,
  attentionProgram,
  embedProgram,
  fusedLinearProgram,
  fusedMatmulProgram,
  loraDownMatmulProgram,
  loraDownProgram,
  rmsNormRowsProgram,
  ropeProgram,
} from './kernels/decode/programs';
import { HypernetGpu, loadHypernet, type EncoderShape, type HypernetFile } from './model/hypernet';
import { GpuDecoder } from './kernels/decode/decoder';
import { fileOfRole } from './model/config';
import { fetchManifest } from './model/pack';
import { decoderSpec, decoderWeights } from './model/wgsl-model';
import { parseSafetensors } from './formats/safetensors';

/** The decoder's kernels by name, each made from its compile-time form. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const DECODE_PROGRAMS: Record<string, (form: any) => KernelProgram> = {
  fused_linear: fusedLinearProgram,
  fused_matmul: fusedMatmulProgram,
  lora_down: () => loraDownProgram(),
  lora_down_matmul: () => loraDownMatmulProgram(),
  rms_norm_rows: (f) => rmsNormRowsProgram(f.mode, f.loraDowns ?? 0),
  embed: (f) => embedProgram(f.form),
  rope: (f) => ropeProgram(f.mode, f.qkNorm),
  attention: () => attentionProgram(),
  argmax_partial: () => argmaxPartialProgram(),
  argmax_final: () => argmaxFinalProgram(),
};

/** A storage buffer holding `bytes` (padded to 4 bytes). */
function storage(ctx: GpuContext, bytes: Uint8Array, label: string): GPUBuffer {
  const size = Math.max(4, Math.ceil(bytes.byteLength / 4) * 4);
  const buffer = ctx.device.createBuffer({ label, size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const padded = new Uint8Array(size);
  padded.set(bytes);
  ctx.device.queue.writeBuffer(buffer, 0, padded);
  return buffer;
}

type DecodeInput = { data: number[]; type: 'f32' | 'u32' | 'u8' };
const asBytes = (i: DecodeInput) =>
  i.type === 'u8' ? Uint8Array.from(i.data) : new Uint8Array((i.type === 'f32' ? Float32Array.from(i.data) : Uint32Array.from(i.data)).buffer);

const f32 = (v: number[]) => Float32Array.from(v);
const plain = (v: Float32Array) => Array.from(v);

let context: Promise<GpuContext> | null = null;
const gpu = () => (context ??= GpuContext.create());

let hypernetFile: Promise<HypernetFile> | null = null;
async function hypernet(): Promise<HypernetGpu> {
  hypernetFile ??= fetch('/models/tiny-random/hypernet.safetensors')
    .then((r) => r.arrayBuffer())
    .then((b) => loadHypernet(new Uint8Array(b)));
  return new HypernetGpu(await gpu(), await hypernetFile);
}

const kernels = {
  async pipelineCount() {
    return (await gpu()).pipelineCount;
  },

  async linear(a: { x: number[]; rows: number; depth: number; weight: number[]; cols: number; bias: number[] | null; activation: LinearActivation }) {
    const ctx = await gpu();
    return plain(
      await ctx.submit('test.linear', (rec) => {
        const y = rec.scratch([a.rows, a.cols], 'y');
        const bias = a.bias ? rec.input(f32(a.bias), [a.cols], 'bias') : null;
        linear(rec, rec.input(f32(a.x), [a.rows, a.depth], 'x'), rec.input(f32(a.weight), [a.cols, a.depth], 'weight'), bias, y, a.activation);
        return rec.read(y);
      }),
    );
  },

  async rmsNorm(a: { x: number[]; rows: number; cols: number; weight: number[]; eps: number }) {
    const ctx = await gpu();
    return plain(
      await ctx.submit('test.rms_norm', (rec) => {
        const y = rec.scratch([a.rows, a.cols], 'y');
        rmsNorm(rec, rec.input(f32(a.x), [a.rows, a.cols], 'x'), rec.input(f32(a.weight), [a.cols], 'weight'), y, a.eps);
        return rec.read(y);
      }),
    );
  },

  async layerMix(a: { hidden: number[]; layers: number; size: number; mix: number[] }) {
    const ctx = await gpu();
    return plain(
      await ctx.submit('test.layer_mix', (rec) => {
        const y = rec.scratch([a.size], 'y');
        layerMix(rec, rec.input(f32(a.hidden), [a.layers, a.size], 'hidden'), rec.input(f32(a.mix), [a.layers], 'mix'), y);
        return rec.read(y);
      }),
    );
  },

  async attentionPool(a: { query: number[]; queries: number; dModel: number; keyValue: number[]; tokens: number; heads: number }) {
    const ctx = await gpu();
    return plain(
      await ctx.submit('test.attention_pool', (rec) => {
        const pooled = rec.scratch([a.queries, a.dModel], 'pooled');
        const query = rec.input(f32(a.query), [a.queries, a.dModel], 'query');
        attentionPool(rec, query, rec.input(f32(a.keyValue), [a.tokens, 2 * a.dModel], 'keyValue'), pooled, a.heads);
        return rec.read(pooled);
      }),
    );
  },

  async geluTanh(a: { x: number[] }) {
    const ctx = await gpu();
    return plain(
      await ctx.submit('test.gelu_tanh', (rec) => {
        const y = rec.scratch([a.x.length], 'y');
        geluTanh(rec, rec.input(f32(a.x), [a.x.length], 'x'), y);
        return rec.read(y);
      }),
    );
  },

  async add(a: { a: number[]; b: number[] }) {
    const ctx = await gpu();
    return plain(
      await ctx.submit('test.add', (rec) => {
        const y = rec.scratch([a.a.length], 'y');
        add(rec, rec.input(f32(a.a), [a.a.length], 'a'), rec.input(f32(a.b), [a.b.length], 'b'), y);
        return rec.read(y);
      }),
    );
  },

  /** Writes into `dst` (initial contents given), returning all of it: untouched parts must come back unchanged. */
  async loraHeadWrite(a: { pooled: number[]; targets: number; depth: number; weight: number[]; bias: number[]; dst: number[]; dstShape: [number, number, number]; target: LoraHeadTarget }) {
    const ctx = await gpu();
    const cols = a.target.headRows * a.target.headCols;
    return plain(
      await ctx.submit('test.lora_head_write', (rec) => {
        const dst = rec.input(f32(a.dst), a.dstShape, 'dst');
        const pooled = rec.input(f32(a.pooled), [a.targets, a.depth], 'pooled');
        loraHeadWrite(rec, pooled, rec.input(f32(a.weight), [cols, a.depth], 'weight'), rec.input(f32(a.bias), [cols], 'bias'), dst, a.target);
        return rec.read(dst);
      }),
    );
  },

  /** A kernel call with mismatched shapes: must fail with a message naming the kernel, and leave the device usable. */
  async badLinear() {
    const ctx = await gpu();
    try {
      await ctx.submit('test.bad', (rec) => linear(rec, rec.scratch([3, 4], 'x'), rec.scratch([5, 6], 'w'), null, rec.scratch([3, 5], 'y')));
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  },

  /** The whole forward, timed cold (first run: the heads' pipeline is built) and warm (second run). */
  /** One decoder kernel as the engine prepares it: inputs and outputs in the program's binding order. */
  async decodeKernel(a: { program: string; form?: unknown; inputs: DecodeInput[]; outputs: DecodeInput[]; uniforms: Record<string, number> }) {
    const ctx = await gpu();
    const program = DECODE_PROGRAMS[a.program](a.form ?? {});
    const inputs = a.inputs.map((i, n) => storage(ctx, asBytes(i), `${program.inputs[n]}`));
    const outputs = a.outputs.map((o, n) => storage(ctx, asBytes(o), `${program.outputs[n]}`));
    ctx.device.pushErrorScope('validation');
    const dispatch = prepareDispatch(ctx, program, inputs, outputs, a.uniforms);
    const encoder = ctx.device.createCommandEncoder();
    encodePrepared(encoder, [dispatch], a.program);
    const staging = outputs.map((o) => ctx.device.createBuffer({ size: o.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }));
    outputs.forEach((o, n) => encoder.copyBufferToBuffer(o, 0, staging[n], 0, o.size));
    ctx.device.queue.submit([encoder.finish()]);
    const error = await ctx.device.popErrorScope();
    if (error) throw new Error(error.message);
    const result = await Promise.all(
      staging.map(async (b, n) => {
        await b.mapAsync(GPUMapMode.READ);
        const range = b.getMappedRange();
        const values = program.types?.[program.outputs[n]] === 'u32' ? Array.from(new Uint32Array(range)) : Array.from(new Float32Array(range));
        b.unmap();
        return values.slice(0, a.outputs[n].data.length);
      }),
    );
    for (const b of [...inputs, ...outputs, ...staging]) b.destroy();
    dispatch.uniforms?.destroy();
    return result;
  },

  /**
   * The WGSL decoder of a pack, read with `encoderLayers` as its encoder layers: the skill's states captured by the
   * full plan (every layer, LM head and token) and by the encode-only plan, the prompt's logits on a fresh decoder
   * and after an encode-only forward, and what a forward that would continue the cache after one says.
   */
  async decoderEncode(a: { pack: string; encoderLayers: number[]; skillIds: number[]; promptIds: number[] }) {
    const base = `/models/${a.pack}/`;
    const m = await fetchManifest(base);
    const name = fileOfRole(m, 'weights').name;
    const bytes = new Uint8Array(await (await fetch(base + name)).arrayBuffer());
    const spec = { ...decoderSpec(m), encoderLayers: a.encoderLayers };
    const decoder = new GpuDecoder(await gpu(), spec, decoderWeights(m, parseSafetensors(bytes, name), bytes));
    try {
      // Encode-only first, on capture buffers no other forward has written.
      const fresh = await decoder.forward(a.promptIds, 0, { logits: true });
      const encoded = await decoder.forward(a.skillIds, 0, { capture: true, encodeOnly: true });
      let continued = 'no error';
      try {
        await decoder.forward(a.promptIds, a.skillIds.length, { logits: true });
      } catch (e) {
        continued = (e as Error).message;
      }
      const after = await decoder.forward(a.promptIds, 0, { logits: true });
      const full = await decoder.forward(a.skillIds, 0, { capture: true });
      return {
        full: plain(full.hidden!), fullToken: full.token, encoded: plain(encoded.hidden!), encodedToken: encoded.token, encodedLogits: encoded.logits,
        freshLogits: plain(fresh.logits!), afterLogits: plain(after.logits!), continued,
      };
    } finally {
      decoder.dispose();
    }
  },

  async hypernetRun(hidden: number[], shape: EncoderShape) {
    const h = await hypernet();
    const input = f32(hidden);
    const pooled = await h.pool(input, shape);
    let start = performance.now();
    const lora = await h.run(input, shape);
    const coldMs = performance.now() - start;
    start = performance.now();
    await h.run(input, shape);
    const warmMs = performance.now() - start;
    h.dispose();
    return {
      pooled: plain(pooled),
      lora: Object.fromEntries(Object.entries(lora).map(([m, p]) => [m, { A: plain(p.a), B: plain(p.b) }])),
      coldMs,
      warmMs,
    };
  },

  /** writeSlot into stacked buffers that start as `initial`; returns the buffers' whole contents. */
  async hypernetWriteSlot(hidden: number[], shape: EncoderShape, slot: number, scale: number, slots: number, initial: Record<string, { A: number[]; B: number[] }>) {
    const ctx = await gpu();
    const h = await hypernet();
    const modules = Object.fromEntries(
      Object.entries(initial).map(([m, t]) => [m, { a: ctx.upload(f32(t.A), [t.A.length], `${m}.A`).buffer, b: ctx.upload(f32(t.B), [t.B.length], `${m}.B`).buffer }]),
    );
    await h.writeSlot(f32(hidden), shape, slot, scale, { slots, modules });
    const out: Record<string, { A: number[]; B: number[] }> = {};
    for (const [m, { a, b }] of Object.entries(modules)) {
      out[m] = { A: plain(await ctx.read({ buffer: a, shape: [initial[m].A.length] })), B: plain(await ctx.read({ buffer: b, shape: [initial[m].B.length] })) };
      a.destroy();
      b.destroy();
    }
    h.dispose();
    return out;
  },
};

(window as unknown as { kernels: typeof kernels }).kernels = kernels;
document.body.dataset.ready = 'true';
