"""The hypernetwork: skill text hidden states -> LoRA A and B for every (layer, module) target.

Forward for one skill, h = base hidden states of the skill text at the encoder layers [E, T, H]:
  1. x = sum_e softmax(layer_mix)_e * h_e                         [T, H]   learned mix of encoder layers
  2. u = rmsnorm(x) * in_norm @ in_proj.weight^T + in_proj.bias   [T, D]
  3. attention pooling, one learned query per target, P heads:
     k = u @ k_proj^T, v = u @ v_proj^T; a = softmax_t(q_h . k_h / sqrt(D/P)); z = concat_h(a v_h) @ o_proj^T   [N, D]
  4. z = z + fc2(gelu_tanh(fc1(rmsnorm(z) * mlp_norm)))           [N, D]
  5. z = rmsnorm(z) * out_norm
  6. per module m: A = (z_n @ head_a[m]^T + bias).view(in, r); B = (z_n @ head_b[m]^T + bias).view(r, out)
Targets are ordered layer-major: n = layer * len(modules) + module_index. head_b starts at zero, so a
fresh hypernetwork yields B = 0: the adapted model starts as the base model.
  7. (bias_rank > 0, file format version 2) the first bias_rank of the rank's components are a learned
     input-independent LoRA per (layer, module): A = [bias_a | A_gen], B = [bias_b ; B_gen], the heads emit the other
     rank - bias_rank. What every skill shares can live there; `generated_size` measures the skill-dependent part,
     which training can penalise so that only reading the skill pays for it.
  6'. (head "atoms", file format version 3, in place of 6) per module m a bank of K learned LoRA atoms shared by all
     layers, atoms_a[m] [K, in, g] and atoms_b[m] [K, g, out] (g = rank - bias_rank), and per module coefficient
     heads: c = z_n @ coef_a[m]^T + bias, d = z_n @ coef_b[m]^T + bias (K each); A = sum_k c_k atoms_a[m][k],
     B = sum_k d_k atoms_b[m][k]. About K (in + out) g parameters per module against the ab heads' D (in + out) g
     (fewer while K < D), and every adapter lies in a space that all skills and layers share. coef_b starts at zero
     (B = 0), the atoms random.
  6''. (head "tokens", file format version 4, in place of 6) every rank component is read off the skill's own tokens,
     as a context's tokens change a linear-attention layer's weights by sum_t (W_v h_t)(W_k h_t)^T: per target n and
     component j two single-head attentions over the skill's tokens (keys tok_k(u), learned queries tok_qa[n, j] and
     tok_qb[n, j]) pool the normed hidden states xn = rmsnorm(x) * in_norm [T, H] into a_nj and b_nj [H];
     A[:, j] = tok_pa[m](a_nj) / sqrt(in), B[j, :] = gain_nj * tok_pb[m](b_nj) / sqrt(out), with tok_pa / tok_pb
     per-module H -> in / out maps shared by all layers (identity at the start where square) and gain = tok_gain[m](z_n)
     from step 5's vector (zero at the start: B = 0). A token of the skill (a prefix, a separator) can so enter the
     adapter as a direction without passing the D-wide heads.

The WGSL kernels (src/kernels/) and the TypeScript CPU path implement exactly steps 1-6 (file format version 1)
and are tested against this module's outputs.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .model import LoraSpec, ModelConfig

HYPERNET_FORMAT = "parametric-skills-hypernet"
HYPERNET_FORMAT_VERSION = 1  # version 2: bias_rank > 0; version 3: head "atoms"; version 4: head "tokens" (the app reads version 1)
HEADS = ("ab", "atoms", "tokens")
RMS_EPS = 1e-6


@dataclass
class HypernetConfig:
    hidden_size: int  # base model hidden size H
    num_encoder_layers: int  # E
    num_layers: int  # base model layers that get adapters
    modules: list[str]
    module_in: list[int]
    module_out: list[int]
    rank: int
    d_model: int = 256
    num_heads: int = 4
    mlp_hidden: int = 512
    a_init_std: float = 0.02
    bias_rank: int = 0  # leading rank components that are a learned input-independent LoRA (step 7)
    # The base layers whose hidden states it reads, when not the pack's (manifest encoder.layers); None: the pack's.
    encoder_layers: list[int] | None = None
    head: str = "ab"  # "ab": per-module linear heads emit A and B (step 6); "atoms": mixtures of learned atoms (step 6'); "tokens": read off the skill's tokens (step 6'')
    num_atoms: int = 16  # K, with head "atoms"

    @classmethod
    def for_base(cls, base: ModelConfig, lora: LoraSpec, num_encoder_layers: int, **kw) -> "HypernetConfig":
        shapes = [base.module_shape(m) for m in lora.target_modules]
        return cls(hidden_size=base.hidden_size, num_encoder_layers=num_encoder_layers, num_layers=base.num_hidden_layers,
                   modules=list(lora.target_modules), module_in=[s[0] for s in shapes], module_out=[s[1] for s in shapes],
                   rank=lora.rank, **kw)

    @property
    def generated_rank(self) -> int:
        return self.rank - self.bias_rank

    @property
    def format_version(self) -> int:
        return {"atoms": 3, "tokens": 4}.get(self.head, 2 if self.bias_rank else 1)

    def reads_layers(self, manifest: dict) -> list[int]:
        """The base layers this hypernetwork reads in a pack with this manifest."""
        return list(self.encoder_layers) if self.encoder_layers is not None else list(manifest["encoder"]["layers"])

    @property
    def num_targets(self) -> int:
        return self.num_layers * len(self.modules)

    def to_json(self) -> str:
        """Fields at their defaults that older files lack are left out, so a version-1 file's config is what it was
        before they existed (the app reads version 1)."""
        d = asdict(self)
        if self.head == "ab":
            del d["head"], d["num_atoms"]
        elif self.head != "atoms":
            del d["num_atoms"]
        if not self.bias_rank:
            del d["bias_rank"]
        if self.encoder_layers is None:
            del d["encoder_layers"]
        return json.dumps(d)


def rms_norm(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + RMS_EPS) * weight


class Hypernetwork(nn.Module):
    def __init__(self, config: HypernetConfig):
        super().__init__()
        c = self.config = config
        if c.encoder_layers is not None and len(c.encoder_layers) != c.num_encoder_layers:
            raise ValueError(f"encoder_layers {c.encoder_layers} must name num_encoder_layers ({c.num_encoder_layers}) layers")
        if not 0 <= c.bias_rank < c.rank:
            raise ValueError(f"bias_rank must be in [0, rank), not {c.bias_rank} (rank {c.rank})")
        if c.head not in HEADS:
            raise ValueError(f"head must be one of {', '.join(HEADS)}, not {c.head!r}")
        if c.head == "atoms" and c.num_atoms < 1:
            raise ValueError(f"num_atoms must be at least 1, not {c.num_atoms}")
        g = c.generated_rank
        self.layer_mix = nn.Parameter(torch.zeros(c.num_encoder_layers))
        self.in_norm = nn.Parameter(torch.ones(c.hidden_size))
        self.in_proj = nn.Linear(c.hidden_size, c.d_model)
        self.queries = nn.Parameter(torch.randn(c.num_targets, c.d_model) * 0.02)
        self.k_proj = nn.Linear(c.d_model, c.d_model, bias=False)
        self.v_proj = nn.Linear(c.d_model, c.d_model, bias=False)
        self.o_proj = nn.Linear(c.d_model, c.d_model, bias=False)
        self.mlp_norm = nn.Parameter(torch.ones(c.d_model))
        self.fc1 = nn.Linear(c.d_model, c.mlp_hidden)
        self.fc2 = nn.Linear(c.mlp_hidden, c.d_model)
        self.out_norm = nn.Parameter(torch.ones(c.d_model))
        if c.head == "atoms":
            # Atoms of std 1/sqrt(K): a coefficient vector of unit-RMS entries mixes them into A or B of unit-RMS
            # entries, so the coefficient heads below start as head_a / head_b do and A has their scale.
            k = c.num_atoms
            self.atoms_a = nn.ParameterList(nn.Parameter(torch.randn(k, i, g) / math.sqrt(k)) for i in c.module_in)
            self.atoms_b = nn.ParameterList(nn.Parameter(torch.randn(k, g, o) / math.sqrt(k)) for o in c.module_out)
            self.coef_a = nn.ModuleList(nn.Linear(c.d_model, k) for _ in c.module_in)
            self.coef_b = nn.ModuleList(nn.Linear(c.d_model, k) for _ in c.module_out)
            heads_a, heads_b = self.coef_a, self.coef_b
        elif c.head == "tokens":
            h = c.hidden_size
            # Queries of unit scale: the attentions start spread out but each component on its own tokens.
            self.tok_k = nn.Linear(c.d_model, c.d_model, bias=False)
            self.tok_qa = nn.Parameter(torch.randn(c.num_targets, g, c.d_model))
            self.tok_qb = nn.Parameter(torch.randn(c.num_targets, g, c.d_model))
            self.tok_pa = nn.ModuleList(nn.Linear(h, i, bias=False) for i in c.module_in)
            self.tok_pb = nn.ModuleList(nn.Linear(h, o, bias=False) for o in c.module_out)
            self.tok_gain = nn.ModuleList(nn.Linear(c.d_model, g) for _ in c.module_out)
            with torch.no_grad():
                for proj in [*self.tok_pa, *self.tok_pb]:
                    if proj.weight.shape[0] == h:
                        proj.weight.copy_(torch.eye(h))
                    else:
                        proj.weight.normal_(0, 1 / math.sqrt(h))
                for gain in self.tok_gain:
                    gain.weight.zero_()
                    gain.bias.zero_()
            heads_a, heads_b = [], []
        else:
            self.head_a = nn.ModuleList(nn.Linear(c.d_model, i * g) for i in c.module_in)
            self.head_b = nn.ModuleList(nn.Linear(c.d_model, g * o) for o in c.module_out)
            heads_a, heads_b = self.head_a, self.head_b
        if c.bias_rank:
            # A as PEFT initialises LoRA A (random, unit scale on unit inputs), B zero: the bias starts as no change.
            # A at the generated A's scale (head weight a_init_std over d_model inputs of unit RMS, plus its bias), so
            # the shared part moves as fast as the generated one.
            # (The tokens head's A columns are pooled normed states over sqrt(in): entries of about 1 / sqrt(in).)
            a_std = (lambda i: 1 / math.sqrt(i)) if c.head == "tokens" else (lambda i: math.sqrt(c.a_init_std ** 2 * c.d_model + 1 / i))
            self.bias_a = nn.ParameterList(nn.Parameter(torch.randn(c.num_layers, i, c.bias_rank) * a_std(i)) for i in c.module_in)
            self.bias_b = nn.ParameterList(nn.Parameter(torch.zeros(c.num_layers, c.bias_rank, o)) for o in c.module_out)
        with torch.no_grad():
            for i, head in zip(c.module_in, heads_a):
                # A starts near a random projection of unit scale, as PEFT's kaiming init does for LoRA A.
                head.weight.normal_(0, c.a_init_std)
                head.bias.normal_(0, 1 / math.sqrt(i))
            # B = 0. With atoms, the coefficients d are zero and atoms_b random, not the reverse: d's gradient
            # <dL/dB, atoms_b[k]> is non-zero from the first step and the atoms stay distinct directions (zero atoms
            # would all start along the same gradient; both zero and nothing trains).
            for head in heads_b:
                head.weight.zero_()
                head.bias.zero_()

    def pool(self, hidden: torch.Tensor, mask: torch.Tensor | None = None, tokens: bool = False):
        """hidden [B, E, T, H] (mask [B, T], 1 = token) -> one vector per target [B, N, D]; tokens: also the normed
        token states xn [B, T, H] and their projections u [B, T, D]."""
        c = self.config
        x = torch.einsum("e,betd->btd", self.layer_mix.softmax(0), hidden)
        xn = rms_norm(x, self.in_norm)
        u = self.in_proj(xn)
        bsz, t, d = u.shape
        hd = d // c.num_heads
        k = self.k_proj(u).view(bsz, t, c.num_heads, hd).transpose(1, 2)  # [B, P, T, hd]
        v = self.v_proj(u).view(bsz, t, c.num_heads, hd).transpose(1, 2)
        q = self.queries.view(c.num_targets, c.num_heads, hd).transpose(0, 1)  # [P, N, hd]
        scores = torch.einsum("pnd,bptd->bpnt", q, k) / math.sqrt(hd)
        if mask is not None:
            scores = scores.masked_fill(~mask[:, None, None, :].bool(), float("-inf"))
        z = torch.einsum("bpnt,bptd->bpnd", scores.softmax(-1), v).transpose(1, 2).reshape(bsz, c.num_targets, d)
        z = self.o_proj(z)
        z = z + self.fc2(F.gelu(self.fc1(rms_norm(z, self.mlp_norm)), approximate="tanh"))
        z = rms_norm(z, self.out_norm)
        return (z, xn, u) if tokens else z

    def read_tokens(self, xn: torch.Tensor, u: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Step 6'': the pooled token states per target and component, a and b [B, N, g, H]."""
        k = self.tok_k(u)  # [B, T, D]
        scale = 1 / math.sqrt(k.shape[-1])
        pooled = []
        for q in (self.tok_qa, self.tok_qb):
            scores = torch.einsum("njd,btd->bnjt", q, k) * scale
            if mask is not None:
                scores = scores.masked_fill(~mask[:, None, None, :].bool(), float("-inf"))
            pooled.append(torch.einsum("bnjt,bth->bnjh", scores.softmax(-1), xn))
        return pooled[0], pooled[1]

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None = None, with_pooled: bool = False):
        """LoRA per module: A [B, layers, in, r], B [B, layers, r, out] (scale not applied); with_pooled: also the
        per-target vectors the heads read ([B, N, D], pool's output), as (lora, vectors)."""
        c = self.config
        if c.head == "tokens":
            z, xn, u = self.pool(hidden, mask, tokens=True)
            ta, tb = (t.view(-1, c.num_layers, len(c.modules), c.generated_rank, c.hidden_size) for t in self.read_tokens(xn, u, mask))
        else:
            z = self.pool(hidden, mask)
        pooled = z
        z = z.view(-1, c.num_layers, len(c.modules), c.d_model)
        out = {}
        for mi, m in enumerate(c.modules):
            zi = z[:, :, mi]
            if c.head == "tokens":
                a = self.tok_pa[mi](ta[:, :, mi]).transpose(-1, -2) / math.sqrt(c.module_in[mi])  # [B, L, in, g]
                b = self.tok_pb[mi](tb[:, :, mi]) * self.tok_gain[mi](zi)[..., None] / math.sqrt(c.module_out[mi])  # [B, L, g, out]
            elif c.head == "atoms":
                a = torch.einsum("blk,kir->blir", self.coef_a[mi](zi), self.atoms_a[mi])
                b = torch.einsum("blk,kro->blro", self.coef_b[mi](zi), self.atoms_b[mi])
            else:
                a = self.head_a[mi](zi).view(-1, c.num_layers, c.module_in[mi], c.generated_rank)
                b = self.head_b[mi](zi).view(-1, c.num_layers, c.generated_rank, c.module_out[mi])
            if c.bias_rank:
                n = a.shape[0]
                a = torch.cat([self.bias_a[mi].expand(n, -1, -1, -1), a], dim=-1)
                b = torch.cat([self.bias_b[mi].expand(n, -1, -1, -1), b], dim=-2)
            out[m] = (a, b)
        return (out, pooled) if with_pooled else out

    def without_bias(self, lora: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """The adapter with its bias LoRA switched off (B's bias rows zero): for every slot after the first when several
        skills are active, so that the part all skills share is applied once, not once per skill."""
        k = self.config.bias_rank
        if not k:
            return lora
        return {m: (a, torch.cat([torch.zeros_like(b[..., :k, :]), b[..., k:, :]], dim=-2)) for m, (a, b) in lora.items()}

    def generated_size(self, lora: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        """Mean over adapters, layers and modules of ||A_gen B_gen||_F^2 / (in * out), the squared size of the
        skill-dependent part of each weight change (scale not applied), from r x r products:
        ||A B||_F^2 = tr((A^T A)(B B^T)). With bias_rank 0 it is the whole adapter's."""
        k = self.config.bias_rank
        sizes = []
        for a, b in lora.values():
            a, b = a[..., k:], b[..., k:, :]
            gram = torch.einsum("...ir,...is->...rs", a, a) * torch.einsum("...ro,...so->...rs", b, b)
            sizes.append(gram.sum((-2, -1)) / (a.shape[-2] * b.shape[-1]))
        return torch.stack(sizes).mean()


def compose_slots(adapters: list[dict[str, tuple[torch.Tensor, torch.Tensor]]], scales: list[float], lora: LoraSpec,
                  fill_slots: bool = True) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Adapters in slots, one LoRA: rank-concatenate the adapters (each A [..., L, in, r], B [..., L, r, out]; leading
    dims such as the trainer's batch are kept) with alpha / r and each adapter's own scale folded into B. fill_slots:
    the unused slots up to the pack's `slots` stay zero (the engine's stacked LoRA inputs, as the app and the benchmark
    run them); False: only the given slots (training, which has no use for zero rank)."""
    if not adapters:
        raise ValueError("compose_slots needs at least one adapter")
    if len(adapters) > lora.slots:
        raise ValueError(f"{len(adapters)} adapters, but the pack has {lora.slots} slots")
    fold = lora.alpha / lora.rank
    out = {}
    for m in lora.target_modules:
        a = [adapter[m][0] for adapter in adapters]
        b = [adapter[m][1] * fold if scale == 1.0 else adapter[m][1] * fold * scale for adapter, scale in zip(adapters, scales)]
        unused = lora.total_rank - sum(x.shape[-1] for x in a)
        if fill_slots and unused > 0:
            a.append(a[0].new_zeros(*a[0].shape[:-1], unused))
            b.append(b[0].new_zeros(*b[0].shape[:-2], unused, b[0].shape[-1]))
        out[m] = (torch.cat(a, dim=-1), torch.cat(b, dim=-2))
    return out


def save_hypernet(model: Hypernetwork, path, chunk_tokens: int, provenance: dict, dtype: torch.dtype = torch.float32) -> None:
    """Config in the safetensors __metadata__; chunkTokens is the skill encoder's chunk length, shared with training.
    dtype float16 halves the file (the app widens it to f32 at load; the values are then the fp16-rounded ones)."""
    from safetensors.torch import save_file

    meta = {"format": HYPERNET_FORMAT, "formatVersion": str(model.config.format_version), "config": model.config.to_json(),
            "chunkTokens": str(chunk_tokens), "provenance": json.dumps(provenance)}
    save_file({k: v.detach().to(dtype).cpu().contiguous() for k, v in model.state_dict().items()}, str(path), metadata=meta)


def load_hypernet(path) -> Hypernetwork:
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    try:
        config = HypernetConfig(**json.loads(meta["config"])) if meta.get("format") == HYPERNET_FORMAT else None
    except TypeError as e:  # a field this code does not know: a newer file
        raise ValueError(f"{path}: its config does not fit this version of the code ({e})") from None
    if config is None or meta.get("formatVersion") != str(config.format_version):
        raise ValueError(f"{path}: not a {HYPERNET_FORMAT} v1 to v4 file")
    model = Hypernetwork(config)
    model.load_state_dict(load_file(str(path)))
    return model.eval()


__all__ = ["HypernetConfig", "Hypernetwork", "compose_slots", "save_hypernet", "load_hypernet"]
