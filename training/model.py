"""One decoder-only transformer for every pack architecture (llama, qwen2, gemma3).

Parameter names follow Hugging Face's, so a checkpoint's state dict loads as it is.
LoRA enters as stacked tensors, one pair per target module, exactly as the ONNX graph and
the browser engines take it: A [layers, in, R] and B [layers, R, out] with R = slots * rank
and each slot's scale already folded into B (zeros when no adapter is active).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

LORA_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass
class ModelConfig:
    """Mirrors manifest.json's `architecture` object field for field."""

    type: str = "llama"  # llama | qwen2 | gemma3
    vocab_size: int = 512
    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    head_dim: int = 16
    intermediate_size: int = 128
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-5
    max_position_embeddings: int = 512
    tie_word_embeddings: bool = True
    attention_bias: bool = False  # qwen2 has biases on q, k and v
    hidden_act: str = "silu"  # silu (SwiGLU) | gelu_tanh (GeGLU)
    # gemma3 only: sliding/full layers, QK-norm, query scale, embedding scale, (1 + w) norms.
    layer_types: list[str] | None = None  # "sliding_attention" | "full_attention" per layer
    sliding_window: int | None = None
    rope_local_theta: float | None = None  # rope base of sliding layers
    qk_norm: bool = False
    query_pre_attn_scalar: float | None = None  # scores scale is its -0.5 power; default head_dim
    embedding_scale: float = 1.0
    norm_weight_offset: float = 0.0  # gemma stores RMSNorm weights as w and applies (1 + w)
    sandwich_norms: bool = False  # gemma3: norms after attention and MLP too
    final_logit_softcapping: float | None = None

    @property
    def query_scale(self) -> float:
        return (self.query_pre_attn_scalar or self.head_dim) ** -0.5

    def layer_type(self, i: int) -> str:
        return self.layer_types[i] if self.layer_types else "full_attention"

    def module_shape(self, module: str) -> tuple[int, int]:
        """(in_features, out_features) of a target module."""
        h, q, kv, f = self.hidden_size, self.num_attention_heads * self.head_dim, self.num_key_value_heads * self.head_dim, self.intermediate_size
        return {
            "q_proj": (h, q), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (q, h),
            "gate_proj": (h, f), "up_proj": (h, f), "down_proj": (f, h),
        }[module]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LoraSpec:
    """Mirrors manifest.json's `lora` object."""

    rank: int = 8
    alpha: float = 16.0
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "v_proj", "down_proj"])
    slots: int = 4

    @property
    def total_rank(self) -> int:
        return self.rank * self.slots


# module -> (A [L,in,R], B [L,R,out]) shared by the batch, or (A [B,L,in,R], B [B,L,R,out]) one per example.
LoraTensors = dict[str, tuple[torch.Tensor, torch.Tensor]]
KVCache = list[tuple[torch.Tensor, torch.Tensor]]  # per layer (key, value) [B, kv_heads, S, head_dim]


def zero_lora(config: ModelConfig, spec: LoraSpec) -> LoraTensors:
    out = {}
    for m in spec.target_modules:
        i, o = config.module_shape(m)
        out[m] = (torch.zeros(config.num_hidden_layers, i, spec.total_rank), torch.zeros(config.num_hidden_layers, spec.total_rank, o))
    return out


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float, weight_offset: float):
        super().__init__()
        self.eps, self.weight_offset = eps, weight_offset
        self.weight = nn.Parameter(torch.ones(dim) if weight_offset == 0 else torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return x * (self.weight + self.weight_offset)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def rope_cos_sin(positions: torch.Tensor, head_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin [B, 1, T, head_dim] for the half-split (non-interleaved) rotary layout."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=positions.device) / head_dim))
    freqs = positions[..., None].float() * inv_freq
    emb = torch.cat((freqs, freqs), dim=-1)[:, None]
    return emb.cos(), emb.sin()


class Block(nn.Module):
    def __init__(self, config: ModelConfig, index: int):
        super().__init__()
        c = config
        self.config, self.index = c, index
        norm = lambda d: RMSNorm(d, c.rms_norm_eps, c.norm_weight_offset)  # noqa: E731
        self.input_layernorm = norm(c.hidden_size)
        self.post_attention_layernorm = norm(c.hidden_size)
        if c.sandwich_norms:
            self.pre_feedforward_layernorm = norm(c.hidden_size)
            self.post_feedforward_layernorm = norm(c.hidden_size)
        self.self_attn = nn.Module()
        for m in ("q_proj", "k_proj", "v_proj", "o_proj"):
            i, o = c.module_shape(m)
            setattr(self.self_attn, m, nn.Linear(i, o, bias=c.attention_bias and m != "o_proj"))
        if c.qk_norm:
            self.self_attn.q_norm = norm(c.head_dim)
            self.self_attn.k_norm = norm(c.head_dim)
        self.mlp = nn.Module()
        for m in ("gate_proj", "up_proj", "down_proj"):
            i, o = c.module_shape(m)
            setattr(self.mlp, m, nn.Linear(i, o, bias=False))

    def proj(self, parent: nn.Module, name: str, x: torch.Tensor, lora: LoraTensors) -> torch.Tensor:
        y = getattr(parent, name)(x)
        if name in lora:
            a, b = lora[name]
            layer = (slice(None), self.index) if a.dim() == 4 else (self.index,)
            y = y + (x @ a[layer]) @ b[layer]
        return y

    def attention(self, x, cos, sin, mask, past, lora):
        c, attn = self.config, self.self_attn
        bsz, t, _ = x.shape
        q = self.proj(attn, "q_proj", x, lora).view(bsz, t, c.num_attention_heads, c.head_dim).transpose(1, 2)
        k = self.proj(attn, "k_proj", x, lora).view(bsz, t, c.num_key_value_heads, c.head_dim).transpose(1, 2)
        v = self.proj(attn, "v_proj", x, lora).view(bsz, t, c.num_key_value_heads, c.head_dim).transpose(1, 2)
        if c.qk_norm:
            q, k = attn.q_norm(q), attn.k_norm(k)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        if past is not None:
            k, v = torch.cat((past[0], k), dim=2), torch.cat((past[1], v), dim=2)
        present = (k, v)
        # Grouped-query attention: each KV head serves num_attention_heads / num_key_value_heads query heads.
        groups = c.num_attention_heads // c.num_key_value_heads
        q = q.view(bsz, c.num_key_value_heads, groups, t, c.head_dim)
        scores = (q @ k[:, :, None].transpose(-1, -2)) * c.query_scale + mask[:, None]
        out = scores.softmax(-1) @ v[:, :, None]
        out = out.reshape(bsz, c.num_attention_heads, t, c.head_dim).transpose(1, 2).reshape(bsz, t, -1)
        return self.proj(attn, "o_proj", out, lora), present

    def mlp_forward(self, x, lora):
        gate = self.proj(self.mlp, "gate_proj", x, lora)
        act = F.silu(gate) if self.config.hidden_act == "silu" else F.gelu(gate, approximate="tanh")
        return self.proj(self.mlp, "down_proj", act * self.proj(self.mlp, "up_proj", x, lora), lora)

    def forward(self, x, cos, sin, mask, past, lora):
        h, present = self.attention(self.input_layernorm(x), cos, sin, mask, past, lora)
        if self.config.sandwich_norms:
            x = x + self.post_attention_layernorm(h)
            return x + self.post_feedforward_layernorm(self.mlp_forward(self.pre_feedforward_layernorm(x), lora)), present
        x = x + h
        return x + self.mlp_forward(self.post_attention_layernorm(x), lora), present


def attention_mask(attn_mask: torch.Tensor, past_len: int, t: int, window: int | None) -> torch.Tensor:
    """Additive mask [B, 1, T, S]: causal, padding keys hidden, optionally a sliding window."""
    s = past_len + t
    qpos = torch.arange(past_len, s)[:, None]
    kpos = torch.arange(s)[None, :]
    allowed = kpos <= qpos
    if window is not None:
        allowed = allowed & (kpos > qpos - window)
    allowed = allowed[None, None] & attn_mask[:, None, None, :].bool()
    return torch.where(allowed, 0.0, -1e9)


def packed_mask(position_ids: torch.Tensor, segment: torch.Tensor, window: int | None) -> torch.Tensor:
    """Additive mask [B, 1, T, T] of packed rows: a shared prefix (segment 0) then conversations (1, 2, ...; padding
    -1), each attending causally (by position) to itself and to the prefix, optionally within a sliding window."""
    qpos, kpos = position_ids[:, :, None], position_ids[:, None, :]
    qseg, kseg = segment[:, :, None], segment[:, None, :]
    allowed = (kpos <= qpos) & ((kseg == 0) | (kseg == qseg)) & (kseg >= 0)
    if window is not None:
        allowed = allowed & (kpos > qpos - window)
    return torch.where(allowed[:, None], 0.0, -1e9)


class Transformer(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.model = nn.Module()
        self.model.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.model.layers = nn.ModuleList(Block(config, i) for i in range(config.num_hidden_layers))
        self.model.norm = RMSNorm(config.hidden_size, config.rms_norm_eps, config.norm_weight_offset)
        if not config.tie_word_embeddings:
            self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)

    def lm_head_weight(self) -> torch.Tensor:
        return self.model.embed_tokens.weight if self.config.tie_word_embeddings else self.lm_head.weight

    def forward(
        self,
        input_ids: torch.Tensor,
        position_ids: torch.Tensor | None = None,
        attn_mask: torch.Tensor | None = None,
        past: KVCache | None = None,
        lora: LoraTensors | None = None,
        encoder_layers: list[int] | None = None,
        all_logits: bool = False,
        logit_mask: torch.Tensor | None = None,
        segment: torch.Tensor | None = None,
        encode_only: bool = False,
    ) -> tuple[torch.Tensor, KVCache, torch.Tensor | None]:
        """Returns logits (last position; every position with all_logits; only the positions of a
        boolean logit_mask [B, T] flattened to [n, vocab], which keeps training off the big LM head),
        the present KV cache and the hidden states after each of `encoder_layers` stacked [n, B, T, hidden].
        segment [B, T] (with position_ids, no past): packed rows, see packed_mask; attn_mask is then unused.
        encode_only: stop after the last of encoder_layers and return (None, presents so far, hidden)."""
        c = self.config
        bsz, t = input_ids.shape
        past_len = past[0][0].shape[2] if past else 0
        if position_ids is None:
            position_ids = torch.arange(past_len, past_len + t)[None].expand(bsz, t)
        if attn_mask is None:
            attn_mask = torch.ones(bsz, past_len + t, dtype=torch.long)
        lora = lora or {}
        x = self.model.embed_tokens(input_ids) * c.embedding_scale
        rope = {"full_attention": rope_cos_sin(position_ids, c.head_dim, c.rope_theta)}

        def mask(window: int | None) -> torch.Tensor:
            return packed_mask(position_ids, segment, window) if segment is not None else attention_mask(attn_mask, past_len, t, window)

        masks = {"full_attention": mask(None)}
        if c.layer_types and "sliding_attention" in c.layer_types:
            rope["sliding_attention"] = rope_cos_sin(position_ids, c.head_dim, c.rope_local_theta or c.rope_theta)
            masks["sliding_attention"] = mask(c.sliding_window)
        presents, hidden = [], []
        for i, layer in enumerate(self.model.layers):
            kind = c.layer_type(i)
            x, present = layer(x, *rope[kind], masks[kind], past[i] if past else None, lora)
            presents.append(present)
            if encoder_layers and i in encoder_layers:
                hidden.append(x)
            if encode_only and i >= max(encoder_layers):
                return None, presents, torch.stack(hidden)
        if logit_mask is not None:
            h = self.model.norm(x[logit_mask])
        else:
            h = self.model.norm(x if all_logits else x[:, -1:])
        logits = h @ self.lm_head_weight().T
        if c.final_logit_softcapping:
            logits = torch.tanh(logits / c.final_logit_softcapping) * c.final_logit_softcapping
        return logits, presents, (torch.stack(hidden) if hidden else None)


def init_weights(model: Transformer, seed: int, std: float = 0.02) -> None:
    """Deterministic random init (norms at identity) for test packs and training from scratch."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.fill_(1.0 - model.config.norm_weight_offset)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * std)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def sample_next(logits: torch.Tensor, temperature: float = 0.0, top_p: float = 1.0, generator=None) -> int:
    """Greedy at temperature 0, else nucleus sampling; the browser engine follows the same rule."""
    logits = logits.reshape(-1).float()
    if temperature <= 0:
        return int(logits.argmax())
    probs = (logits / temperature).softmax(-1)
    sorted_p, idx = probs.sort(descending=True)
    keep = sorted_p.cumsum(0) - sorted_p < top_p
    sorted_p = sorted_p * keep
    choice = torch.multinomial(sorted_p / sorted_p.sum(), 1, generator=generator)
    return int(idx[choice])


@torch.no_grad()
def generate(model: Transformer, prompt_ids: list[int], max_new_tokens: int, eos_ids: set[int], lora: LoraTensors | None = None,
             until: Callable[[list[int]], bool] | None = None) -> list[int]:
    """Greedy decode with a KV cache; returns only the new tokens. Stops at an eos token (not kept), after
    max_new_tokens, or once `until(tokens so far)` is true (the token that made it true is kept)."""
    ids = torch.tensor([prompt_ids])
    logits, past, _ = model(ids, lora=lora)
    out: list[int] = []
    for _ in range(max_new_tokens):
        nxt = int(logits[0, -1].argmax())
        if nxt in eos_ids:
            break
        out.append(nxt)
        if len(out) == max_new_tokens or (until is not None and until(out)):
            break
        logits, past, _ = model(torch.tensor([[nxt]]), past=past, lora=lora)
    return out
