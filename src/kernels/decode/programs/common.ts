/**
 * What the decoder's kernels share. Every kernel reads the per-step counters from `counters` (a u32 storage buffer
 * the engine rewrites before each submission), so its bind group and uniforms are made once and replayed for every
 * token:
 *   counters[0] rows of this chunk (T), counters[1] position of row 0 (tokens already in the cache),
 *   counters[2] sampling seed of this token, counters[3] sampling temperature (f32 bits, 0 = greedy).
 * Rows past T are computed on zeros or skipped; no kernel returns before a barrier.
 */

/** Block size of the quantized formats (com.microsoft MatMulNBits, block_size 32). */
export const QUANT_BLOCK = 32;
/** Outputs per workgroup of the fused linear: few for the layers (many workgroups), many for a vocabulary-wide LM head. */
export const LINEAR_COLS = 4;
export const LINEAR_COLS_WIDE = 32;
/** Largest head dimension the attention and RoPE kernels hold in workgroup memory. */
export const MAX_HEAD_DIM = 256;

/**
 * Where a kernel's row count comes from: 'step' reads counters[0] (the decoder's replayed dispatches), 'uniform'
 * the dispatch's own uniform (a one-off dispatch, e.g. the hypernetwork's).
 */
export type RowSource = 'step' | 'uniform';

export const STEP_WGSL = /* wgsl */ `
fn stepRows() -> u32 { return counters[0]; }
fn stepPast() -> u32 { return counters[1]; }
`;

/** One workgroup per (row t, head): `live` is false for rows past the chunk, which then work on row 0 unstored. */
export const ROW_HEAD_WGSL = /* wgsl */ `
  let t = group / u.heads;
  let head = group % u.heads;
  let live = t < stepRows();
  let row = select(0u, t, live);
  let pos = stepPast() + row;`;

export function flatMain(body: string): string {
  return /* wgsl */ `
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) count: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = flatWorkgroupIndex(wg, count);
${body}
}`;
}
