/**
 * Writer for the safetensors format (the reader is src/model/safetensors.ts): an 8-byte little-endian
 * header length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__}, then the tensor
 * bytes in header order. Only F32, which is what adapters hold.
 */

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
