/**
 * The decoder's kernels: embedding lookup, RMSNorm, the fused (quantized) linear with LoRA, LoRA down-projection,
 * RoPE with QK-norm and the KV-cache write, grouped-query attention and the GPU argmax / sampler.
 *
 * Every kernel reads the per-step counters from `counters` (a u32 storage buffer the engine rewrites before each
 * submission), so its bind group and uniforms are made once and replayed for every token:
 *   counters[0] rows of this chunk (T), counters[1] position of row 0 (tokens already in the cache),
 *   counters[2] sampling seed of this token, counters[3] sampling temperature (f32 bits, 0 = greedy).
 * Rows past T are computed on zeros or skipped; no kernel returns before a barrier.
 */
import { gemmDispatch, grid, KernelError, type KernelProgram, type WorkgroupCount } from '../gpu';
import { GELU_TANH_WGSL, GEMM_WGSL, WORKGROUP_MAX_WGSL, WORKGROUP_SIZE, WORKGROUP_SUM_WGSL } from '../wgsl';

/** Block size of the quantized formats (com.microsoft MatMulNBits, block_size 32). */
export const QUANT_BLOCK = 32;
/** Outputs per workgroup of the fused linear: few for the layers (many workgroups), many for a vocabulary-wide LM head. */
export const LINEAR_COLS = 4;
export const LINEAR_COLS_WIDE = 32;
/** Largest head dimension the attention and RoPE kernels hold in workgroup memory. */
export const MAX_HEAD_DIM = 256;

/** How a weight matrix W [N, K] (PyTorch's [out, in]) is stored. */
export type WeightFormat = 'f32' | 'q8' | 'q4' | 'q4z';

const STEP_WGSL = /* wgsl */ `
fn stepRows() -> u32 { return counters[0]; }
fn stepPast() -> u32 { return counters[1]; }
`;

/** One workgroup per (row t, head): `live` is false for rows past the chunk, which then work on row 0 unstored. */
const ROW_HEAD_WGSL = /* wgsl */ `
  let t = group / u.heads;
  let head = group % u.heads;
  let live = t < stepRows();
  let row = select(0u, t, live);
  let pos = stepPast() + row;`;

function flatMain(body: string): string {
  return /* wgsl */ `
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) count: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = flatWorkgroupIndex(wg, count);
${body}
}`;
}

/** Dequantize one u32 word of codes into its 4 (8-bit) or 8 (4-bit) weights: WGSL helpers per format. */
function dequantWgsl(format: WeightFormat): string {
  if (format === 'q8') {
    return /* wgsl */ `
const CODES_PER_WORD = 4u;
fn weightAt(word: u32, i: u32, scale: f32, zero: f32) -> f32 {
  return (f32((word >> (8u * i)) & 0xffu) - zero) * scale;
}
fn zeroPoint(n: u32, block: u32) -> f32 { return 128.0; }`;
  }
  const zero =
    format === 'q4z'
      ? /* wgsl */ `
fn zeroPoint(n: u32, block: u32) -> f32 {
  // Zero points: 4 bits per block, rows padded to whole bytes.
  let byteIndex = n * ((u.blocks + 1u) / 2u) + block / 2u;
  return f32((zeros[byteIndex / 4u] >> (8u * (byteIndex % 4u) + 4u * (block % 2u))) & 0xfu);
}`
      : /* wgsl */ `
fn zeroPoint(n: u32, block: u32) -> f32 { return 8.0; }`;
  return /* wgsl */ `
const CODES_PER_WORD = 8u;
fn weightAt(word: u32, i: u32, scale: f32, zero: f32) -> f32 {
  return (f32((word >> (4u * i)) & 0xfu) - zero) * scale;
}
${zero}`;
}

export type Epilogue = 'store' | 'accumulate' | 'gated';

/** The compile-time form shared by the decode (fusedLinearProgram) and prefill (fusedMatmulProgram) kernels. */
export interface LinearKind {
  format: WeightFormat;
  bias: boolean;
  /** Add (x A) B of the bound adapter slots: x A comes precomputed in `xa` [rows, R] (loraDownProgram). */
  lora: boolean;
  /** store: y = r; accumulate: y += r (the residual add); gated: y = act(gate) * r (the MLP's up projection). */
  epilogue: Epilogue;
  activation: 'silu' | 'gelu_tanh';
}

export interface LinearForm extends LinearKind {
  /** Outputs each workgroup computes (LINEAR_COLS, or LINEAR_COLS_WIDE for very wide outputs). */
  colsPerGroup: number;
}

/** What the two forms of the fused linear share: bindings, helper WGSL, the LoRA term and the epilogue at (row, col). */
function linearParts(f: LinearKind) {
  const quantized = f.format !== 'f32';
  const weights = quantized ? ['codes', 'scales', ...(f.format === 'q4z' ? ['zeros'] : [])] : ['weight'];
  const inputs = ['x', ...weights, ...(f.bias ? ['bias'] : []), ...(f.lora ? ['xa', 'loraB'] : []), ...(f.epilogue === 'gated' ? ['gate'] : []), 'counters'];
  const helpers = [
    STEP_WGSL,
    quantized ? dequantWgsl(f.format) : '',
    f.epilogue === 'gated' && f.activation === 'gelu_tanh' ? GELU_TANH_WGSL : '',
    'fn silu(v: f32) -> f32 { return v / (1.0 + exp(-v)); }',
  ].join('\n');
  /** WGSL adding bias and LoRA to `v`, then storing it at (row, col). */
  const epilogue = (row: string, col: string) => {
    const at = `${row} * u.cols + ${col}`;
    return [
      f.bias ? `v += bias[${col}];` : '',
      f.lora ? `for (var j = 0u; j < u.rank; j++) { v += xa[${row} * u.rank + j] * loraB[(u.layer * u.rank + j) * u.cols + ${col}]; }` : '',
      { store: `y[${at}] = v;`, accumulate: `y[${at}] += v;`, gated: `y[${at}] = ${f.activation === 'silu' ? 'silu' : 'gelu_tanh'}(gate[${at}]) * v;` }[f.epilogue],
    ].join('\n      ');
  };
  const key = `${f.format}:${f.bias ? 'bias' : 'nobias'}:${f.lora ? 'lora' : 'nolora'}:${f.epilogue}:${f.activation}`;
  return { quantized, inputs, helpers, epilogue, key, types: { codes: 'u32', zeros: 'u32', counters: 'u32' } as const };
}

type LinearUniform = 'capacity' | 'fixedRows' | 'depth' | 'cols' | 'blocks' | 'layer' | 'rank';

/**
 * y[t, n] = sum_k x[t, k] W[n, k] (+ bias[n]) + sum_r xa[t, r] B[layer, r, n], W dequantized in registers.
 * Each workgroup owns LINEAR_COLS outputs of one row; its threads stride over K (neighbouring threads read
 * neighbouring words), then one thread per output sums the partial dot products and applies the epilogue.
 * Decode: one row (the LM head: fixedRows 1, the last row normed before it); prefill uses fusedMatmulProgram.
 */
export function fusedLinearProgram(f: LinearForm): KernelProgram<LinearUniform> {
  const { quantized, inputs, helpers, epilogue, key, types } = linearParts(f);
  const dot = quantized
    ? /* wgsl */ `
  // One u32 word per iteration: CODES_PER_WORD weights of row n, at k = word * CODES_PER_WORD.
  let wordsPerRow = u.depth / CODES_PER_WORD;
  let wordsPerBlock = ${QUANT_BLOCK}u / CODES_PER_WORD;
  for (var w = lid; w < wordsPerRow; w += WORKGROUP_SIZE) {
    let block = w / wordsPerBlock;
    for (var c = 0u; c < LINEAR_COLS; c++) {
      let n = min(colBase + c, u.cols - 1u);
      let word = codes[n * wordsPerRow + w];
      let scale = scales[n * u.blocks + block];
      let zero = zeroPoint(n, block);
      for (var i = 0u; i < CODES_PER_WORD; i++) {
        let wv = weightAt(word, i, scale, zero);
        let k = w * CODES_PER_WORD + i;
        acc[c] += wv * x[row * u.depth + k];
      }
    }
  }`
    : /* wgsl */ `
  for (var k = lid; k < u.depth; k += WORKGROUP_SIZE) {
    for (var c = 0u; c < LINEAR_COLS; c++) {
      let n = min(colBase + c, u.cols - 1u);
      let wv = weight[n * u.depth + k];
      acc[c] += wv * x[row * u.depth + k];
    }
  }`;
  return {
    name: 'fused_linear',
    key: `fused_linear:${key}:${f.colsPerGroup}`,
    workgroupSize: WORKGROUP_SIZE,
    inputs,
    outputs: ['y'],
    types,
    uniforms: [
      { name: 'capacity', type: 'u32' },
      { name: 'fixedRows', type: 'u32' },
      { name: 'depth', type: 'u32' },
      { name: 'cols', type: 'u32' },
      { name: 'blocks', type: 'u32' },
      { name: 'layer', type: 'u32' },
      { name: 'rank', type: 'u32' },
    ],
    main: () => /* wgsl */ `
const LINEAR_COLS = ${f.colsPerGroup}u;
${helpers}
var<workgroup> partialSums: array<f32, LINEAR_COLS * WORKGROUP_SIZE>;
${flatMain(/* wgsl */ `
  let colGroups = (u.cols + LINEAR_COLS - 1u) / LINEAR_COLS;
  let colBase = (group % colGroups) * LINEAR_COLS;
  let t = group / colGroups;
  var rows = stepRows();
  if (u.fixedRows > 0u) { rows = u.fixedRows; }
  // A row past the chunk reads row 0 again (always there) and is not stored.
  let row = select(0u, t, t < rows);
  var acc: array<f32, LINEAR_COLS>;
  ${dot}
  for (var c = 0u; c < LINEAR_COLS; c++) {
    partialSums[c * WORKGROUP_SIZE + lid] = acc[c];
  }
  workgroupBarrier();
  if (lid < LINEAR_COLS) {
    let n = colBase + lid;
    if (t < rows && n < u.cols) {
      var v = 0.0;
      for (var i = 0u; i < WORKGROUP_SIZE; i++) {
        v += partialSums[lid * WORKGROUP_SIZE + i];
      }
      ${epilogue('t', 'n')}
    }
  }`)}`,
    dispatch: (u) => grid(Math.ceil(u.cols / f.colsPerGroup) * u.capacity),
  };
}

type MatmulUniform = 'rows' | 'cols' | 'depth' | 'blocks' | 'layer' | 'rank';

/**
 * The prefill form of the fused linear: the same sum and epilogue over all rows of a chunk, on the tiled matrix
 * product (32x32 output tiles staged through workgroup memory), each weight dequantized as its tile is loaded.
 * `rows` is the chunk's capacity; rows past counters[0] are computed on stale values and not stored.
 */
export function fusedMatmulProgram(f: LinearKind): KernelProgram<MatmulUniform> {
  const { quantized, inputs, helpers, epilogue, key, types } = linearParts(f);
  const loadW = quantized
    ? /* wgsl */ `
  let at = col * u.depth + k;
  let word = codes[at / CODES_PER_WORD];
  let block = k / ${QUANT_BLOCK}u;
  return weightAt(word, at % CODES_PER_WORD, scales[col * u.blocks + block], zeroPoint(col, block));`
    : 'return weight[col * u.depth + k];';
  return {
    name: 'fused_matmul',
    key: `fused_matmul:${key}`,
    workgroupSize: WORKGROUP_SIZE,
    inputs,
    outputs: ['y'],
    types,
    uniforms: [
      { name: 'rows', type: 'u32' },
      { name: 'cols', type: 'u32' },
      { name: 'depth', type: 'u32' },
      { name: 'blocks', type: 'u32' },
      { name: 'layer', type: 'u32' },
      { name: 'rank', type: 'u32' },
    ],
    main: () => /* wgsl */ `
${helpers}
fn loadX(row: u32, k: u32) -> f32 {
  return x[row * u.depth + k];
}
fn loadW(col: u32, k: u32) -> f32 {
  ${loadW}
}
fn storeY(row: u32, col: u32, acc: f32) {
  if (row >= stepRows()) {
    return;
  }
  var v = acc;
  ${epilogue('row', 'col')}
}
${GEMM_WGSL}`,
    dispatch: (u) => gemmDispatch(u.rows, u.cols),
  };
}

type LoraDownUniform = 'capacity' | 'depth' | 'rank' | 'layer';

/** xa[t, r] = sum_k x[t, k] A[layer, k, r]: the adapter's down-projection, one workgroup per (row, r). */
export function loraDownProgram(): KernelProgram<LoraDownUniform> {
  return {
    name: 'lora_down',
    key: 'lora_down',
    workgroupSize: WORKGROUP_SIZE,
    inputs: ['x', 'loraA', 'counters'],
    outputs: ['xa'],
    types: { counters: 'u32' },
    uniforms: [
      { name: 'capacity', type: 'u32' },
      { name: 'depth', type: 'u32' },
      { name: 'rank', type: 'u32' },
      { name: 'layer', type: 'u32' },
    ],
    main: () => /* wgsl */ `
${STEP_WGSL}
${WORKGROUP_SUM_WGSL}
${flatMain(/* wgsl */ `
  let t = group / u.rank;
  let j = group % u.rank;
  let live = t < stepRows();
  let row = select(0u, t, live);
  var sum = 0.0;
  for (var k = lid; k < u.depth; k += WORKGROUP_SIZE) {
    sum += x[row * u.depth + k] * loraA[(u.layer * u.depth + k) * u.rank + j];
  }
  let total = workgroupSum(sum, lid);
  if (lid == 0u && live) {
    xa[t * u.rank + j] = total;
  }`)}`,
    dispatch: (u) => grid(u.capacity * u.rank),
  };
}

type LoraDownMatmulUniform = 'rows' | 'cols' | 'depth' | 'layer';

/** The prefill form of loraDownProgram on the tiled matrix product: xa [rows, R] = x [rows, K] A[layer] [K, R]. */
export function loraDownMatmulProgram(): KernelProgram<LoraDownMatmulUniform> {
  return {
    name: 'lora_down_matmul',
    key: 'lora_down_matmul',
    workgroupSize: WORKGROUP_SIZE,
    inputs: ['x', 'loraA'],
    outputs: ['xa'],
    uniforms: [
      { name: 'rows', type: 'u32' },
      { name: 'cols', type: 'u32' },
      { name: 'depth', type: 'u32' },
      { name: 'layer', type: 'u32' },
    ],
    main: () => /* wgsl */ `
fn loadX(row: u32, k: u32) -> f32 {
  return x[row * u.depth + k];
}
fn loadW(col: u32, k: u32) -> f32 {
  return loraA[(u.layer * u.depth + k) * u.cols + col];
}
fn storeY(row: u32, col: u32, acc: f32) {
  xa[row * u.cols + col] = acc;
}
${GEMM_WGSL}`,
    dispatch: (u) => gemmDispatch(u.rows, u.cols),
  };
}

export type NormMode = 'rows' | 'last' | 'add';
type NormUniform = 'capacity' | 'dim' | 'eps' | 'offset' | 'rank' | 'layer';

/**
 * RMSNorm x / sqrt(mean(x^2) + eps) * (weight + offset), one workgroup per row.
 * rows: y[t] = norm(x[t]); last: y[0] = norm(x[T - 1]) (before the LM head); add: y[t] += norm(x[t]) (Gemma's
 * norms after attention and MLP, added to the residual stream).
 * With `loraDowns` = n (rows mode), the same dispatch also computes the adapters' down-projections of the normed
 * row for n modules that read it (q and v after the input norm): xa_i[t] = y[t] A_i[layer], A_i [layers, dim, rank].
 */
export function rmsNormRowsProgram(mode: NormMode, loraDowns = 0): KernelProgram<NormUniform> {
  if (loraDowns > 0 && mode !== 'rows') throw new KernelError('rms_norm_rows: LoRA down-projections need the rows mode');
  const out = mode === 'last' ? 'y[i]' : 'y[t * u.dim + i]';
  const modules = Array.from({ length: loraDowns }, (_, i) => i);
  const downs = /* wgsl */ `
  // This workgroup's own writes of y are read back below.
  storageBarrier();
  workgroupBarrier();
  for (var j = lid; j < u.rank; j += WORKGROUP_SIZE) {
    ${modules.map((i) => `var sum${i} = 0.0;`).join(' ')}
    for (var k = 0u; k < u.dim; k++) {
      let v = y[t * u.dim + k];
      ${modules.map((i) => `sum${i} += v * loraA${i}[(u.layer * u.dim + k) * u.rank + j];`).join('\n      ')}
    }
    if (live) {
      ${modules.map((i) => `xa${i}[t * u.rank + j] = sum${i};`).join('\n      ')}
    }
  }`;
  return {
    name: 'rms_norm_rows',
    key: `rms_norm_rows:${mode}:${loraDowns}`,
    workgroupSize: WORKGROUP_SIZE,
    inputs: ['x', 'weight', 'counters', ...modules.map((i) => `loraA${i}`)],
    outputs: ['y', ...modules.map((i) => `xa${i}`)],
    types: { counters: 'u32' },
    uniforms: [
      { name: 'capacity', type: 'u32' },
      { name: 'dim', type: 'u32' },
      { name: 'eps', type: 'f32' },
      { name: 'offset', type: 'f32' },
      { name: 'rank', type: 'u32' },
      { name: 'layer', type: 'u32' },
    ],
    main: () => /* wgsl */ `
${STEP_WGSL}
${WORKGROUP_SUM_WGSL}
${flatMain(/* wgsl */ `
  let rows = stepRows();
  let live = ${mode === 'last' ? 'rows > 0u' : 'group < rows'};
  let t = ${mode === 'last' ? 'max(rows, 1u) - 1u' : 'select(0u, group, live)'};
  var sumSquares = 0.0;
  for (var i = lid; i < u.dim; i += WORKGROUP_SIZE) {
    let v = x[t * u.dim + i];
    sumSquares += v * v;
  }
  let inverseRms = 1.0 / sqrt(workgroupSum(sumSquares, lid) / f32(u.dim) + u.eps);
  if (live) {
    for (var i = lid; i < u.dim; i += WORKGROUP_SIZE) {
      ${out} ${mode === 'add' ? '+=' : '='} x[t * u.dim + i] * inverseRms * (weight[i] + u.offset);
    }
  }${loraDowns > 0 ? downs : ''}`)}`,
    dispatch: (u) => grid(mode === 'last' ? 1 : u.capacity),
  };
}

export type EmbedForm = 'f32' | 'q8';
type EmbedUniform = 'capacity' | 'hidden' | 'blocks' | 'scale';

/** x[t] = table[ids[t]] * scale, the table in f32 or 8-bit symmetric blocks. */
export function embedProgram(form: EmbedForm): KernelProgram<EmbedUniform> {
  const lookup =
    form === 'f32'
      ? 'table[id * u.hidden + h]'
      : '(f32((codes[(id * u.hidden + h) / 4u] >> (8u * (h % 4u))) & 0xffu) - 128.0) * scales[id * u.blocks + h / 32u]';
  return {
    name: 'embed',
    key: `embed:${form}`,
    workgroupSize: WORKGROUP_SIZE,
    inputs: [...(form === 'f32' ? ['table'] : ['codes', 'scales']), 'ids', 'counters'],
    outputs: ['x'],
    types: { codes: 'u32', ids: 'u32', counters: 'u32' },
    uniforms: [
      { name: 'capacity', type: 'u32' },
      { name: 'hidden', type: 'u32' },
      { name: 'blocks', type: 'u32' },
      { name: 'scale', type: 'f32' },
    ],
    main: () => /* wgsl */ `
${STEP_WGSL}
${flatMain(/* wgsl */ `
  let i = group * WORKGROUP_SIZE + lid;
  let t = i / u.hidden;
  let h = i % u.hidden;
  if (t < stepRows()) {
    let id = ids[t];
    x[i] = ${lookup} * u.scale;
  }`)}`,
    dispatch: (u) => grid(Math.ceil((u.capacity * u.hidden) / WORKGROUP_SIZE)),
  };
}

export type RopeMode = 'q' | 'k' | 'v';
type RopeUniform = 'capacity' | 'heads' | 'headDim' | 'layer' | 'maxContext' | 'eps' | 'offset';

/**
 * Per (row, head): optional QK-norm, then rotary embedding (halfDim-split layout, cos/sin tables [positions, headDim/2]).
 * q: in place in `q`; k: normed and rotated into the key cache; v: copied into the value cache.
 * Caches are [layers, kvHeads, maxContext, headDim].
 */
export function ropeProgram(mode: RopeMode, qkNorm: boolean): KernelProgram<RopeUniform> {
  const norm = qkNorm && mode !== 'v';
  const inputs = [...(mode === 'q' ? [] : ['src']), ...(norm ? ['normWeight'] : []), ...(mode === 'v' ? [] : ['cosTable', 'sinTable']), 'counters'];
  const output = mode === 'q' ? 'q' : 'cache';
  const source = mode === 'q' ? 'q' : 'src';
  return {
    name: 'rope',
    key: `rope:${mode}:${norm ? 'norm' : 'nonorm'}`,
    workgroupSize: WORKGROUP_SIZE,
    inputs,
    outputs: [output],
    types: { counters: 'u32' },
    uniforms: [
      { name: 'capacity', type: 'u32' },
      { name: 'heads', type: 'u32' },
      { name: 'headDim', type: 'u32' },
      { name: 'layer', type: 'u32' },
      { name: 'maxContext', type: 'u32' },
      { name: 'eps', type: 'f32' },
      { name: 'offset', type: 'f32' },
    ],
    main: () => /* wgsl */ `
${STEP_WGSL}
${WORKGROUP_SUM_WGSL}
var<workgroup> headVec: array<f32, ${MAX_HEAD_DIM}>;
${flatMain(/* wgsl */ `
${ROW_HEAD_WGSL}
  let base = (row * u.heads + head) * u.headDim;
  var sumSquares = 0.0;
  for (var i = lid; i < u.headDim; i += WORKGROUP_SIZE) {
    let v = ${source}[base + i];
    headVec[i] = v;
    sumSquares += v * v;
  }
  ${norm ? 'let inverseRms = 1.0 / sqrt(workgroupSum(sumSquares, lid) / f32(u.headDim) + u.eps);' : 'workgroupBarrier();'}
  let halfDim = u.headDim / 2u;
  ${mode === 'q' ? '' : 'let dst = ((u.layer * u.heads + head) * u.maxContext + pos) * u.headDim;'}
  for (var i = lid; i < ${mode === 'v' ? 'u.headDim' : 'halfDim'} && live; i += WORKGROUP_SIZE) {
    ${
      mode === 'v'
        ? 'cache[dst + i] = headVec[i];'
        : /* wgsl */ `var a = headVec[i];
    var b = headVec[i + halfDim];
    ${norm ? 'a = a * inverseRms * (normWeight[i] + u.offset);\n    b = b * inverseRms * (normWeight[i + halfDim] + u.offset);' : ''}
    let c = cosTable[pos * halfDim + i];
    let s = sinTable[pos * halfDim + i];
    ${mode === 'q' ? 'q[base + i]' : 'cache[dst + i]'} = a * c - b * s;
    ${mode === 'q' ? 'q[base + i + halfDim]' : 'cache[dst + i + halfDim]'} = b * c + a * s;`
    }
  }`)}`,
    dispatch: (u) => grid(u.capacity * u.heads),
  };
}

type AttentionUniform = 'capacity' | 'heads' | 'kvHeads' | 'headDim' | 'layer' | 'maxContext' | 'window' | 'scale';

/**
 * Causal grouped-query attention of each new row over the cache, one workgroup per (row, head): scores into a
 * scratch row, max, exp and sum across the workgroup, then the weighted values. window > 0: a sliding window
 * (keys at positions > pos - window only), Gemma 3's local layers.
 */
export function attentionProgram(): KernelProgram<AttentionUniform> {
  return {
    name: 'attention',
    key: 'attention',
    workgroupSize: WORKGROUP_SIZE,
    inputs: ['q', 'keys', 'values', 'counters'],
    outputs: ['attended', 'scores'],
    types: { counters: 'u32' },
    uniforms: [
      { name: 'capacity', type: 'u32' },
      { name: 'heads', type: 'u32' },
      { name: 'kvHeads', type: 'u32' },
      { name: 'headDim', type: 'u32' },
      { name: 'layer', type: 'u32' },
      { name: 'maxContext', type: 'u32' },
      { name: 'window', type: 'u32' },
      { name: 'scale', type: 'f32' },
    ],
    main: () => /* wgsl */ `
${STEP_WGSL}
${WORKGROUP_SUM_WGSL}
${WORKGROUP_MAX_WGSL}
var<workgroup> query: array<f32, ${MAX_HEAD_DIM}>;
${flatMain(/* wgsl */ `
${ROW_HEAD_WGSL}
  var firstKey = 0u;
  if (u.window > 0u && pos + 1u > u.window) { firstKey = pos + 1u - u.window; }
  let kvHead = head / (u.heads / u.kvHeads);
  let cacheBase = (u.layer * u.kvHeads + kvHead) * u.maxContext;
  let qBase = (row * u.heads + head) * u.headDim;
  let scoreBase = group * u.maxContext;
  for (var i = lid; i < u.headDim; i += WORKGROUP_SIZE) {
    query[i] = q[qBase + i];
  }
  workgroupBarrier();
  var localMax = NEG_LARGE;
  for (var j = firstKey + lid; j <= pos; j += WORKGROUP_SIZE) {
    var s = 0.0;
    let kBase = (cacheBase + j) * u.headDim;
    for (var d = 0u; d < u.headDim; d++) {
      s += query[d] * keys[kBase + d];
    }
    s *= u.scale;
    scores[scoreBase + j] = s;
    localMax = max(localMax, s);
  }
  let m = workgroupMax(localMax, lid);
  var localSum = 0.0;
  for (var j = firstKey + lid; j <= pos; j += WORKGROUP_SIZE) {
    let p = exp(scores[scoreBase + j] - m);
    scores[scoreBase + j] = p;
    localSum += p;
  }
  let sum = workgroupSum(localSum, lid);
  // Other threads' probabilities are read below: make their storage writes visible.
  storageBarrier();
  workgroupBarrier();
  for (var d = lid; d < u.headDim; d += WORKGROUP_SIZE) {
    var acc = 0.0;
    for (var j = firstKey; j <= pos; j++) {
      acc += scores[scoreBase + j] * values[(cacheBase + j) * u.headDim + d];
    }
    if (live) {
      attended[qBase + d] = acc / sum;
    }
  }`)}`,
    dispatch: (u) => grid(u.capacity * u.heads),
  };
}

type ArgmaxUniform = 'size' | 'perGroup';

/** Tree reduction of (value, index) pairs over the workgroup into values[0], indices[0]; ties to the lowest index. */
const REDUCE_BEST_WGSL = /* wgsl */ `
var<workgroup> values: array<f32, WORKGROUP_SIZE>;
var<workgroup> indices: array<u32, WORKGROUP_SIZE>;
fn reduceBest(best: f32, bestAt: u32, lid: u32) {
  values[lid] = best;
  indices[lid] = bestAt;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      let v = values[lid + stride];
      let at = indices[lid + stride];
      if (v > values[lid] || (v == values[lid] && at < indices[lid])) {
        values[lid] = v;
        indices[lid] = at;
      }
    }
    workgroupBarrier();
  }
}
`;

/** A PCG hash to a uniform float in (0, 1): the Gumbel noise of sampling, from (seed, index). */
const RANDOM_WGSL = /* wgsl */ `
fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}
fn uniform01(seed: u32, i: u32) -> f32 {
  return (f32(pcg(pcg(i) ^ seed) >> 8u) + 0.5) / 16777216.0;
}
`;

/**
 * First stage of the token choice: each workgroup finds the best (value, index) of its slice of the logits.
 * Greedy: value = logit. Sampling at temperature T: value = logit / T + Gumbel noise, whose argmax is a draw
 * from softmax(logit / T). Ties go to the lowest index, as torch.argmax.
 */
export function argmaxPartialProgram(): KernelProgram<ArgmaxUniform> {
  return {
    name: 'argmax_partial',
    key: 'argmax_partial',
    workgroupSize: WORKGROUP_SIZE,
    inputs: ['logits', 'counters'],
    outputs: ['bestValue', 'bestIndex'],
    types: { counters: 'u32', bestIndex: 'u32' },
    uniforms: [
      { name: 'size', type: 'u32' },
      { name: 'perGroup', type: 'u32' },
    ],
    main: () => /* wgsl */ `
${RANDOM_WGSL}
${REDUCE_BEST_WGSL}
${flatMain(/* wgsl */ `
  let temperature = bitcast<f32>(counters[3]);
  let begin = group * u.perGroup;
  let end = min(begin + u.perGroup, u.size);
  var best = NEG_LARGE;
  var bestAt = 0xffffffffu;
  for (var i = begin + lid; i < end; i += WORKGROUP_SIZE) {
    var v = logits[i];
    if (temperature > 0.0) {
      v = v / temperature - log(-log(uniform01(counters[2], i)));
    }
    if (v > best) {
      best = v;
      bestAt = i;
    }
  }
  reduceBest(best, bestAt, lid);
  if (lid == 0u) {
    bestValue[group] = values[0];
    bestIndex[group] = indices[0];
  }`)}`,
    dispatch: (u) => grid(Math.ceil(u.size / u.perGroup)),
  };
}

type ArgmaxFinalUniform = 'groups';

/** Second stage: one workgroup reduces the partial bests to the token id. */
export function argmaxFinalProgram(): KernelProgram<ArgmaxFinalUniform> {
  return {
    name: 'argmax_final',
    key: 'argmax_final',
    workgroupSize: WORKGROUP_SIZE,
    inputs: ['bestValue', 'bestIndex'],
    outputs: ['token'],
    types: { bestIndex: 'u32', token: 'u32' },
    uniforms: [{ name: 'groups', type: 'u32' }],
    main: () => /* wgsl */ `
${REDUCE_BEST_WGSL}
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
  var best = NEG_LARGE;
  var bestAt = 0xffffffffu;
  for (var i = lid; i < u.groups; i += WORKGROUP_SIZE) {
    let v = bestValue[i];
    let at = bestIndex[i];
    if (v > best || (v == best && at < bestAt)) {
      best = v;
      bestAt = at;
    }
  }
  reduceBest(best, bestAt, lid);
  if (lid == 0u) {
    token[0] = indices[0];
  }
}`,
    dispatch: (): WorkgroupCount => [1, 1, 1],
  };
}
