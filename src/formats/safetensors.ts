/**
 * Reader for the safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__?: {string: string}},
 * then the tensor bytes, offsets relative to the end of the header. The writer (at the end) writes F32 tensors,
 * which is what adapters hold.
 */
import { PackError } from '../errors';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

/** A tensor's place in the file; `begin` and `end` are absolute byte offsets into the file. */
export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsFile {
  /** The `__metadata__` strings (empty when the file has none). */
  metadata: Record<string, string>;
  /** Tensors in header order. */
  tensors: Map<string, TensorInfo>;
  /** An F32 tensor's values: a view into the file's bytes when aligned, else a copy. */
  float32(name: string): Float32Array;
}

/** The header cannot be larger than this: the reference implementation rejects bigger ones too. */
const MAX_HEADER_BYTES = 100_000_000;

function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Parse a safetensors file held in memory; throws PackError naming `fileName` and the bad tensor. */
export function parseSafetensors(bytes: Uint8Array, fileName = 'safetensors file'): SafetensorsFile {
  const bad = (why: string): never => {
    throw new PackError('manifest-invalid', `${fileName}: ${why}`, fileName);
  };
  if (bytes.byteLength < 8) throw new PackError('truncated', `${fileName}: ${bytes.byteLength} bytes, too short for a safetensors header`, fileName);
  const headerBytes = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerBytes > MAX_HEADER_BYTES) bad(`header length ${headerBytes} is not plausible`);
  if (8 + headerBytes > bytes.byteLength) {
    throw new PackError('truncated', `${fileName}: header of ${headerBytes} bytes runs past the end of the file (${bytes.byteLength} bytes)`, fileName);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerBytes)));
  } catch (e) {
    bad(`header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) bad('header is not a JSON object');
  const dataStart = 8 + headerBytes;
  const dataBytes = bytes.byteLength - dataStart;

  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('__metadata__ is not an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') bad(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t !== 'object' || t === null) bad(`tensor "${name}" has no description`);
    if (typeof t.dtype !== 'string' || !(t.dtype in DTYPE_BYTES)) bad(`tensor "${name}" has unknown dtype ${JSON.stringify(t.dtype)}`);
    const dtype = t.dtype as SafetensorsDtype;
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d >= 0)) bad(`tensor "${name}" has a bad shape ${JSON.stringify(t.shape)}`);
    const shape = t.shape as number[];
    const offsets = t.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      bad(`tensor "${name}" has bad data_offsets ${JSON.stringify(offsets)}`);
    }
    const [from, to] = offsets as [number, number];
    if (to > dataBytes) {
      throw new PackError('truncated', `${fileName}: tensor "${name}" ends at data byte ${to}, past the end of the data (${dataBytes} bytes)`, fileName);
    }
    const expected = elementCount(shape) * DTYPE_BYTES[dtype];
    if (to - from !== expected) bad(`tensor "${name}" holds ${to - from} bytes, but ${dtype} ${JSON.stringify(shape)} needs ${expected}`);
    tensors.set(name, { name, dtype, shape, begin: dataStart + from, end: dataStart + to });
  }

  // The format forbids overlapping tensors: a writer bug would otherwise alias two weights silently.
  const sorted = [...tensors.values()].filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) bad(`tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap`);
  }

  return {
    metadata,
    tensors,
    float32(name: string): Float32Array {
      const t = tensors.get(name);
      if (!t) throw new PackError('manifest-invalid', `${fileName}: no tensor "${name}"`, fileName);
      const offset = bytes.byteOffset + t.begin;
      if (t.dtype === 'F16' || t.dtype === 'BF16') {
        // Half-precision files (hypernetworks stored at half size) are widened to f32 here, once, at load.
        const half = new DataView(bytes.buffer, offset, t.end - t.begin);
        const out = new Float32Array((t.end - t.begin) / 2);
        const widen = t.dtype === 'F16' ? f16ToF32 : bf16ToF32;
        for (let i = 0; i < out.length; i++) out[i] = widen(half.getUint16(2 * i, true));
        return out;
      }
      if (t.dtype !== 'F32') throw new PackError('manifest-invalid', `${fileName}: tensor "${name}" is ${t.dtype}, expected F32, F16 or BF16`, fileName);
      const length = (t.end - t.begin) / 4;
      // A Float32Array view needs 4-byte alignment (a Node Buffer from the shared pool may lack it); every browser is little-endian.
      if (offset % 4 === 0) return new Float32Array(bytes.buffer, offset, length);
      return new Float32Array(bytes.slice(t.begin, t.end).buffer);
    },
  };
}

/** IEEE 754 binary16 bits to a number: sign, 5-bit exponent (bias 15), 10-bit fraction; subnormals, inf and NaN. */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bits to a number: the top half of an f32. */
export function bf16ToF32(h: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, h << 16);
  return view.getFloat32(0);
}

export interface F32Tensor {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

/** The header is padded with spaces to 8 bytes, as the reference writer does, so tensor data stays aligned. */
const HEADER_ALIGN = 8;

export function writeSafetensors(tensors: readonly F32Tensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((n, d) => n * d, 1);
    // Invariants: the app's own tensors (adapter exports) always fit their shapes and have distinct names.
    if (count !== t.data.length) throw new Error(`tensor "${t.name}": shape ${JSON.stringify(t.shape)} holds ${count} values, data has ${t.data.length}`);
    if (t.name in header) throw new Error(`tensor "${t.name}" appears twice`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / HEADER_ALIGN) * HEADER_ALIGN;
  if (padded !== json.length) {
    const spaces = new Uint8Array(padded).fill(0x20);
    spaces.set(json);
    json = spaces;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    // Every browser is little-endian, which is the byte order safetensors stores.
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
