"""Build the pack's decoder graph op by op with onnx.helper.

Written by hand instead of traced so that the graph is exactly what onnxruntime-web runs well:
standard opset-17 ops, weights as external data pointing into weights.safetensors (the one
copy both engines read), LoRA as graph inputs, logits for the last position only, and the
hidden states of the encoder layers as an extra output. The PyTorch model in training/model.py
is the reference this graph is tested against.

With a QuantScheme the projections and the LM head run as com.microsoft MatMulNBits on the
block-quantized tensors of quant.py, and the embedding lookup gathers the quantized rows of that same
table and dequantizes them with standard ops, so one copy of the 8-bit table serves both.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..model import LoraSpec, ModelConfig
from .quant import TENSOR_SUFFIXES, QuantScheme

OPSET = 17
MS_DOMAIN, MS_OPSET = "com.microsoft", 1  # onnxruntime's contrib ops (MatMulNBits), used by quantized graphs only
NEG_INF = -1e9  # additive mask value: exp underflows to 0 without producing NaN on fully masked rows


@dataclass
class ExternalTensor:
    """A weight stored at [offset, offset + length) of the weights file."""

    name: str
    shape: list[int]
    offset: int
    length: int
    dtype: int = TensorProto.FLOAT


class GraphBuilder:
    def __init__(self):
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[TensorProto] = []
        self._count = 0
        self._consts: dict[tuple, str] = {}

    def op(self, op_type: str, *inputs: str, outputs: int = 1, name: str | None = None, domain: str = "", **attrs) -> str | list[str]:
        self._count += 1
        base = name or f"{op_type.lower()}_{self._count}"
        outs = [base] if outputs == 1 else [f"{base}:{i}" for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=f"n{self._count}_{op_type}", domain=domain, **attrs))
        return outs[0] if outputs == 1 else outs

    def const(self, value, dtype=np.int64) -> str:
        arr = np.asarray(value, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self._consts:
            name = f"const_{len(self._consts)}"
            self.initializers.append(numpy_helper.from_array(arr, name))
            self._consts[key] = name
        return self._consts[key]

    def external(self, t: ExternalTensor, location: str) -> str:
        tp = TensorProto()
        tp.name, tp.data_type = t.name, t.dtype
        tp.dims.extend(t.shape)
        tp.data_location = TensorProto.EXTERNAL
        for k, v in (("location", location), ("offset", str(t.offset)), ("length", str(t.length))):
            entry = tp.external_data.add()
            entry.key, entry.value = k, v
        self.initializers.append(tp)
        return t.name


def lora_input_names(module: str) -> tuple[str, str]:
    return f"lora.{module}.A", f"lora.{module}.B"


def build_decoder(config: ModelConfig, lora: LoraSpec, weights: dict[str, ExternalTensor], weights_file: str, encoder_layers: list[int],
                  quant: QuantScheme | None = None) -> onnx.ModelProto:
    c, g = config, GraphBuilder()
    for t in weights.values():
        g.external(t, weights_file)
    i64, f32 = TensorProto.INT64, TensorProto.FLOAT
    kv_shape = ["batch", c.num_key_value_heads, "past_sequence", c.head_dim]
    inputs = [
        helper.make_tensor_value_info("input_ids", i64, ["batch", "sequence"]),
        helper.make_tensor_value_info("position_ids", i64, ["batch", "sequence"]),
        helper.make_tensor_value_info("attention_mask", i64, ["batch", "total_sequence"]),
    ]
    for i in range(c.num_hidden_layers):
        inputs += [helper.make_tensor_value_info(f"past_key_values.{i}.{kv}", f32, kv_shape) for kv in ("key", "value")]
    for m in lora.target_modules:
        fan_in, fan_out = c.module_shape(m)
        a, b = lora_input_names(m)
        inputs += [
            helper.make_tensor_value_info(a, f32, [c.num_hidden_layers, fan_in, "lora_rank"]),
            helper.make_tensor_value_info(b, f32, [c.num_hidden_layers, "lora_rank", fan_out]),
        ]

    # Shapes used throughout: batch, sequence, past length, total length.
    ids_shape = g.op("Shape", "input_ids")
    batch = g.op("Gather", ids_shape, g.const([0]), axis=0)
    seq = g.op("Gather", ids_shape, g.const([1]), axis=0)
    past_len = g.op("Gather", g.op("Shape", "past_key_values.0.key"), g.const([2]), axis=0)
    total = g.op("Add", past_len, seq)

    def reshape(x: str, *dims) -> str:
        return g.op("Reshape", x, g.op("Concat", *[d if isinstance(d, str) else g.const([d]) for d in dims], axis=0))

    def rms_norm(x: str, weight: str) -> str:
        var = g.op("ReduceMean", g.op("Mul", x, x), axes=[-1], keepdims=1)
        normed = g.op("Mul", x, g.op("Reciprocal", g.op("Sqrt", g.op("Add", var, g.const(c.rms_norm_eps, np.float32)))))
        w = g.op("Add", weight, g.const(c.norm_weight_offset, np.float32)) if c.norm_weight_offset else weight
        return g.op("Mul", normed, w)

    def quantized(weight: str) -> tuple[str, str, str | None]:
        """Names of a weight's quantized data, scales and zero points (None: the default zero point)."""
        if quant is None:
            raise ValueError(f"{weight}: the weights are block-quantized but no QuantScheme was given")
        data, scales, zeros = (weight + TENSOR_SUFFIXES[k] for k in ("data", "scales", "zero_points"))
        return data, scales, zeros if zeros in weights else None

    def project(x2d: str, weight: str, bias: str | None = None) -> str:
        """x2d [N, in] times weight [out, in] transposed: Gemm on float weights, MatMulNBits on quantized ones."""
        if weight in weights:
            return g.op("Gemm", x2d, weight, *([bias] if bias else []), transB=1)
        data, scales, zeros = quantized(weight)
        out_features, blocks, blob = weights[data].shape
        y = g.op("MatMulNBits", x2d, data, scales, *([zeros] if zeros else []), domain=MS_DOMAIN,
                 K=blocks * quant.block_size, N=out_features, bits=blob * 8 // quant.block_size, block_size=quant.block_size)
        return g.op("Add", y, bias) if bias else y

    def embed(ids: str) -> str:
        """Token embeddings [batch, sequence, ...] (the row layout is flattened by the caller)."""
        table = "model.embed_tokens.weight"
        if table in weights:
            return g.op("Gather", table, ids, axis=0)
        data, scales, zeros = quantized(table)
        if zeros is not None or weights[data].shape[2] != quant.block_size:
            raise ValueError(f"{table}: the embedding lookup reads symmetric 8-bit blocks only")
        # Dequantize only the gathered rows: (code - 128) * block scale, codes [batch, sequence, blocks, block_size].
        codes = g.op("Cast", g.op("Gather", data, ids, axis=0), to=f32)
        block_scales = g.op("Unsqueeze", g.op("Gather", scales, ids, axis=0), g.const([-1]))
        return g.op("Mul", g.op("Sub", codes, g.const(128.0, np.float32)), block_scales)

    def linear(x2d: str, prefix: str, module: str, layer: int) -> str:
        bias = f"{prefix}.{module}.bias"
        y = project(x2d, f"{prefix}.{module}.weight", bias if bias in weights else None)
        if module in lora.target_modules:
            a_name, b_name = lora_input_names(module)
            idx = g.const(layer)
            a = g.op("Gather", a_name, idx, axis=0)
            b = g.op("Gather", b_name, idx, axis=0)
            y = g.op("Add", y, g.op("MatMul", g.op("MatMul", x2d, a), b))
        return y

    # Rotary tables [batch, 1, sequence, head_dim] per rope base (gemma3 has a local one for sliding layers).
    pos = g.op("Unsqueeze", g.op("Cast", "position_ids", to=f32), g.const([-1]))

    def rope_tables(theta: float) -> tuple[str, str]:
        inv_freq = 1.0 / (theta ** (np.arange(0, c.head_dim, 2, dtype=np.float32) / c.head_dim))
        freqs = g.op("Mul", pos, g.const(inv_freq.astype(np.float32), np.float32))
        emb = g.op("Unsqueeze", g.op("Concat", freqs, freqs, axis=-1), g.const([1]))
        return g.op("Cos", emb), g.op("Sin", emb)

    # Additive masks [batch, 1, 1, sequence, total]: causal, padded keys hidden, optional sliding window.
    kpos = g.op("Range", g.const(0), g.op("Squeeze", total), g.const(1))
    qpos = g.op("Range", g.op("Squeeze", past_len), g.op("Squeeze", total), g.const(1))
    kpos_row, qpos_col = g.op("Unsqueeze", kpos, g.const([0])), g.op("Unsqueeze", qpos, g.const([1]))
    key_valid = reshape(g.op("Cast", "attention_mask", to=TensorProto.BOOL), batch, 1, 1, 1, total)

    def mask(window: int | None) -> str:
        allowed = g.op("LessOrEqual", kpos_row, qpos_col)
        if window is not None:
            allowed = g.op("And", allowed, g.op("Greater", kpos_row, g.op("Sub", qpos_col, g.const(window))))
        allowed = g.op("And", allowed, key_valid)
        return g.op("Where", allowed, g.const(0.0, np.float32), g.const(NEG_INF, np.float32))

    layer_kinds = {c.layer_type(i) for i in range(c.num_hidden_layers)}
    ropes = {"full_attention": rope_tables(c.rope_theta)}
    masks = {"full_attention": mask(None)}
    if "sliding_attention" in layer_kinds:
        ropes["sliding_attention"] = rope_tables(c.rope_local_theta or c.rope_theta)
        masks["sliding_attention"] = mask(c.sliding_window)

    def rotate(x: str, cos: str, sin: str) -> str:
        x1, x2 = g.op("Split", x, g.const([c.head_dim // 2, c.head_dim // 2]), axis=-1, outputs=2)
        return g.op("Add", g.op("Mul", x, cos), g.op("Mul", g.op("Concat", g.op("Neg", x2), x1, axis=-1), sin))

    def heads(x2d: str, n: int) -> str:  # [N, n*hd] -> [batch, n, sequence, hd]
        return g.op("Transpose", reshape(x2d, batch, seq, n, c.head_dim), perm=[0, 2, 1, 3])

    groups = c.num_attention_heads // c.num_key_value_heads
    x = embed("input_ids")
    if c.embedding_scale != 1.0:
        x = g.op("Mul", x, g.const(c.embedding_scale, np.float32))
    x = reshape(x, g.const([-1]), c.hidden_size)
    outputs_hidden, presents = [], []
    for i in range(c.num_hidden_layers):
        p, kind = f"model.layers.{i}", c.layer_type(i)
        cos, sin = ropes[kind]
        h = rms_norm(x, f"{p}.input_layernorm.weight")
        q = heads(linear(h, f"{p}.self_attn", "q_proj", i), c.num_attention_heads)
        k = heads(linear(h, f"{p}.self_attn", "k_proj", i), c.num_key_value_heads)
        v = heads(linear(h, f"{p}.self_attn", "v_proj", i), c.num_key_value_heads)
        if c.qk_norm:
            q, k = rms_norm(q, f"{p}.self_attn.q_norm.weight"), rms_norm(k, f"{p}.self_attn.k_norm.weight")
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        k = g.op("Concat", f"past_key_values.{i}.key", k, axis=2, name=f"present.{i}.key")
        v = g.op("Concat", f"past_key_values.{i}.value", v, axis=2, name=f"present.{i}.value")
        presents += [k, v]
        # Grouped-query attention by broadcasting: queries [b, kv, groups, T, hd] against keys [b, kv, 1, S, hd].
        qg = reshape(q, batch, c.num_key_value_heads, groups, seq, c.head_dim)
        kt = g.op("Unsqueeze", g.op("Transpose", k, perm=[0, 1, 3, 2]), g.const([2]))
        scores = g.op("Add", g.op("Mul", g.op("MatMul", qg, kt), g.const(c.query_scale, np.float32)), masks[kind])
        attn = g.op("MatMul", g.op("Softmax", scores, axis=-1), g.op("Unsqueeze", v, g.const([2])))
        attn = reshape(g.op("Transpose", reshape(attn, batch, c.num_attention_heads, seq, c.head_dim), perm=[0, 2, 1, 3]),
                       g.const([-1]), c.num_attention_heads * c.head_dim)
        o = linear(attn, f"{p}.self_attn", "o_proj", i)
        if c.sandwich_norms:
            x = g.op("Add", x, rms_norm(o, f"{p}.post_attention_layernorm.weight"))
            h = rms_norm(x, f"{p}.pre_feedforward_layernorm.weight")
        else:
            x = g.op("Add", x, o)
            h = rms_norm(x, f"{p}.post_attention_layernorm.weight")
        gate = linear(h, f"{p}.mlp", "gate_proj", i)
        if c.hidden_act == "silu":
            act = g.op("Mul", gate, g.op("Sigmoid", gate))
        else:  # gelu with the tanh approximation, spelled out: opset 17 has no Gelu
            inner = g.op("Mul", g.const(np.sqrt(2 / np.pi), np.float32),
                         g.op("Add", gate, g.op("Mul", g.const(0.044715, np.float32), g.op("Mul", gate, g.op("Mul", gate, gate)))))
            act = g.op("Mul", g.op("Mul", g.const(0.5, np.float32), gate), g.op("Add", g.const(1.0, np.float32), g.op("Tanh", inner)))
        mlp = linear(g.op("Mul", act, linear(h, f"{p}.mlp", "up_proj", i)), f"{p}.mlp", "down_proj", i)
        if c.sandwich_norms:
            mlp = rms_norm(mlp, f"{p}.post_feedforward_layernorm.weight")
        x = g.op("Add", x, mlp)
        if i in encoder_layers:
            outputs_hidden.append(g.op("Unsqueeze", reshape(x, batch, seq, c.hidden_size), g.const([0])))

    # Logits for the last position only: decode needs no more, and the LM head dominates cost.
    last = reshape(g.op("Gather", reshape(x, batch, seq, c.hidden_size), g.op("Sub", g.op("Squeeze", seq), g.const(1)), axis=1), batch, c.hidden_size)
    lm_head = "model.embed_tokens.weight" if c.tie_word_embeddings else "lm_head.weight"
    logits = project(rms_norm(last, "model.norm.weight"), lm_head)
    if c.final_logit_softcapping:
        cap = g.const(c.final_logit_softcapping, np.float32)
        logits = g.op("Mul", g.op("Tanh", g.op("Div", logits, cap)), cap)
    g.op("Unsqueeze", logits, g.const([1]), name="logits")
    g.op("Concat", *outputs_hidden, axis=0, name="encoder_hidden_states")

    outputs = [helper.make_tensor_value_info("logits", f32, ["batch", 1, c.vocab_size])]
    for i in range(c.num_hidden_layers):
        outputs += [helper.make_tensor_value_info(f"present.{i}.{kv}", f32, ["batch", c.num_key_value_heads, "total_sequence", c.head_dim]) for kv in ("key", "value")]
    outputs.append(helper.make_tensor_value_info("encoder_hidden_states", f32, [len(encoder_layers), "batch", "sequence", c.hidden_size]))
    graph = helper.make_graph(g.nodes, "decoder", inputs, outputs, initializer=g.initializers)
    opsets = [helper.make_opsetid("", OPSET)] + ([helper.make_opsetid(MS_DOMAIN, MS_OPSET)] if quant else [])
    model = helper.make_model(graph, opset_imports=opsets, producer_name="parametric-skills")
    model.ir_version = 8
    return model
