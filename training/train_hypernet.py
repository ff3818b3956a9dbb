"""Train the hypernetwork for one pack with the base model frozen.

python -m training.train_hypernet --config training/configs/hypernet-small.json [--seed 1] [--max_minutes 30]
torchrun --nproc_per_node=N -m training.train_hypernet --config ... [--device cuda]   # data parallel, docs/training-gpu.md

Student = base + LoRA generated from the skill text, with the skill NOT in context; loss = cross-entropy on
the gold answers (decisive_weight > 1: the answer tokens the base alone gets wrong, the ones the skill decides,
weigh more; found once by a base forward and cached) + (kl_weight > 0) KL to the skill-in-context teacher on the
answer tokens, on the examples the teacher answers right (teacher_gate "correct"; "all": every example), its
top-k distributions cached once (training/teacher.py) + an anchor term (KL to the base model on conversations
of other skills, so an adapter leaves unrelated prompts alone). Some steps put 2-3 skills' adapters in separate
slots at once, training each on its own skill's answers, so that adapters accumulate. The base is frozen, so skill
encodings are computed once and cached. Checkpoints every few minutes and resumes from the last one.

Under torchrun every process (rank) trains the same hypernetwork, wrapped in DistributedDataParallel, on its own
examples (its own random stream), so one step sees batch_size * world_size examples; gradients are averaged
across ranks and the learning rate is not scaled. Rank 0 logs and writes the checkpoint and hypernet.safetensors.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from .cases import families_in, read_jsonl
from .config import add_config_args, config_from_args, step_lr
from .conversations import encode_conversation, load_tokenizer
from .export.pack import git_commit, load_pack_model, lora_spec_of
from .hypernet import HypernetConfig, Hypernetwork, compose_slots, load_hypernet, save_hypernet
from .siblings import (ParamLabels, SiblingIndex, contrast_term, logistic_contrast, param_probe_loss, per_example_ce, phrasing_contrast, phrasing_pairs,
                       rolled, sibling_rows)
from .skill_encoder import encode_skill
from .disk_cache import cached, cached_list
from .teacher import TeacherTargets, base_misses, build_targets, cache_key, topk_kl


@dataclass
class TrainConfig:
    pack: str = "public/models/small-skills"
    data: str = "training/data"
    out: str = "training/runs/hypernet-small"
    seed: int = 0
    d_model: int = 256
    num_heads: int = 4
    mlp_hidden: int = 512
    # Std of the A heads' weights: A ~ a_init_std * sqrt(d_model) per entry; keep x A near unit scale for the base's
    # activations (Gemma's projection inputs are ~3x larger than unit RMS over 640 dims).
    a_init_std: float = 0.02
    chunk_tokens: int = 512
    max_seq: int = 192
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 100
    max_steps: int = 4000
    max_minutes: float = 60.0
    multi_slot_prob: float = 0.3
    anchor_weight: float = 0.5
    anchor_every: int = 2
    ce_weight: float = 1.0  # cross-entropy on the gold answers (0 with kl_weight > 0: distillation only)
    kl_weight: float = 0.0  # KL to the skill-in-context teacher; 0: off
    kl_topk: int = 16
    teacher_gate: str = "correct"  # "correct": only examples the teacher answers right; "all"
    # Weight of the answer tokens the base alone gets wrong (greedy != gold: the tokens the skill decides) in the
    # cross-entropy, against 1 for the others; 1: a plain mean over answer tokens.
    decisive_weight: float = 1.0
    # Counterfactual sibling groups (training/siblings.py): this share of each batch is groups of sibling_k train
    # skills of one family with different parameters, all asked the same request, each with its own gold answer.
    sibling_fraction: float = 0.0
    sibling_k: int = 4
    # Contrast on those groups: a member's answer must cost contrast_margin nats/token less under its own adapter
    # than under its sibling's; 0: off (the gap is still measured at log steps).
    contrast_weight: float = 0.0
    contrast_margin: float = 1.0
    # "hinge" (siblings.contrast_term: mean CE per token, contrast_margin) or "logistic" (siblings.logistic_contrast:
    # which of the two adapters wrote the answer, from their summed CE; the margin is not used).
    contrast_loss: str = "hinge"
    # Phrasing contrast (siblings.phrasing_contrast), weight 0: off. Each step two phrasings of each of
    # phrasing_combos parameter combinations in each of phrasing_families families; the hypernetwork's per-target
    # vectors (hypernet.py step 5, which the heads read) of the two phrasings must match each other better than any
    # other skill's of the step, their siblings' included: only reading the parameters, not the wording, does that.
    phrasing_weight: float = 0.0
    phrasing_families: int = 4
    phrasing_combos: int = 4
    phrasing_temperature: float = 0.1
    # Parameter probe (siblings.param_probe_loss), weight 0: off. A linear probe, used in training only, reads each of
    # the hypernetwork's per-target vectors of the batch's own skills and must name the skill's family and each of
    # its parameter values; supervised where the phrasing contrast only compares, so the vectors the heads read come
    # to say what the skill asks for in any wording (held-out phrasings) and value by value (held-out combinations).
    param_weight: float = 0.0
    # A hypernetwork file of the same shape whose weights this run starts from (a warm start: a fresh optimizer and
    # schedule); "": a fresh network. Ignored when the run resumes from its own checkpoint.
    init_from: str = ""
    # The first bias_rank of the rank's components are a learned input-independent LoRA (hypernet.py step 7), for what
    # every skill shares; gen_penalty weighs the squared size of the generated part (Hypernetwork.generated_size).
    bias_rank: int = 0
    gen_penalty: float = 0.0
    # How the hypernetwork emits A and B (hypernet.py): "ab", linear heads; "atoms", per-target mixtures of num_atoms
    # learned LoRA atoms per module, shared by all layers (file format version 3); "tokens", every rank component
    # pooled from the skill's own token states by its own attention (file format version 4).
    head: str = "ab"
    num_atoms: int = 16
    # Base layers whose hidden states the hypernetwork reads, comma-separated ("3,6"); "": the pack's encoder layers.
    # Earlier layers make adapters cheaper to make (encoding stops after the last of them).
    encoder_layers: str = ""
    # What max_minutes counts: "wall", the wall clock; "cpu", this process's CPU time over `threads`, so a run paused or
    # sharing the CPU with other work still gets its full budget (equal-CPU-time ablations).
    clock: str = "wall"
    checkpoint_minutes: float = 5.0
    log_every: int = 20
    max_skills: int = 0  # 0: all train skills
    # A JSONL file (a test set, skills.jsonl) whose families are the only ones trained on; "": every family. E.g. the
    # small pack's base was trained on testset-v1's families only, and cannot answer the others' requests at all.
    families_from: str = ""
    threads: int = 2
    device: str = "cpu"  # "cuda": each rank uses cuda:LOCAL_RANK
    cache_dir: str = "training/cache"  # skill encodings


# Options that shape the network or what it reads, and the clock its logged seconds count: a checkpoint made with
# others cannot be resumed.
SHAPING = ("pack", "d_model", "num_heads", "mlp_hidden", "bias_rank", "head", "num_atoms", "encoder_layers", "max_skills", "chunk_tokens",
           "families_from", "clock", "param_probe")


def shaping_value(config: dict, key: str):
    """A SHAPING option's value in a saved config (the default where it predates the option); "param_probe": whether
    param_weight is above 0 (a probe's weights and optimiser state are saved), not its value."""
    if key == "param_probe":
        return config.get("param_weight", TrainConfig.param_weight) > 0
    return config.get(key, getattr(TrainConfig, key))


def finite(x: float, digits: int = 4) -> float | None:
    """x rounded, or None where it is undefined (an accuracy over no case)."""
    return round(x, digits) if x == x else None


def is_main() -> bool:
    return not dist.is_initialized() or dist.get_rank() == 0


def say(msg: str) -> None:
    """Only rank 0 prints."""
    if is_main():
        print(msg, flush=True)


def rank_rng(seed: int, rank: int, step: int = 0) -> random.Random:
    """The example stream of one rank. Rank 0 at the start is random.Random(seed), the single-process stream; other
    ranks (and ranks that resume without a saved state of their own) get one keyed by seed, rank and step."""
    return random.Random(seed if rank == 0 and step == 0 else f"{seed}:{rank}:{step}")


def skill_markdown(record: dict) -> str:
    from .skills.skill import Skill

    return Skill.from_record(record).to_markdown()


def train_skills(data: str, families_from: str = "", max_skills: int = 0) -> list[dict]:
    """The skills a run trains on: skills.jsonl's train split, of the families named in families_from (""), a
    max_skills subset (0: all) drawn the same for every training seed (so the encodings cache is shared)."""
    skills = [r for r in read_jsonl(Path(data) / "skills.jsonl") if r["split"] == "train"]
    if families_from:
        keep = families_in(Path(families_from))
        skills = [r for r in skills if r["family"] in keep]
        if not skills:
            raise SystemExit(f"no train skill is of a family named in {families_from}")
        say(f"{len(skills)} train skills of {len({r['family'] for r in skills})} families named in {families_from}")
    if max_skills:
        skills = random.Random(0).sample(skills, max_skills)
    return skills


class Data:
    """Train skills with cached encodings and their tokenised trajectories."""

    def __init__(self, cfg: TrainConfig, base, manifest, tok, cache_dir: Path, layers: list[int]):
        skills = train_skills(cfg.data, cfg.families_from, cfg.max_skills)
        subset = ""
        if cfg.families_from:
            keep = families_in(Path(cfg.families_from))
            subset = "-F" + hashlib.sha256("\n".join(sorted(keep)).encode()).hexdigest()[:8]
        self.skill_ids = [s["skill_id"] for s in skills]
        index = {sid: i for i, sid in enumerate(self.skill_ids)}
        self.family = [s["family"] for s in skills]
        self.params = [s["params"] for s in skills]
        self.siblings = SiblingIndex.build(self.family, self.params)
        self.labels = ParamLabels.build(self.family, self.params)
        # The base is frozen, so encodings are computed once and shared by every seed.
        weights_sha = next(f["sha256"][:12] for f in manifest["files"] if f["role"] == "weights")

        def encode(s: dict) -> torch.Tensor:
            ids = tok.encode(skill_markdown(s), add_special_tokens=False)
            enc = encode_skill(base, ids, tok.bos_token_id, layers, cfg.chunk_tokens).cpu()
            # fp16 halves the cache, but Gemma's residual stream (massive activations) overflows it: keep fp32 there.
            return enc.half() if enc.abs().max() < 60000 else enc

        t0 = time.time()

        def progress(done: int, total: int) -> None:
            if done % 500 == 0 or done == total:
                say(f"encoded {done}/{total} skills ({time.time() - t0:.0f}s)")

        # Resumable: thousands of Gemma skills take half an hour, so a stopped run keeps what it has encoded.
        which = "" if layers == list(manifest["encoder"]["layers"]) else "-L" + "_".join(map(str, layers))
        self.enc = cached_list(cache_dir / f"encodings-{manifest['id']}-{weights_sha}-{len(skills)}-{cfg.chunk_tokens}{which}{subset}.pt",
                               skills, encode, progress=progress)
        self.examples: list[tuple[int, list[int], list[bool]]] = []
        conversations = []  # for the teacher: (skill text, messages, answer tokens the student sees)
        for t in read_jsonl(Path(cfg.data) / "train.jsonl"):
            if t.get("subset", "train") != "train" or t["skill_id"] not in index:
                continue
            ids, mask = encode_conversation(tok, t["messages"])
            ids, mask = ids[: cfg.max_seq], mask[: cfg.max_seq]
            if any(mask[1:]):
                self.examples.append((index[t["skill_id"]], ids, mask))
                if cfg.kl_weight > 0:
                    conversations.append((t["skill_id"], t["messages"], sum(mask[1:])))
        self.teacher = None
        if cfg.kl_weight > 0:
            md = {s["skill_id"]: skill_markdown(s) for s in skills}
            inputs = [(md[sid], msgs, n) for sid, msgs, n in conversations]
            key = cache_key(manifest, inputs, cfg.kl_topk)
            self.teacher = TeacherTargets(**cached(cache_dir / f"teacher-{manifest['id']}-{key}.pt", lambda: vars(build_targets(
                base, tok, inputs, cfg.kl_topk, manifest["generation"]["contextLength"], set(manifest["generation"]["eosTokenIds"]), log=say))))
            say(f"teacher: {len(conversations)} examples, right on {self.teacher.correct.float().mean():.1%}")
        self.misses: list[torch.Tensor] | None = None
        if cfg.decisive_weight != 1.0:
            seqs = [(ids, mask) for _, ids, mask in self.examples]
            pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
            self.misses = cached(cache_dir / f"base-misses-{manifest['id']}-{cache_key(manifest, seqs, 0)}.pt",
                                 lambda: base_misses(base, seqs, pad_id, set(manifest["generation"]["eosTokenIds"]), log=say))
            rows = torch.cat(self.misses)
            say(f"base alone: wrong on {rows.float().mean():.1%} of {len(rows)} answer tokens")
        self.by_skill: dict[int, list[int]] = {}
        for j, (si, _, _) in enumerate(self.examples):
            self.by_skill.setdefault(si, []).append(j)
        say(f"{len(skills)} skills, {len(self.examples)} examples")


def pad(seqs: list[list], value) -> torch.Tensor:
    n = max(len(s) for s in seqs)
    return torch.tensor([s + [value] * (n - len(s)) for s in seqs])


def hidden_batch(enc: list[torch.Tensor], idx: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad skill encodings [E, T, H] to [B, E, Tmax, H] with a token mask."""
    t = max(enc[i].shape[1] for i in idx)
    e, _, h = enc[idx[0]].shape
    out = torch.zeros(len(idx), e, t, h)
    mask = torch.zeros(len(idx), t, dtype=torch.bool)
    for b, i in enumerate(idx):
        out[b, :, : enc[i].shape[1]] = enc[i].float()
        mask[b, : enc[i].shape[1]] = True
    return out, mask


def parse_layers(text: str | list, num_layers: int) -> list[int]:
    """"3,6" (or [3, 6] from a config file) -> [3, 6] (distinct, ascending, within the base); "" -> []."""
    if isinstance(text, list):
        text = ",".join(map(str, text))
    if not text.strip():
        return []
    try:
        layers = [int(x) for x in text.split(",")]
    except ValueError:
        raise SystemExit(f"encoder_layers must be comma-separated layer numbers, not {text!r}") from None
    if layers != sorted(set(layers)) or not 0 <= layers[0] <= layers[-1] < num_layers:
        raise SystemExit(f"encoder_layers must be distinct ascending layers in 0..{num_layers - 1}, not {text!r}")
    return layers


def draw(data: Data, rng: random.Random, n: int) -> list[int]:
    """n example indices."""
    return [rng.randrange(len(data.examples)) for _ in range(n)]


def weighted_answer_ce(data: Data, picked: list[int], logits: torch.Tensor, targets: torch.Tensor, weight: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, plain mean CE) on the answer rows (logits and targets in batch order). The loss weights the rows the base
    alone gets wrong by weight and the others by 1 (a weighted mean); with weight 1 it is the plain mean. The base's
    misses are cached per train example: rows after the picked examples' (sibling groups, made per step) weigh 1."""
    rows = F.cross_entropy(logits, targets, reduction="none")
    if weight == 1.0:
        return rows.mean(), rows.mean()
    miss = torch.cat([data.misses[j] for j in picked] + [torch.zeros(0, dtype=torch.bool)]).to(logits.device)
    miss = F.pad(miss, (0, len(rows) - len(miss)))
    w = 1.0 + (weight - 1.0) * miss.float()
    return (w * rows).sum() / w.sum(), rows.mean()


def teacher_term(data: Data, picked: list[int], logits: torch.Tensor, gate: str) -> torch.Tensor:
    """KL(teacher || student) on the answer tokens of the batch's gated examples (picked: their indices; logits:
    the student's, answer rows in batch order); 0 when no example of the batch passes the gate."""
    keep, idx, logp = [], [], []
    for j in picked:
        n = sum(data.examples[j][2][1:])
        i, lp = data.teacher.rows(j, n)
        idx.append(i)
        logp.append(lp)
        keep.append(torch.full((n,), gate == "all" or bool(data.teacher.correct[j])))
    keep_rows = torch.cat(keep).to(logits.device)
    if not keep_rows.any():
        return logits.sum() * 0
    return topk_kl(logits[keep_rows], torch.cat(idx).to(logits.device)[keep_rows], torch.cat(logp).to(logits.device)[keep_rows])


def sibling_contrast(base, per_slot, groups, offset: int, lora, logits, answer_targets, ids, mask, attn, margin: float,
                     kind: str = "hinge") -> tuple[torch.Tensor, torch.Tensor]:
    """(contrast term, mean sibling gap) of the batch's sibling members (batch rows offset..): their answers again
    with each one's slot-0 adapter swapped for its sibling's (the other slots as they were), against the cost under
    their own. The gap, sibling CE minus own CE per answer token on the members whose answers differ, is ~0 when
    adapters ignore the skill."""
    counts = mask[:, 1:].sum(1).tolist()
    # The members' answer rows follow the ordinary examples' in the main pass: score only those (the vocabulary is wide).
    first = sum(counts[:offset])
    own = per_example_ce(logits[first:], answer_targets[first:], counts[offset:])
    order = [offset + r for r in rolled(groups)]
    rows = slice(offset, None)
    slots = [{m: (a[order], b[order]) for m, (a, b) in per_slot[0].items()}]
    slots += [{m: (a[rows], b[rows]) for m, (a, b) in slot.items()} for slot in per_slot[1:]]
    swapped = compose_slots(slots, [1.0] * len(slots), lora, fill_slots=False)
    sel = mask[rows, 1:]
    other, _, _ = base(ids[rows, :-1], attn_mask=attn[rows, :-1], lora=swapped, logit_mask=sel)
    sibling = per_example_ce(other, ids[rows, 1:][sel], counts[offset:])
    differs = torch.tensor([d for g in groups for d in g.differs])
    gap = (sibling - own).detach()[differs].mean() if differs.any() else own.sum().detach() * 0
    if kind == "logistic":
        return logistic_contrast(own, sibling, torch.tensor(counts[offset:], device=own.device, dtype=own.dtype), differs.to(own.device)), gap
    return contrast_term(own, sibling, differs, margin), gap


def setup(cfg: TrainConfig) -> tuple[torch.device, int, int]:
    """(device, rank, world size). Under torchrun (WORLD_SIZE, RANK, LOCAL_RANK set) this process joins the group,
    nccl on cuda and gloo on cpu; otherwise it is the only process."""
    world, rank = int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("RANK", 0))
    device = torch.device(cfg.device)
    if device.type == "cuda":
        if device.index is None:
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
        # New tensors (the batches here, positions and masks in model.py, which names no device) are made on the GPU.
        torch.set_default_device(device)
    if world > 1:
        # A long timeout: the other ranks wait at a barrier while rank 0 encodes the skills.
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=timedelta(hours=2),
                                device_id=device if device.type == "cuda" else None)
    return device, rank, world


def rank0_value(value: float, device: torch.device, world: int) -> float:
    """Rank 0's value on every rank (its clock, say, so that every rank steps with the same learning rate)."""
    if world == 1:
        return value
    t = torch.tensor(value, device=device, dtype=torch.float64)
    dist.broadcast(t, 0)
    return float(t.item())


def agree(flag: bool, device: torch.device, world: int) -> bool:
    """Rank 0's flag on every rank: a clock-based stop taken a step apart would leave the others waiting forever."""
    if world == 1:
        return flag
    t = torch.tensor(float(flag), device=device)
    dist.broadcast(t, 0)
    return bool(t.item())


def main(argv: list[str] | None = None) -> Hypernetwork:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", type=Path)
    add_config_args(ap, TrainConfig)
    cfg = config_from_args(TrainConfig, ap.parse_args(argv))
    if cfg.teacher_gate not in ("correct", "all"):
        raise SystemExit(f"teacher_gate must be 'correct' or 'all', not {cfg.teacher_gate!r}")
    if cfg.clock not in ("wall", "cpu") or (cfg.clock == "cpu" and cfg.device != "cpu"):
        raise SystemExit(f"clock must be 'wall', or 'cpu' on the CPU (it does not count GPU time), not {cfg.clock!r} on {cfg.device}")
    if not cfg.decisive_weight > 0:
        raise SystemExit(f"decisive_weight must be above 0, not {cfg.decisive_weight}")
    if not 0 <= cfg.sibling_fraction <= 1 or cfg.sibling_k < 2:
        raise SystemExit(f"sibling_fraction must be in [0, 1] and sibling_k at least 2, not {cfg.sibling_fraction} and {cfg.sibling_k}")
    if cfg.gen_penalty < 0:
        raise SystemExit(f"gen_penalty must be at least 0, not {cfg.gen_penalty}")
    if cfg.contrast_loss not in ("hinge", "logistic"):
        raise SystemExit(f"contrast_loss must be 'hinge' or 'logistic', not {cfg.contrast_loss!r}")
    if cfg.param_weight < 0:
        raise SystemExit(f"param_weight must be at least 0, not {cfg.param_weight}")
    if cfg.phrasing_weight < 0 or (cfg.phrasing_weight > 0 and (cfg.phrasing_families < 1 or cfg.phrasing_combos < 1 or cfg.phrasing_temperature <= 0)):
        raise SystemExit("phrasing_weight must be at least 0; with it, phrasing_families and phrasing_combos at least 1 and phrasing_temperature above 0")
    device, rank, world = setup(cfg)
    if world > 1 and cfg.phrasing_weight > 0:
        raise SystemExit("phrasing_weight runs in a single process only (its pass is not under DistributedDataParallel)")
    if world > 1 and cfg.param_weight > 0:
        raise SystemExit("param_weight runs in a single process only (its probe is not under DistributedDataParallel)")
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = rank_rng(cfg.seed, rank)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)

    base, manifest = load_pack_model(Path(cfg.pack))
    base.to(device)
    for p in base.parameters():
        p.requires_grad_(False)
    lora = lora_spec_of(manifest)
    tok = load_tokenizer(cfg.pack)
    layers = parse_layers(cfg.encoder_layers, base.config.num_hidden_layers) or list(manifest["encoder"]["layers"])
    hcfg = HypernetConfig.for_base(base.config, lora, num_encoder_layers=len(layers),
                                   encoder_layers=layers if cfg.encoder_layers else None,
                                   d_model=cfg.d_model, num_heads=cfg.num_heads, mlp_hidden=cfg.mlp_hidden, a_init_std=cfg.a_init_std,
                                   bias_rank=cfg.bias_rank, head=cfg.head, num_atoms=cfg.num_atoms)
    try:  # the network checks its options (head, bias_rank, ...) before the skills are encoded
        net = Hypernetwork(hcfg).to(device)
    except ValueError as e:
        raise SystemExit(str(e)) from None
    # Rank 0 computes the skill encodings cache when it is missing; the other ranks wait for it, then load it.
    if rank > 0:
        dist.barrier()
    data = Data(cfg, base, manifest, tok, Path(cfg.cache_dir), layers)
    if cfg.sibling_fraction > 0 and not data.siblings.by_family:
        raise SystemExit("sibling_fraction needs a family with two parameter combinations among the train skills (raise max_skills)")
    if rank == 0 and world > 1:
        dist.barrier()
    # The parameter probe trains with the network and is not part of the saved hypernetwork. It starts at zero (every
    # class equally likely: the loss starts at the mean log group size).
    probe = torch.nn.Linear(cfg.d_model, data.labels.size).to(device) if cfg.param_weight > 0 else None
    if probe is not None:
        torch.nn.init.zeros_(probe.weight)
        torch.nn.init.zeros_(probe.bias)
        say(f"parameter probe: {len(data.labels.groups)} groups ({data.labels.groups[0][1]} families), {data.labels.size} classes")
    trained = list(net.parameters()) + (list(probe.parameters()) if probe is not None else [])
    opt = torch.optim.AdamW(trained, lr=cfg.lr, weight_decay=cfg.weight_decay)
    step, log = 0, []
    ckpt = out / "ckpt.pt"
    if ckpt.exists():  # every rank resumes from it
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
        changed = [k for k in SHAPING if shaping_value(state.get("config", {}), k) != shaping_value(asdict(cfg), k)]
        if changed:
            was = ", ".join(f"{k}={shaping_value(state.get('config', {}), k)!r}" for k in changed)
            raise SystemExit(f"{ckpt} was trained with other {', '.join(changed)} ({was}): use another --out or the same options")
        net.load_state_dict(state["model"])
        if probe is not None:
            probe.load_state_dict(state["probe"])
        opt.load_state_dict(state["opt"])
        step, log = state["step"], state["log"]
        rng = rank_rng(cfg.seed, rank, step)
        if rank == 0:  # the saved random state is rank 0's
            rng.setstate(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        say(f"resumed at step {step}")
    if cfg.init_from and not step:
        try:
            warm = load_hypernet(cfg.init_from)
        except (OSError, ValueError) as e:
            raise SystemExit(f"init_from: {e}") from None
        if warm.config != net.config:
            want = asdict(net.config)
            differ = [k for k, v in asdict(warm.config).items() if want[k] != v]
            raise SystemExit(f"init_from {cfg.init_from} has another shape ({', '.join(differ)}): use the same network options")
        net.load_state_dict(warm.state_dict())
        say(f"started from {cfg.init_from}")
    # Only the hypernetwork trains, so only it is wrapped: DDP averages its gradients across ranks in backward().
    model = DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None) if world > 1 else net
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
    now = time.time if cfg.clock == "wall" else (lambda: time.process_time() / max(1, cfg.threads))
    t_start, t_ckpt = now(), time.time()
    anchor = torch.tensor(0.0)  # last anchor term computed (it runs every anchor_every steps)
    kl = torch.tensor(0.0)
    contrast, gap = torch.tensor(0.0), torch.tensor(0.0)
    gen_size = torch.tensor(0.0)
    phrasing = torch.tensor(0.0)
    params_loss, family_acc, params_acc = torch.tensor(0.0), torch.tensor(0.0), torch.tensor(0.0)
    trained_s = log[-1]["elapsed_s"] if log else 0.0

    def save() -> None:
        torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "step": step, "log": log, "rng": rng.getstate(),
                    "torch_rng": torch.get_rng_state(), "config": asdict(cfg),
                    **({"probe": probe.state_dict()} if probe is not None else {})}, out / "ckpt.tmp")
        (out / "ckpt.tmp").replace(ckpt)

    net.train()
    while step < cfg.max_steps and agree((now() - t_start) / 60 < cfg.max_minutes, device, world):
        for g in opt.param_groups:
            g["lr"] = step_lr(step, cfg, rank0_value((now() - t_start) / 60, device, world))
        groups, sib = sibling_rows(data.siblings, data.params, rng, cfg.sibling_k, round(cfg.batch_size * cfg.sibling_fraction),
                                   lambda m: tuple(x[: cfg.max_seq] for x in encode_conversation(tok, m)))
        picked = draw(data, rng, max(0, cfg.batch_size - len(sib)))
        batch = [data.examples[j] for j in picked] + sib
        own = [b[0] for b in batch]
        # Extra slots: other skills' adapters active at the same time (accumulation), or empty slots.
        n_slots = 1 + (rng.randint(1, min(2, lora.slots - 1)) if rng.random() < cfg.multi_slot_prob else 0)
        slot_skills = [own] + [[rng.randrange(len(data.enc)) for _ in own] for _ in range(n_slots - 1)]
        flat = [i for s in slot_skills for i in s]
        hidden, hmask = hidden_batch(data.enc, flat)
        gen, pooled = model(hidden, hmask, with_pooled=True)
        per_slot = [{m: (a[k * len(own):(k + 1) * len(own)], b[k * len(own):(k + 1) * len(own)]) for m, (a, b) in gen.items()} for k in range(n_slots)]
        per_slot = per_slot[:1] + [net.without_bias(slot) for slot in per_slot[1:]]  # the shared bias LoRA once
        adapters = compose_slots(per_slot, [1.0] * n_slots, lora, fill_slots=False)
        ids = pad([b[1] for b in batch], pad_id)
        mask = pad([b[2] for b in batch], False)
        attn = pad([[1] * len(b[1]) for b in batch], 0)
        # Predict token t+1 at position t: shift the answer mask left by one.
        inputs, targets, sel = ids[:, :-1], ids[:, 1:], mask[:, 1:]
        logits, _, _ = base(inputs, attn_mask=attn[:, :-1], lora=adapters, logit_mask=sel)
        ce_loss, ce = weighted_answer_ce(data, picked, logits, targets[sel], cfg.decisive_weight)
        # The ordinary examples' answer rows come first; the siblings' (made this step) follow them.
        ordinary = int(sel[: len(picked)].sum())
        loss = cfg.ce_weight * ce_loss
        if sib and (cfg.contrast_weight > 0 or (step + 1) % cfg.log_every == 0):
            with torch.set_grad_enabled(cfg.contrast_weight > 0):
                contrast, gap = sibling_contrast(base, per_slot, groups, len(picked), lora, logits, targets[sel], ids, mask, attn, cfg.contrast_margin,
                                                  cfg.contrast_loss)
            if cfg.contrast_weight > 0:
                loss = loss + cfg.contrast_weight * contrast
        if data.teacher is not None:
            # The teacher is cached per train example, so it scores the ordinary rows only.
            kl = teacher_term(data, picked, logits[:ordinary], cfg.teacher_gate) if picked else logits.sum() * 0
            loss = loss + cfg.kl_weight * kl
        if cfg.bias_rank or cfg.gen_penalty > 0:
            with torch.set_grad_enabled(cfg.gen_penalty > 0):
                gen_size = net.generated_size(per_slot[0])
            if cfg.gen_penalty > 0:
                loss = loss + cfg.gen_penalty * gen_size
        if cfg.phrasing_weight > 0:
            pairs = phrasing_pairs(data.siblings, rng, cfg.phrasing_families, cfg.phrasing_combos)
            if len(pairs) >= 2:
                ph, pmask = hidden_batch(data.enc, [a for a, _ in pairs] + [b for _, b in pairs])
                # The pooled vectors alone (no heads, no base pass): called on the network itself, so not under DDP.
                z = net.pool(ph, pmask)
                phrasing = phrasing_contrast(z[: len(pairs)], z[len(pairs):], cfg.phrasing_temperature)
                loss = loss + cfg.phrasing_weight * phrasing
        if probe is not None:
            # The batch's own skills (their encodings lead `hidden`): the vectors the heads read.
            params_loss, family_acc, params_acc = param_probe_loss(probe(pooled[: len(own)]), data.labels, own)
            loss = loss + cfg.param_weight * params_loss
        if cfg.anchor_weight > 0 and step % cfg.anchor_every == 0:
            # Conversations of other skills: with this adapter the model should answer as the base does.
            other = [data.examples[j] for j in draw(data, rng, len(batch))]
            oids = pad([o[1] for o in other], pad_id)
            omask = pad([o[2] for o in other], False)[:, 1:]
            oattn = pad([[1] * len(o[1]) for o in other], 0)[:, :-1]
            with torch.no_grad():
                ref, _, _ = base(oids[:, :-1], attn_mask=oattn, logit_mask=omask)
            got, _, _ = base(oids[:, :-1], attn_mask=oattn, lora=adapters, logit_mask=omask)
            anchor = F.kl_div(got.log_softmax(-1), ref.log_softmax(-1), log_target=True, reduction="batchmean")
            loss = loss + cfg.anchor_weight * anchor
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)  # the probe apart: its gradient leaves the network's clip as it was
        if probe is not None:
            torch.nn.utils.clip_grad_norm_(probe.parameters(), 1.0)
        opt.step()
        step += 1
        if step % cfg.log_every == 0:
            losses = torch.stack([ce.detach(), anchor.detach(), kl.detach(), contrast.detach(), gap.detach(), gen_size.detach(), phrasing.detach(),
                                  params_loss.detach(), family_acc.detach(), params_acc.detach()])
            if world > 1:
                dist.all_reduce(losses)
                losses /= world  # mean over ranks
            if rank == 0:
                ce_mean, anchor_mean, kl_mean, contrast_mean, gap_mean, gen_mean, phrasing_mean, params_mean, family_mean, acc_mean = losses.tolist()
                log.append({"step": step, "ce": round(ce_mean, 4), "anchor": round(anchor_mean, 4), "kl": round(kl_mean, 4),
                            **({"contrast": round(contrast_mean, 4), "sibling_gap": round(gap_mean, 4)} if cfg.sibling_fraction > 0 else {}),
                            **({"gen_size": float(f"{gen_mean:.4g}")} if cfg.bias_rank or cfg.gen_penalty > 0 else {}),
                            **({"phrasing": round(phrasing_mean, 4)} if cfg.phrasing_weight > 0 else {}),
                            **({"params": round(params_mean, 4), "family_acc": finite(family_mean), "params_acc": finite(acc_mean)}
                               if probe is not None else {}),
                            "lr": opt.param_groups[0]["lr"],
                            "elapsed_s": round(trained_s + now() - t_start, 1)})
                say(json.dumps(log[-1]))
        if rank == 0 and (time.time() - t_ckpt) / 60 > cfg.checkpoint_minutes:
            save()
            t_ckpt = time.time()
    net.eval()
    if rank == 0:
        save()
        final = out / "hypernet.safetensors"
        save_hypernet(net, final, cfg.chunk_tokens, {"config": asdict(cfg), "steps": step, "commit": git_commit(),
                                                       "final": log[-1] if log else None})
        say(f"saved {final} after {step} steps")
    if world > 1:
        # Together: a rank that tears down gloo while rank 0 still saves can abort at exit ("terminate called without
        # an active exception", seen once in the test suite).
        dist.barrier()
        dist.destroy_process_group()
    return net


if __name__ == "__main__":
    main()
