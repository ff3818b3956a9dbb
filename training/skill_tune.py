"""Skill-tune a base model: a LoRA trained on skill-in-context conversations through the model's own chat template,
with a KL anchor to the untouched base on ordinary prose so that it stays a language model.

    python -m training.skill_tune --config training/configs/skill-tune-gemma.json [--max_minutes 100] [--init FILE]

Why: Gemma 3 270M on PyPI is the pretrained base; given a SKILL.md in context it echoes it. Every published
text-to-LoRA result stands on an instruction-tuned base, and Hypter tuned the main model on the task format first.

Data, drawn on the fly and deterministic per (seed, step): a train-split skill of the library (train families,
train parameter combinations, train phrasings) and a conversation over it (single, several requests, follow-ups,
a correction after a wrong answer), rendered with the SKILL.md as the system turn (Gemma's template folds it into
the first user turn). Loss: cross-entropy on the gold answer tokens (end-of-turn included) of every assistant turn
marked as a target, plus anchor_weight x KL(base || tuned) on `anchor_positions` positions of one ordinary-prose
sequence per step (Python's own reference documentation, pydoc_data.topics; the topics of general_text.HELDOUT are
never trained on and serve the perplexity check).

Checkpoints (ckpt.pt: LoRA, optimiser, step, log) every few minutes in --out, and resumes from there. Runs vanish when
a machine is wiped, so the delta is also written as float16 safetensors (`delta.safetensors`, LoRA A/B per module
with the training record in its metadata) at every checkpoint; --init FILE resumes from such a committed delta (its
weights and step; the optimiser state starts afresh). build_gemma_pack merges the committed delta into the weights.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import save_file

from . import general_text
from .config import add_config_args, config_from_args, effective_bf16, step_lr
from .conversations import encode_conversation, load_tokenizer, with_skill
from .export.pack import git_commit
from .hf_checkpoint import load_checkpoint
from .make_data import skill_conversation
from .model import Transformer
from .skills.splits import LibraryConfig, build_library
from .small_data import Row, collate, pack_rows
# The hypernetwork trainer's right-padding.
from .train_hypernet import pad

DELTA_FORMAT = "parametric-skills-delta"
DELTA_VERSION = 1
ATTENTION_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")
ALL_MODULES = [*ATTENTION_MODULES, "gate_proj", "up_proj", "down_proj"]


def projection(layer, module: str):
    """The linear layer `module` of a decoder layer: ours and transformers' name them alike."""
    return getattr(layer.self_attn if module in ATTENTION_MODULES else layer.mlp, module)


@dataclass
class SkillTuneConfig:
    base: str = ".build/gemma-3-270m-hf"  # a Hugging Face folder (weights + tokenizer with its chat template)
    out: str = "training/runs/skill-tune-gemma"
    seed: int = 0
    data_seed: int = 0  # the skill library's seed (make_data --seed): which families and combos are held out
    rank: int = 16
    alpha: float = 32.0
    target_modules: list[str] = field(default_factory=lambda: list(ALL_MODULES))
    lr: float = 2e-4
    weight_decay: float = 0.0
    warmup_steps: int = 20
    max_steps: int = 2000
    max_minutes: float = 100.0
    batch_size: int = 8  # conversations per optimiser step
    micro_tokens: int = 2048  # padded tokens per forward pass (conversations of similar length share one)
    max_seq: int = 1024  # longer conversations (skill included) are redrawn
    # Conversations per skill sharing one copy of the skill in a row (packed_mask): 1 = one conversation per row, as
    # the run began; k > 1 draws batch_size / k skills with k conversations each and computes the skill's tokens once.
    pack_conversations: int = 1
    anchor_weight: float = 1.0
    anchor_tokens: int = 256
    anchor_positions: int = 64
    bf16: bool = True  # autocast matmuls to bfloat16 on the CPU (the LoRA and the loss stay float32); float32 where the CPU would emulate it
    checkpoint_minutes: float = 10.0
    log_every: int = 5
    threads: int = 2


class SkillLora(torch.nn.Module):
    """LoRA A [layers, in, r] and B [layers, r, out] per target module, in the model's LoraTensors layout.
    B starts at zero, so training starts from the base."""

    def __init__(self, model: Transformer, rank: int, alpha: float, modules: list[str], seed: int):
        super().__init__()
        c = model.config
        self.scale = alpha / rank
        g = torch.Generator().manual_seed(seed)
        self.a = torch.nn.ParameterDict()
        self.b = torch.nn.ParameterDict()
        for m in modules:
            i, o = c.module_shape(m)
            # PEFT's default: A uniform in +-1/sqrt(in).
            self.a[m] = torch.nn.Parameter((torch.rand(c.num_hidden_layers, i, rank, generator=g) * 2 - 1) / math.sqrt(i))
            self.b[m] = torch.nn.Parameter(torch.zeros(c.num_hidden_layers, rank, o))

    def tensors(self) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        return {m: (self.a[m], self.b[m] * self.scale) for m in self.a}


def save_delta(lora: SkillLora, path: Path, record: dict) -> None:
    """float16 A and B (B without the scale), the scale and training record in the metadata."""
    tensors = {}
    for m in lora.a:
        tensors[f"{m}.lora_A"] = lora.a[m].detach().half().contiguous()
        tensors[f"{m}.lora_B"] = lora.b[m].detach().half().contiguous()
    meta = {"format": DELTA_FORMAT, "version": str(DELTA_VERSION), "scale": repr(lora.scale), "record": json.dumps(record)}
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=meta)
    tmp.replace(path)


def load_delta(path: Path) -> tuple[dict[str, tuple[torch.Tensor, torch.Tensor]], float, dict]:
    """(module -> (A [L,in,r], B [L,r,out]) in float32, scale, training record); refuses other files by name."""
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        if meta.get("format") != DELTA_FORMAT or meta.get("version") != str(DELTA_VERSION):
            raise ValueError(f"{path}: not a {DELTA_FORMAT} v{DELTA_VERSION} file (format {meta.get('format')!r}, version {meta.get('version')!r})")
        names = sorted({k.rsplit(".", 1)[0] for k in f.keys()})
        pairs = {m: (f.get_tensor(f"{m}.lora_A").float(), f.get_tensor(f"{m}.lora_B").float()) for m in names}
    return pairs, float(meta["scale"]), json.loads(meta.get("record", "{}"))


@torch.no_grad()
def merge_delta(model: Transformer, path: Path) -> dict:
    """Fold a skill-tune delta into the model's projection weights in place: W += scale * (A B)^T. Returns its record."""
    pairs, scale, record = load_delta(path)
    for i, layer in enumerate(model.model.layers):
        for m, (a, b) in pairs.items():
            weight = projection(layer, m).weight
            if a.shape[0] != len(model.model.layers) or (a.shape[1], b.shape[2]) != (weight.shape[1], weight.shape[0]):
                raise ValueError(f"{path}: {m} is {tuple(a.shape)} x {tuple(b.shape)}, the model's weight is {tuple(weight.shape)}")
            weight += scale * (a[i] @ b[i]).T
    return record


def peft_merged(hf_model, path: Path):
    """A transformers model with a skill-tune delta applied by Hugging Face peft (LoRA weights set per layer, then
    merge_and_unload): the independent reference for our merge. peft is a test dependency, imported here only."""
    from peft import LoraConfig, get_peft_model

    pairs, scale, _ = load_delta(path)
    rank = next(iter(pairs.values()))[0].shape[-1]
    model = get_peft_model(hf_model, LoraConfig(r=rank, lora_alpha=scale * rank, target_modules=sorted(pairs), lora_dropout=0.0))
    with torch.no_grad():
        for i, layer in enumerate(model.base_model.model.model.layers):
            for m, (a, b) in pairs.items():
                projection(layer, m).lora_A["default"].weight.copy_(a[i].T)
                projection(layer, m).lora_B["default"].weight.copy_(b[i].T)
    return model.merge_and_unload().eval()


class Conversations:
    """Skill-in-context training conversations, drawn deterministically from (seed, step, index)."""

    def __init__(self, cfg: SkillTuneConfig, tok):
        self.skills = [s for s in build_library(cfg.data_seed, LibraryConfig()) if s.split == "train"]
        self.tok, self.cfg = tok, cfg
        self.redrawn = 0

    def example(self, step: int, index: int) -> tuple[list[int], list[bool]]:
        rng = random.Random(f"{self.cfg.seed}:skill-tune:{step}:{index}")
        while True:
            skill = rng.choice(self.skills)
            conv = skill_conversation(skill, rng)
            ids, mask = encode_conversation(self.tok, with_skill(conv.messages, skill.to_markdown()))
            if len(ids) <= self.cfg.max_seq:
                return ids, mask
            self.redrawn += 1


    def packed(self, step: int, index: int) -> tuple[list[Row], int]:
        """(rows, conversations) of one skill: pack_conversations conversations after one copy of their common
        prefix (the template's opening and the skill, cut before any answer token), at most max_seq tokens a row."""
        rng = random.Random(f"{self.cfg.seed}:skill-tune:{step}:{index}:packed")
        skill = rng.choice(self.skills)
        md = skill.to_markdown()
        convs = []
        while len(convs) < self.cfg.pack_conversations:
            ids, mask = encode_conversation(self.tok, with_skill(skill_conversation(skill, rng).messages, md))
            if len(ids) <= self.cfg.max_seq:
                convs.append((ids, mask))
            else:
                self.redrawn += 1
        return pack_skill(convs, self.cfg.max_seq), len(convs)


def pack_skill(convs: list[tuple[list[int], list[bool]]], max_tokens: int) -> list[Row]:
    """Conversations over one skill (token ids, answer mask) in rows that hold their common prefix once. The prefix
    stops before the first answer token of any of them, so no row scores a token whose predecessor in the row is
    another conversation's."""
    cut = min(min(m.index(True) for _, m in convs) - 1, common_prefix([ids for ids, _ in convs]))
    return pack_rows(convs[0][0][:cut], [(ids[cut:], [int(x) for x in mask[cut:]]) for ids, mask in convs], max_tokens)


def common_prefix(seqs: list[list[int]]) -> int:
    """Length of the longest prefix all sequences share."""
    n = min(len(s) for s in seqs)
    for i in range(n):
        if any(s[i] != seqs[0][i] for s in seqs[1:]):
            return i
    return n


def micro_batches(examples: list[tuple[list[int], list[bool]]], budget: int) -> list[list[int]]:
    """Indices grouped by length so that each group's padded size stays within budget tokens."""
    order = sorted(range(len(examples)), key=lambda j: len(examples[j][0]))
    groups: list[list[int]] = []
    for j in order:
        if groups and len(examples[j][0]) * (len(groups[-1]) + 1) <= budget:
            groups[-1].append(j)
        else:
            groups.append([j])
    return groups


def anchor_kl(model: Transformer, lora, seq: list[int], positions: int, rng: random.Random) -> torch.Tensor:
    """KL(base || tuned) over the whole vocabulary at `positions` random positions of one ordinary-text sequence."""
    ids = torch.tensor([seq])
    sel = torch.zeros(1, len(seq) - 1, dtype=torch.bool)
    sel[0, rng.sample(range(len(seq) - 1), min(positions, len(seq) - 1))] = True
    with torch.no_grad():
        ref, _, _ = model(ids[:, :-1], logit_mask=sel)
    got, _, _ = model(ids[:, :-1], lora=lora, logit_mask=sel)
    return F.kl_div(got.float().log_softmax(-1), ref.float().log_softmax(-1), log_target=True, reduction="batchmean")


def main(argv: list[str] | None = None) -> SkillLora:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", type=Path)
    ap.add_argument("--init", type=Path, help="resume from a committed delta (weights and step; fresh optimiser)")
    add_config_args(ap, SkillTuneConfig)
    args = ap.parse_args(argv)
    cfg = config_from_args(SkillTuneConfig, args, skip=("config", "init"))
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    command = shlex.join(["python", "-m", "training.skill_tune", *(argv if argv is not None else sys.argv[1:])])

    model = load_checkpoint(cfg.base)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    tok = load_tokenizer(cfg.base)
    lora = SkillLora(model, cfg.rank, cfg.alpha, cfg.target_modules, cfg.seed)
    opt = torch.optim.AdamW(lora.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    data = Conversations(cfg, tok)
    prose = general_text.token_sequences(tok, general_text.train_topics(), cfg.anchor_tokens)
    step, log, totals = 0, [], {"tokens": 0, "answer_tokens": 0, "conversations": 0, "train_s": 0.0}
    resumed_from = None
    ckpt = out / "ckpt.pt"
    if ckpt.exists():
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
        lora.load_state_dict(state["lora"])
        opt.load_state_dict(state["opt"])
        step, log, totals = state["step"], state["log"], state["totals"]
        # the run's lineage (the committed delta it began from) stays on record; older checkpoints kept it in record.json
        prior = out / "record.json"
        resumed_from = state.get("resumed_from", json.loads(prior.read_text()).get("resumed_from") if prior.exists() else None)
        print(f"resumed from {ckpt} at step {step}", flush=True)
    elif args.init:
        pairs, scale, record = load_delta(args.init)
        if abs(scale - lora.scale) > 1e-9 or set(pairs) != set(lora.a):
            raise SystemExit(f"{args.init} has scale {scale} and modules {sorted(pairs)}; this config wants {lora.scale} and {sorted(lora.a)}")
        with torch.no_grad():
            for m, (a, b) in pairs.items():
                lora.a[m].copy_(a)
                lora.b[m].copy_(b)
        step, log, totals = record["step"], record.get("log", []), record["totals"]
        resumed_from = {"file": str(args.init), "step": step}
        print(f"resumed from the delta {args.init} at step {step} (fresh optimiser state)", flush=True)

    def record() -> dict:
        return {"command": command, "config": asdict(cfg), "step": step, "totals": totals, "log": log,
                "resumed_from": resumed_from, "commit": git_commit(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}

    def save() -> None:
        torch.save({"lora": lora.state_dict(), "opt": opt.state_dict(), "step": step, "log": log, "totals": totals,
                    "resumed_from": resumed_from}, out / "ckpt.tmp")
        (out / "ckpt.tmp").replace(ckpt)
        rec = record()
        save_delta(lora, out / "delta.safetensors", rec)
        (out / "record.json").write_text(json.dumps(rec, indent=1) + "\n")

    t_start = t_ckpt = time.time()
    window = {"ce": 0.0, "ce_tokens": 0, "anchor": 0.0, "n": 0}
    cfg.bf16 = effective_bf16(cfg.bf16)  # the record says what ran
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16)
    while step < cfg.max_steps and (time.time() - t_start) / 60 < cfg.max_minutes:
        t_step = time.time()
        for g in opt.param_groups:
            g["lr"] = step_lr(step, cfg)  # warmup + cosine to 0.1 x lr over max_steps (no clock)
        if cfg.pack_conversations > 1:
            packs = [data.packed(step, k) for k in range(math.ceil(cfg.batch_size / cfg.pack_conversations))]
            rows = [r for rs, _ in packs for r in rs]
            examples = [(r.ids, [bool(x) for x in r.mask]) for r in rows]
            n_conversations = sum(n for _, n in packs)
        else:
            rows, examples = None, [data.example(step, k) for k in range(cfg.batch_size)]
            n_conversations = len(examples)
        n_answer = sum(sum(m[1:]) for _, m in examples)
        opt.zero_grad(set_to_none=True)
        ce_sum = 0.0
        for group in micro_batches(examples, cfg.micro_tokens):
            if rows is None:
                ids = pad([examples[j][0] for j in group], 0)
                mask = pad([examples[j][1] for j in group], False)
                attn = pad([[1] * len(examples[j][0]) for j in group], 0)
                extra = {"attn_mask": attn[:, :-1]}
            else:
                batch = collate([rows[j] for j in group], 0)
                ids, mask, attn = batch["ids"], batch["mask"], batch["segment"] >= 0
                extra = {"position_ids": batch["position"][:, :-1], "segment": batch["segment"][:, :-1]}
            sel = mask[:, 1:]
            with autocast:
                logits, _, _ = model(ids[:, :-1], lora=lora.tensors(), logit_mask=sel, **extra)
            # Token-weighted mean over the step's answer tokens, summed over micro-batches.
            ce = F.cross_entropy(logits.float(), ids[:, 1:][sel], reduction="sum")
            (ce / n_answer).backward()
            ce_sum += float(ce.detach())
            totals["tokens"] += int(attn.sum())
        anchor = torch.tensor(0.0)
        if cfg.anchor_weight > 0:
            arng = random.Random(f"{cfg.seed}:anchor:{step}")
            with autocast:
                anchor = anchor_kl(model, lora.tensors(), arng.choice(prose), cfg.anchor_positions, arng)
            (cfg.anchor_weight * anchor).backward()
            totals["tokens"] += cfg.anchor_tokens
        torch.nn.utils.clip_grad_norm_(lora.parameters(), 1.0)
        opt.step()
        step += 1
        totals["answer_tokens"] += n_answer
        totals["conversations"] += n_conversations
        totals["train_s"] = round(totals["train_s"] + time.time() - t_step, 1)
        window["ce"] += ce_sum
        window["ce_tokens"] += n_answer
        window["anchor"] += float(anchor.detach())
        window["n"] += 1
        if step % cfg.log_every == 0 or step == cfg.max_steps:
            log.append({"step": step, "ce": round(window["ce"] / max(1, window["ce_tokens"]), 4),
                        "anchor_kl": round(window["anchor"] / window["n"], 5), "lr": opt.param_groups[0]["lr"],
                        "tokens": totals["tokens"], "train_s": totals["train_s"], "redrawn": data.redrawn})
            print(json.dumps(log[-1]), flush=True)
            window = {"ce": 0.0, "ce_tokens": 0, "anchor": 0.0, "n": 0}
        if (time.time() - t_ckpt) / 60 > cfg.checkpoint_minutes:
            save()
            t_ckpt = time.time()
    save()
    print(f"saved {out / 'delta.safetensors'} after {step} steps", flush=True)
    return lora


if __name__ == "__main__":
    main()
