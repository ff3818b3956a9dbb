"""Block-wise weight quantization in the layout of onnxruntime's com.microsoft MatMulNBits.

A weight W [N, K] (PyTorch's [out, in]) is cut into blocks of `block_size` along K. Each block stores
unsigned `bits`-bit codes q and a float32 scale s (and, when asymmetric, a zero point z), and stands for
W = (q - z) * s. Tensors, exactly as MatMulNBits takes them:
  data         uint8   [N, K / block_size, block_size * bits / 8]  codes, low bits first within a byte
  scales       float32 [N, K / block_size]
  zero_points  uint8   [N, ceil(K / block_size * bits / 8)]         packed like data; absent = 2^(bits-1)
`dequantize` is the numpy reference that the ONNX graph and the browser engines are tested against.

Asymmetric blocks pick their range among shrunken min/max candidates by squared error, weighted per
input channel by an optional importance (the mean square of that channel's activations on calibration
text, as llama.cpp's importance matrix): unweighted error is a poor proxy for the model's loss.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK_SIZE = 32
ROWS_PER_CHUNK = 8192  # bounds the float temporaries of large tensors (the 262144-row embedding)
SHRINK_STEPS = (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6)  # block range factors tried; the lowest weighted error wins
TENSOR_SUFFIXES = {"data": ".quant", "scales": ".scales", "zero_points": ".zero_points"}


@dataclass(frozen=True)
class QuantScheme:
    """Which bits each weight kind gets; norms and biases stay float32."""

    name: str
    linear_bits: int  # every q/k/v/o/gate/up/down projection
    linear_zero_points: bool  # asymmetric blocks: worth their half byte at 4 bits, not needed at 8
    embedding_bits: int = 8  # token embedding = tied LM head, symmetric: Q8_0 sources convert losslessly
    block_size: int = BLOCK_SIZE

    @property
    def uses_importance(self) -> bool:
        """Only asymmetric blocks search their range, weighted by input importance."""
        return self.linear_zero_points

    def to_manifest(self) -> dict:
        return {
            "layout": "com.microsoft.MatMulNBits", "blockSize": self.block_size,
            "linear": {"bits": self.linear_bits, "zeroPoints": self.linear_zero_points},
            "embedding": {"bits": self.embedding_bits, "zeroPoints": False},
            "tensorSuffixes": {"data": TENSOR_SUFFIXES["data"], "scales": TENSOR_SUFFIXES["scales"], "zeroPoints": TENSOR_SUFFIXES["zero_points"]},
        }


SCHEMES = {
    "q4": QuantScheme("q4", linear_bits=4, linear_zero_points=True),
    "q8": QuantScheme("q8", linear_bits=8, linear_zero_points=False),
}


@dataclass
class BlockQuantized:
    """One [N, K] weight in MatMulNBits layout."""

    bits: int
    block_size: int
    data: np.ndarray
    scales: np.ndarray
    zero_points: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        n, blocks, _ = self.data.shape
        return n, blocks * self.block_size

    def tensors(self, name: str) -> dict[str, np.ndarray]:
        """The tensors as the pack stores them, named after the float weight they replace."""
        out = {name + TENSOR_SUFFIXES["data"]: self.data, name + TENSOR_SUFFIXES["scales"]: self.scales}
        if self.zero_points is not None:
            out[name + TENSOR_SUFFIXES["zero_points"]] = self.zero_points
        return out


def pack_bits(codes: np.ndarray, bits: int) -> np.ndarray:
    """uint8 codes [..., n] -> bytes [..., ceil(n * bits / 8)], the first code in the lowest bits."""
    per_byte = 8 // bits
    pad = -codes.shape[-1] % per_byte
    if pad:
        codes = np.concatenate([codes, np.zeros((*codes.shape[:-1], pad), np.uint8)], axis=-1)
    grouped = codes.reshape(*codes.shape[:-1], -1, per_byte).astype(np.uint8)
    shifts = (np.arange(per_byte, dtype=np.uint8) * bits).astype(np.uint8)
    return np.bitwise_or.reduce(grouped << shifts, axis=-1).astype(np.uint8)


def unpack_bits(packed: np.ndarray, bits: int, count: int) -> np.ndarray:
    """Inverse of pack_bits: the first `count` codes of each row."""
    per_byte = 8 // bits
    shifts = (np.arange(per_byte, dtype=np.uint8) * bits).astype(np.uint8)
    codes = (packed[..., None] >> shifts) & np.uint8((1 << bits) - 1)
    return codes.reshape(*packed.shape[:-1], -1)[..., :count]


def _quantize_rows(w: np.ndarray, bits: int, block_size: int, symmetric: bool, importance: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """codes [n, blocks, block_size], scales [n, blocks], zero points [n, blocks] for float rows w [n, K]."""
    blocks = w.reshape(w.shape[0], -1, block_size).astype(np.float32)
    weight = 1.0 if importance is None else importance.reshape(1, -1, block_size).astype(np.float32)
    qmax = (1 << bits) - 1
    best = None
    if symmetric:
        # Codes span [1, qmax] around the default zero point 2^(bits-1): scale = max|w| / (2^(bits-1) - 1).
        zero = np.full(blocks.shape[:2], 1 << (bits - 1), np.float32)
        amax = np.abs(blocks).max(-1)
        candidates = [(amax / ((1 << (bits - 1)) - 1), zero)]
    else:
        # The range always holds 0 so that the zero point is a valid code; shrinking it trades clipping for resolution.
        lo, hi = np.minimum(blocks.min(-1), 0), np.maximum(blocks.max(-1), 0)
        candidates = []
        for f in SHRINK_STEPS:
            scale = (hi - lo) * f / qmax
            safe = np.where(scale > 0, scale, 1)
            candidates.append((scale, np.clip(np.round(-lo * f / safe), 0, qmax)))
    for scale, zero in candidates:
        safe = np.where(scale > 0, scale, 1)[..., None]
        codes = np.clip(np.round(blocks / safe) + zero[..., None], 0, qmax)
        err = (weight * np.square((codes - zero[..., None]) * scale[..., None] - blocks)).sum(-1)
        if best is None:
            best = [codes, scale, zero, err]
            continue
        better = err < best[3]
        best[0] = np.where(better[..., None], codes, best[0])
        best[1], best[2], best[3] = np.where(better, scale, best[1]), np.where(better, zero, best[2]), np.minimum(err, best[3])
    return best[0].astype(np.uint8), best[1].astype(np.float32), best[2].astype(np.uint8)


def quantize(w: np.ndarray, bits: int, block_size: int = BLOCK_SIZE, symmetric: bool = False, importance: np.ndarray | None = None
             ) -> BlockQuantized:
    """Quantize a float [N, K] weight (K a multiple of block_size) into MatMulNBits layout;
    `importance` [K] weighs each input channel's error when an asymmetric block picks its range."""
    if bits not in (4, 8):
        raise ValueError(f"bits must be 4 or 8 (got {bits})")
    n, k = w.shape
    if k % block_size:
        raise ValueError(f"input dimension {k} is not a multiple of the block size {block_size}")
    blocks = k // block_size
    data = np.empty((n, blocks, block_size * bits // 8), np.uint8)
    scales = np.empty((n, blocks), np.float32)
    zeros = np.empty((n, blocks), np.uint8)
    for r in range(0, n, ROWS_PER_CHUNK):
        codes, scales[r:r + ROWS_PER_CHUNK], zeros[r:r + ROWS_PER_CHUNK] = _quantize_rows(w[r:r + ROWS_PER_CHUNK], bits, block_size, symmetric, importance)
        data[r:r + ROWS_PER_CHUNK] = pack_bits(codes, bits)
    return BlockQuantized(bits, block_size, data, scales, None if symmetric else pack_bits(zeros, bits))


def dequantize(q: BlockQuantized) -> np.ndarray:
    """Reference dequantization: float32 [N, K] = (code - zero point) * scale, ROWS_PER_CHUNK rows at a time (the
    temporaries of the 262,144-row embedding would be several times its float size)."""
    n, blocks, _ = q.data.shape
    out = np.empty((n, blocks * q.block_size), np.float32)
    for r in range(0, n, ROWS_PER_CHUNK):
        rows = slice(r, r + ROWS_PER_CHUNK)
        codes = unpack_bits(q.data[rows], q.bits, q.block_size).astype(np.float32)
        if q.zero_points is None:
            zero = np.float32(1 << (q.bits - 1))
        else:
            zero = unpack_bits(q.zero_points[rows], q.bits, blocks).astype(np.float32)[..., None]
        out[rows] = ((codes - zero) * q.scales[rows][..., None]).reshape(-1, blocks * q.block_size)
    return out


def is_embedding(name: str) -> bool:
    return name in ("model.embed_tokens.weight", "lm_head.weight")


def is_linear(name: str) -> bool:
    return name.startswith("model.layers.") and name.endswith("_proj.weight")


def quantize_state(state: dict[str, np.ndarray], scheme: QuantScheme, importance: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Replace every projection and the embedding/LM head by its quantized tensors; keep the rest as it is.
    `importance` maps a projection's weight name to its input channels' importance (see quantize)."""
    out = {}
    for name, w in state.items():
        if is_embedding(name):
            out.update(quantize(w, scheme.embedding_bits, scheme.block_size, symmetric=True).tensors(name))
        elif is_linear(name):
            symmetric = not scheme.linear_zero_points
            out.update(quantize(w, scheme.linear_bits, scheme.block_size, symmetric, (importance or {}).get(name)).tensors(name))
        else:
            out[name] = w
    return out


def dequantize_state(state: dict[str, np.ndarray], block_size: int = BLOCK_SIZE) -> dict[str, np.ndarray]:
    """Inverse of quantize_state up to the quantization error: every weight back in float32."""
    data, scales, zeros = TENSOR_SUFFIXES["data"], TENSOR_SUFFIXES["scales"], TENSOR_SUFFIXES["zero_points"]
    out = {}
    for name, t in state.items():
        if name.endswith(data):
            base = name[: -len(data)]
            bits = t.shape[-1] * 8 // block_size  # the blob of a block holds block_size codes
            out[base] = dequantize(BlockQuantized(bits, block_size, t, state[base + scales], state.get(base + zeros)))
        elif not name.endswith((scales, zeros)):
            out[name] = t
    return out
