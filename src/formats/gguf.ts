/**
 * The GGUF container (llama.cpp's file format, v3): magic, version, tensor and metadata counts, metadata
 * key/values, tensor infos (name, ggml dims fastest-first, type, offset), then aligned tensor data.
 * Written for F32 tensors and string/float metadata, which is what a LoRA adapter needs.
 */

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
/** llama.cpp's default (general.alignment absent): tensor data starts and every tensor begins on it. */
export const GGUF_ALIGNMENT = 32;

/** GGUF metadata value types (only those an adapter needs). */
const VALUE_TYPE = { FLOAT32: 6, STRING: 8 } as const;
const GGML_TYPE_F32 = 0;

export interface GgufTensor {
  name: string;
  /** ggml order: ne[0] is the fastest-varying dimension. */
  ne: number[];
  data: Float32Array;
}

/** Little-endian byte sink that grows as it is written. */
class ByteWriter {
  private buf = new Uint8Array(1 << 12);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): number {
    if (this.length + n > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
      this.view = new DataView(grown.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }
  // Each method reserves before it reads this.view or this.buf: reserving may replace them.
  u32(v: number) {
    const at = this.reserve(4);
    this.view.setUint32(at, v, true);
  }
  u64(v: number) {
    const at = this.reserve(8);
    this.view.setBigUint64(at, BigInt(v), true);
  }
  f32(v: number) {
    const at = this.reserve(4);
    this.view.setFloat32(at, v, true);
  }
  bytes(b: Uint8Array) {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
  }
  string(s: string) {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  padTo(alignment: number) {
    this.reserve((alignment - (this.length % alignment)) % alignment);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** A metadata key and its value: the types an adapter needs. */
export type GgufKv = [key: string, type: 'string', value: string] | [key: string, type: 'f32', value: number];

/** A GGUF v3 file of F32 tensors, each at an aligned offset. */
export function writeGguf(kvs: readonly GgufKv[], tensors: readonly GgufTensor[]): Uint8Array {
  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(GGUF_VERSION);
  w.u64(tensors.length);
  w.u64(kvs.length);
  for (const [key, type, value] of kvs) {
    w.string(key);
    if (type === 'string') {
      w.u32(VALUE_TYPE.STRING);
      w.string(value);
    } else {
      w.u32(VALUE_TYPE.FLOAT32);
      w.f32(value);
    }
  }
  const align = (n: number) => Math.ceil(n / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;
  let offset = 0;
  for (const t of tensors) {
    w.string(t.name);
    w.u32(t.ne.length);
    for (const d of t.ne) w.u64(d);
    w.u32(GGML_TYPE_F32);
    w.u64(offset);
    offset = align(offset + t.data.byteLength);
  }
  for (const t of tensors) {
    w.padTo(GGUF_ALIGNMENT);
    // Every browser is little-endian, which is the byte order GGUF stores.
    w.bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  w.padTo(GGUF_ALIGNMENT);
  return w.result();
}
