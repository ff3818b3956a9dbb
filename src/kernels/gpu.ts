/**
 * The WebGPU context of our kernels: the device (ours, or one shared with onnxruntime-web), a pipeline cache,
 * tensors in storage buffers, and a recorder that puts a whole computation into one command encoder.
 */
import { KernelError } from '../errors';
import { bindingsWgsl, GEMM_TILE, PRELUDE_WGSL, WORKGROUP_SIZE, type StorageType, type UniformField } from './wgsl';

export { KernelError };

export type WorkgroupCount = readonly [number, number, number];
export type Uniforms<U extends string> = Record<U, number>;

/** What one kernel is: everything the context needs to build its pipeline and dispatch it. */
export interface KernelProgram<U extends string = string> {
  /** The op's name: the label of its shader module, pipeline and dispatches. */
  name: string;
  /** Pipeline cache key: the name plus the compile-time hints of this form of the kernel. */
  key: string;
  workgroupSize: number;
  /** Binding names in the fixed order inputs -> outputs -> uniforms. */
  inputs: readonly string[];
  outputs: readonly string[];
  /** Bindings that are not array<f32> (default f32). */
  types?: Readonly<Record<string, StorageType>>;
  /** Shapes travel as uniforms, so one pipeline serves every size. */
  uniforms: readonly UniformField<U>[];
  /** WGSL after the prelude and bindings; a function so that it is only built on a cache miss. */
  main: () => string;
  dispatch: (uniforms: Uniforms<U>) => WorkgroupCount;
}

/** A float32 tensor in a storage buffer, row-major. */
export interface GpuTensor {
  buffer: GPUBuffer;
  shape: readonly number[];
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Every device allows at least this many workgroups per dimension. */
const MAX_WORKGROUPS_PER_DIMENSION = 65535;

/** A flat count of workgroups, folded into y when it exceeds the per-dimension limit (see flatWorkgroupIndex). */
export function grid(workgroups: number): WorkgroupCount {
  const x = Math.min(Math.max(workgroups, 1), MAX_WORKGROUPS_PER_DIMENSION);
  return [x, Math.ceil(workgroups / x) || 1, 1];
}

export function elementwiseDispatch(size: number): WorkgroupCount {
  return grid(Math.ceil(size / WORKGROUP_SIZE));
}

export function gemmDispatch(rows: number, cols: number): WorkgroupCount {
  return [Math.ceil(cols / GEMM_TILE) || 1, Math.ceil(rows / GEMM_TILE) || 1, 1];
}

/** Throws unless `tensor` has exactly `expected` shape; `kernel` and `what` name the culprit. */
export function checkShape(kernel: string, what: string, tensor: GpuTensor, expected: readonly number[]): void {
  const ok = tensor.shape.length === expected.length && tensor.shape.every((d, i) => d === expected[i]);
  if (!ok) throw new KernelError(`${kernel}: ${what} has shape [${tensor.shape.join(', ')}], expected [${expected.join(', ')}]`);
}

/** The [rows, cols] of a tensor that must be a matrix. */
export function matrixShape(kernel: string, what: string, tensor: GpuTensor): [number, number] {
  if (tensor.shape.length !== 2) throw new KernelError(`${kernel}: ${what} has shape [${tensor.shape.join(', ')}], expected a matrix`);
  return [tensor.shape[0], tensor.shape[1]];
}

interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export class GpuContext {
  private readonly pipelines = new Map<string, CachedPipeline>();

  constructor(readonly device: GPUDevice) {}

  /** Use `device` when given (e.g. onnxruntime-web's `ort.env.webgpu.device`), else request one with the adapter's buffer limits. */
  static async create(device?: GPUDevice): Promise<GpuContext> {
    if (device) return new GpuContext(device);
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) throw new KernelError('WebGPU: no adapter is available', 'no-adapter');
    // The decoder's fused linear binds up to 9 storage buffers (4-bit weights with zero points, bias, LoRA).
    const { maxStorageBufferBindingSize, maxBufferSize, maxStorageBuffersPerShaderStage } = adapter.limits;
    return new GpuContext(await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize, maxBufferSize, maxStorageBuffersPerShaderStage } }));
  }

  /** How many pipelines have been built: one per kernel form, whatever the sizes. */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /** The program's pipeline, built on first use and cached under its key. */
  pipeline(program: KernelProgram): CachedPipeline {
    const hit = this.pipelines.get(program.key);
    if (hit) return hit;
    const label = program.key;
    const code = `${PRELUDE_WGSL}\n${bindingsWgsl(program.inputs, program.outputs, program.uniforms, program.types)}\n${program.main()}`;
    const module = this.device.createShaderModule({ label, code });
    const entries: GPUBindGroupLayoutEntry[] = [
      ...program.inputs.map(() => ({ type: 'read-only-storage' as const })),
      ...program.outputs.map(() => ({ type: 'storage' as const })),
      ...(program.uniforms.length > 0 ? [{ type: 'uniform' as const }] : []),
    ].map((buffer, binding) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer }));
    const layout = this.device.createBindGroupLayout({ label, entries });
    const pipeline = this.device.createComputePipeline({
      label,
      layout: this.device.createPipelineLayout({ label, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    const cached = { pipeline, layout };
    this.pipelines.set(program.key, cached);
    return cached;
  }

  /** A new tensor; WebGPU zero-fills new buffers. */
  tensor(shape: readonly number[], label: string): GpuTensor {
    // Bindings cannot be empty, so an empty tensor still gets one float.
    const size = Math.max(elementCount(shape), 1) * 4;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    return { buffer: this.device.createBuffer({ label, size, usage }), shape };
  }

  upload(data: Float32Array, shape: readonly number[], label: string): GpuTensor {
    if (data.length !== elementCount(shape)) {
      throw new KernelError(`${label}: ${data.length} values for shape [${shape.join(', ')}]`);
    }
    const t = this.tensor(shape, label);
    this.device.queue.writeBuffer(t.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return t;
  }

  /** View an existing buffer (e.g. adapter slots bound to the engine) as a tensor, checking that it is large enough. */
  wrap(buffer: GPUBuffer, shape: readonly number[], label: string): GpuTensor {
    const bytes = elementCount(shape) * 4;
    if (buffer.size < bytes) throw new KernelError(`${label}: buffer of ${buffer.size} bytes is too small for [${shape.join(', ')}] (${bytes} bytes)`);
    return { buffer, shape };
  }

  /** Read one tensor back (a submission of its own). */
  async read(tensor: GpuTensor, label = 'read'): Promise<Float32Array> {
    return this.submit(label, (rec) => rec.read(tensor));
  }

  /**
   * Record a computation into one command encoder and submit it. `record` must not await: it runs inside GPU error
   * scopes, which belong to the device. Resolves once the GPU has finished, with every `rec.read()` array filled.
   */
  async submit<T>(label: string, record: (rec: CommandRecorder) => T): Promise<T> {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    const rec = new CommandRecorder(this, label);
    let result: T | undefined;
    let failure: unknown = null;
    try {
      result = record(rec);
      this.device.queue.submit([rec.finish()]);
    } catch (e) {
      failure = e;
    }
    try {
      // The scopes are popped whatever happened: they are a stack shared by every user of the device.
      const validation = await this.device.popErrorScope();
      const outOfMemory = await this.device.popErrorScope();
      if (failure) throw failure;
      const gpuError = validation ?? outOfMemory;
      if (gpuError) throw new KernelError(`${label}: ${gpuError.message}`, 'gpu');
      await rec.collect();
      return result as T;
    } finally {
      rec.dispose();
    }
  }
}

/** Dispatches of one submission: all in one compute pass until a copy needs the encoder. */
export class CommandRecorder {
  private readonly encoder: GPUCommandEncoder;
  private pass: GPUComputePassEncoder | null = null;
  /** Buffers that live only as long as this submission. */
  private readonly temporaries: GPUBuffer[] = [];
  private readonly reads: { staging: GPUBuffer; into: Float32Array }[] = [];

  constructor(
    private readonly ctx: GpuContext,
    readonly label: string,
  ) {
    this.encoder = ctx.device.createCommandEncoder({ label });
  }

  /** A tensor freed once this submission has run. */
  scratch(shape: readonly number[], label: string): GpuTensor {
    const t = this.ctx.tensor(shape, `${this.label}.${label}`);
    this.temporaries.push(t.buffer);
    return t;
  }

  /** A tensor with data, freed once this submission has run. */
  input(data: Float32Array, shape: readonly number[], label: string): GpuTensor {
    const t = this.ctx.upload(data, shape, `${this.label}.${label}`);
    this.temporaries.push(t.buffer);
    return t;
  }

  dispatch<U extends string>(program: KernelProgram<U>, inputs: readonly GpuTensor[], outputs: readonly GpuTensor[], uniforms: Uniforms<U>): void {
    const d = bindDispatch(this.ctx, program, inputs.map((t) => t.buffer), outputs.map((t) => t.buffer), uniforms);
    // Each dispatch gets its own uniform buffer: a queue write would land before the whole submission and be shared by all.
    if (d.uniforms) this.temporaries.push(d.uniforms);
    this.pass ??= this.encoder.beginComputePass({ label: this.label });
    this.pass.setPipeline(d.pipeline);
    this.pass.setBindGroup(0, d.bindGroup);
    this.pass.dispatchWorkgroups(...d.workgroups);
  }

  /** Copy the tensor to a staging buffer; the returned array is filled when the submission resolves. */
  read(tensor: GpuTensor): Float32Array {
    const into = new Float32Array(elementCount(tensor.shape));
    const staging = this.ctx.device.createBuffer({
      label: `${this.label}.readback`,
      size: Math.max(into.byteLength, 4),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.endPass();
    if (into.byteLength > 0) this.encoder.copyBufferToBuffer(tensor.buffer, 0, staging, 0, into.byteLength);
    this.reads.push({ staging, into });
    this.temporaries.push(staging);
    return into;
  }

  finish(): GPUCommandBuffer {
    this.endPass();
    return this.encoder.finish({ label: this.label });
  }

  /** Wait for the GPU and copy the staged reads out. */
  async collect(): Promise<void> {
    if (this.reads.length === 0) {
      await this.ctx.device.queue.onSubmittedWorkDone();
      return;
    }
    await Promise.all(
      this.reads.map(async ({ staging, into }) => {
        await staging.mapAsync(GPUMapMode.READ);
        into.set(new Float32Array(staging.getMappedRange(0, into.byteLength)));
        staging.unmap();
      }),
    );
  }

  dispose(): void {
    for (const b of this.temporaries) b.destroy();
    this.temporaries.length = 0;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }
}

/** A uniform buffer holding `values` in the program's field order (16-byte aligned size). */
function uniformBuffer<U extends string>(device: GPUDevice, program: KernelProgram<U>, values: Uniforms<U>): GPUBuffer {
  const buffer = device.createBuffer({
    label: `${program.name}.uniforms`,
    size: Math.ceil((program.uniforms.length * 4) / 16) * 16,
    usage: GPUBufferUsage.UNIFORM,
    mappedAtCreation: true,
  });
  const range = buffer.getMappedRange();
  const asU32 = new Uint32Array(range);
  const asF32 = new Float32Array(range);
  program.uniforms.forEach((f, i) => {
    const v = values[f.name];
    if (f.type === 'u32') {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
        buffer.unmap();
        buffer.destroy();
        throw new KernelError(`${program.name}: uniform ${f.name} = ${v} is not a u32`);
      }
      asU32[i] = v;
    } else {
      asF32[i] = v;
    }
  });
  buffer.unmap();
  return buffer;
}

/** A dispatch made once (pipeline, bind group, uniforms) and replayed by every step: see GpuContext.prepare. */
export interface PreparedDispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: WorkgroupCount;
  /** Owned by this dispatch; destroyed by releasePrepared. */
  uniforms: GPUBuffer | null;
}

/**
 * Build a dispatch to replay many times: the buffers are bound for good and the uniforms are fixed, so values that
 * change per step must come from a storage buffer the caller rewrites (the decode engine's step counters).
 */
export function prepareDispatch<U extends string>(
  ctx: GpuContext,
  program: KernelProgram<U>,
  inputs: readonly GPUBuffer[],
  outputs: readonly GPUBuffer[],
  values: Uniforms<U>,
): PreparedDispatch {
  return { label: program.key, ...bindDispatch(ctx, program, inputs, outputs, values) };
}

/**
 * The checks and bindings of every dispatch, recorded at once (CommandRecorder.dispatch) or prepared for replay
 * (prepareDispatch): the binding counts, the workgroup limit, the pipeline, the uniforms and the bind group.
 */
function bindDispatch<U extends string>(
  ctx: GpuContext,
  program: KernelProgram<U>,
  inputs: readonly GPUBuffer[],
  outputs: readonly GPUBuffer[],
  values: Uniforms<U>,
): Omit<PreparedDispatch, 'label'> {
  if (inputs.length !== program.inputs.length || outputs.length !== program.outputs.length) {
    throw new KernelError(`${program.name}: expects ${program.inputs.length} inputs and ${program.outputs.length} outputs`);
  }
  const workgroups = program.dispatch(values);
  const limit = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups.some((n) => n > limit)) throw new KernelError(`${program.name}: dispatch [${workgroups.join(', ')}] exceeds ${limit} workgroups per dimension`);
  const { pipeline, layout } = ctx.pipeline(program);
  const uniforms = program.uniforms.length > 0 ? uniformBuffer(ctx.device, program, values) : null;
  const buffers = [...inputs, ...outputs, ...(uniforms ? [uniforms] : [])];
  const bindGroup = ctx.device.createBindGroup({
    label: program.key,
    layout,
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  return { pipeline, bindGroup, workgroups, uniforms };
}

/** Record prepared dispatches into one compute pass. */
export function encodePrepared(encoder: GPUCommandEncoder, dispatches: readonly PreparedDispatch[], label: string): void {
  const pass = encoder.beginComputePass({ label });
  for (const d of dispatches) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(...d.workgroups);
  }
  pass.end();
}

export function releasePrepared(dispatches: readonly PreparedDispatch[]): void {
  for (const d of dispatches) d.uniforms?.destroy();
}

/** Why a device was lost, in words. */
export function lossReason(info: GPUDeviceLostInfo): string {
  return info.message || info.reason || 'the GPU device was lost';
}

/**
 * After a GPU failure: the device's loss, if it reports one within `ms`, else null. Work cut short by a loss (a run, a
 * mapping) fails a moment before the device says that it is lost, so a failure alone does not tell.
 */
export async function lossAfterFailure(device: GPUDevice, ms = 1000): Promise<GPUDeviceLostInfo | null> {
  return Promise.race([device.lost, new Promise<null>((resolve) => setTimeout(resolve, ms, null))]);
}
