"""Train the small pack's llama-style model from scratch to follow a skill given in context.

    python -m training.train_small --config training/configs/small.json [--key=value ...]
    python -m training.train_small --config training/configs/small.json --export public/models/small-skills

One config file per run (nanoGPT style); `--key=value` overrides any field. The run folder
(`out_dir`, git-ignored) holds the tokenizer, `ckpt.pt` (written every `checkpoint_every_s` and at the end)
and `log.jsonl`; running the same command again resumes from `ckpt.pt`. With `milestone_dir` (a committed folder)
every checkpoint also writes the weights in float16, the tokenizer and the training state there, and on a wiped
machine the same command resumes from the further of the two (fresh optimiser state, its learning rate warmed up
again over warmup_steps): the CPU run on the whole library (training/configs/small-v2.json, scheduled by tokens so
that machines of other speeds follow the same schedule) spans several sessions, each ended on a checkpoint by
`--stop_after_tokens=N` (N counts the whole run's tokens, not the session's).

Data: every train-split skill's SKILL.md as the system turn, then its conversations; the loss is on the
assistant turns marked `target` (their content and the closing <|im_end|>) only. A fraction of rows drops
the system turn, so the model also learns to answer without the skill (the base that adapters modify).
All conversations of one skill share one copy of the skill in a row: each conversation attends to the
skill prefix and to itself only, with positions continuing after the prefix, which is exactly the same
computation as separate examples but costs the skill's tokens once. Epoch 0 uses train.jsonl; later
epochs re-render each train skill (same family, parameters and train phrasing, new wording and examples)
with fresh conversations, so repeated epochs do not repeat text.
"""
from __future__ import annotations

import json
import os
import random
import shlex
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tokenizers import Tokenizer

from .config import config_from_overrides, effective_bf16, from_dict, run_progress, to_dict, warmup_cosine
from .model import ModelConfig, Transformer, count_params, init_weights, rope_cos_sin, rotate_half
from .small_data import ChatEncoder, Row, SkillData, build_rows, collate, make_batches
from .tokenizer import train_bpe

ROOT = Path(__file__).resolve().parent.parent

@dataclass
class SmallModel:
    """The model's shape (a llama-style decoder with tied embeddings)."""

    hidden_size: int = 256
    num_hidden_layers: int = 6
    num_attention_heads: int = 4
    num_key_value_heads: int = 4
    head_dim: int = 64
    intermediate_size: int = 768
    max_position_embeddings: int = 1536
    rope_theta: float = 10000.0


@dataclass
class SmallConfig:
    out_dir: str = "training/runs/small"
    data_dir: str = "training/data"
    seed: int = 0
    vocab_size: int = 4096
    model: SmallModel = field(default_factory=SmallModel)
    max_row_tokens: int = 1536  # one skill prefix plus as many of its conversations as fit
    batch_tokens: int = 12288  # padded tokens per optimizer step
    no_skill_fraction: float = 0.1
    max_tokens: int = 8_000_000  # training length in (non-pad) tokens; the LR schedule spans it ...
    max_train_s: float = 0  # ... or this many seconds of training (0: no limit), whichever ends first
    bf16: bool = True  # bf16 autocast for matmuls (weights and optimizer stay fp32); ~1.5x on AVX512-BF16 CPUs, fp32 where emulated
    lr: float = 2e-3
    min_lr: float = 2e-4
    warmup_steps: int = 100
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    threads: int = 2
    device: str = "cpu"  # "cuda" on a GPU machine (docs/training-gpu.md)
    prefetch_workers: int = 0  # >0: build the next epochs' rows in this many processes while training (GPU runs)
    checkpoint_every_s: float = 240
    log_every: int = 10
    valid_rows: int = 48
    valid_every_steps: int = 200
    stop_after_tokens: int = 0  # >0: checkpoint and exit once this many tokens are seen (the next run resumes)
    max_skills: int = 0  # >0: use only this many train skills (smoke tests)
    # A committed folder (weights in float16, tokenizer, training state) written at every checkpoint, so that a
    # long CPU run survives a wiped machine: with no ckpt.pt in out_dir, the same command resumes from it (its weights,
    # step, tokens and data position; the optimiser starts afresh). Empty: off.
    milestone_dir: str = ""


def load_config(path: str | Path | None, overrides: list[str]) -> SmallConfig:
    """Defaults, then the config file, then `--key=value` (or `--model.hidden_size=128`) overrides."""
    return config_from_overrides(SmallConfig, path, overrides)


def model_config(cfg: SmallConfig) -> ModelConfig:
    return ModelConfig(type="llama", vocab_size=cfg.vocab_size, tie_word_embeddings=True, **to_dict(cfg.model))


def under_root(path: str) -> Path:
    return ROOT / path if not Path(path).is_absolute() else Path(path)


# ---------------------------------------------------------------- model forward for training

def packed_forward(model: Transformer, ids: torch.Tensor, position: torch.Tensor, segment: torch.Tensor) -> torch.Tensor:
    """Final normed hidden states [B, T, H] of packed rows: causal attention within a conversation and to
    the shared prefix (segment 0). Same weights and math as Transformer.forward (llama layers, no LoRA),
    with fused scaled-dot-product attention for training speed."""
    c = model.config
    bsz, t = ids.shape
    x = model.model.embed_tokens(ids) * c.embedding_scale
    cos, sin = rope_cos_sin(position, c.head_dim, c.rope_theta)
    causal = torch.ones(t, t, dtype=torch.bool, device=ids.device).tril()
    seg_q, seg_k = segment[:, :, None], segment[:, None, :]
    allowed = (causal & ((seg_k == 0) | (seg_k == seg_q)))[:, None]
    groups = c.num_attention_heads // c.num_key_value_heads
    for layer in model.model.layers:
        attn = layer.self_attn
        h = layer.input_layernorm(x)
        q = attn.q_proj(h).view(bsz, t, c.num_attention_heads, c.head_dim).transpose(1, 2)
        k = attn.k_proj(h).view(bsz, t, c.num_key_value_heads, c.head_dim).transpose(1, 2)
        v = attn.v_proj(h).view(bsz, t, c.num_key_value_heads, c.head_dim).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        if groups > 1:
            k, v = k.repeat_interleave(groups, 1), v.repeat_interleave(groups, 1)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, scale=c.query_scale)
        x = x + attn.o_proj(out.transpose(1, 2).reshape(bsz, t, -1))
        x = x + layer.mlp_forward(layer.post_attention_layernorm(x), {})
    return model.model.norm(x)


def batch_loss(model: Transformer, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy over answer tokens; the LM head runs only where a prediction is scored."""
    hidden = packed_forward(model, batch["ids"], batch["position"], batch["segment"])
    predict = batch["mask"][:, 1:]  # position t predicts token t + 1
    h = hidden[:, :-1][predict]
    targets = batch["ids"][:, 1:][predict]
    logits = h @ model.lm_head_weight().T
    return F.cross_entropy(logits.float(), targets), int(predict.sum())


# ---------------------------------------------------------------- training loop

def progress(cfg: SmallConfig, state: dict[str, Any]) -> float:
    """Share of the run done: by tokens, or by training time when `max_train_s` ends it first (shared CPUs vary)."""
    return run_progress(state["tokens"], cfg.max_tokens, state["train_time_s"], cfg.max_train_s)


def load_tokenizer(cfg: SmallConfig, data: SkillData, out_dir: Path) -> Tokenizer:
    tok_dir = out_dir / "tokenizer"
    if not (tok_dir / "tokenizer.json").exists():
        train_bpe(data.texts(), cfg.vocab_size, tok_dir)
    tok = Tokenizer.from_file(str(tok_dir / "tokenizer.json"))
    if tok.get_vocab_size() > cfg.vocab_size:
        raise SystemExit(f"tokenizer has {tok.get_vocab_size()} tokens, more than vocab_size {cfg.vocab_size}")
    return tok


MILESTONE_FORMAT = "small-train-milestone"
# What a milestone's model and its data position mean: the same keys or it is refused (the data order and the
# rows (epoch, batch) point at depend on all of these).
MILESTONE_KEYS = ("vocab_size", "model", "seed", "data_dir", "max_skills", "max_row_tokens", "batch_tokens", "no_skill_fraction")


def copy_files(src: Path, dst: Path) -> None:
    """The plain files of folder `src` into `dst`, each replaced whole and only where it differs."""
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        target = dst / f.name
        if f.is_file() and (not target.is_file() or target.read_bytes() != f.read_bytes()):
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_bytes(f.read_bytes())
            os.replace(tmp, target)


def save_milestone(folder: Path, model: Transformer, tokenizer_dir: Path, state: dict[str, Any], cfg: SmallConfig,
                   command: str) -> None:
    """Weights in float16 with the training state and config in the metadata, and the tokenizer beside them (each
    file replaced whole, so a kill mid-write leaves the previous milestone)."""
    from safetensors.torch import save_file

    copy_files(tokenizer_dir, folder / "tokenizer")
    tensors = {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in model.state_dict().items()}
    meta = {"format": MILESTONE_FORMAT, "state": json.dumps(state), "config": json.dumps(to_dict(cfg)), "command": command}
    tmp = folder / "model.safetensors.tmp"
    save_file(tensors, str(tmp), metadata=meta)
    os.replace(tmp, folder / "model.safetensors")


def milestone_state(folder: Path, cfg: SmallConfig) -> dict[str, Any] | None:
    """The training state of the milestone in `folder` (None: there is none), after checking that it was made with
    this config's model, vocabulary and data settings and that its tokenizer is there."""
    from safetensors import safe_open

    path = folder / "model.safetensors"
    if not path.is_file():
        return None
    with safe_open(str(path), "pt") as f:
        meta = f.metadata() or {}
    if meta.get("format") != MILESTONE_FORMAT:
        raise SystemExit(f"{path} is not a small-model milestone (format {meta.get('format')!r})")
    saved, want = json.loads(meta["config"]), to_dict(cfg)
    for key in MILESTONE_KEYS:
        if saved.get(key) != want[key]:
            raise SystemExit(f"{path} was trained with {key} {saved.get(key)}; this config has {want[key]}. "
                             f"Point milestone_dir elsewhere or use the milestone's config")
    if not (folder / "tokenizer" / "tokenizer.json").is_file():
        raise SystemExit(f"{folder} has no tokenizer/tokenizer.json beside its weights: the milestone is incomplete")
    return json.loads(meta["state"])


def load_milestone(folder: Path, model: Transformer, cfg: SmallConfig) -> dict[str, Any]:
    """Load a milestone's weights into `model` (after milestone_state's checks); returns its state."""
    from safetensors import safe_open

    state = milestone_state(folder, cfg)
    if state is None:
        raise SystemExit(f"no milestone in {folder}")
    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        weights = {k: f.get_tensor(k).float() for k in f.keys()}
    model.load_state_dict(weights)
    return state


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: a kill mid-write never leaves a broken checkpoint


def log(out_dir: Path, record: dict[str, Any]) -> None:
    with (out_dir / "log.jsonl").open("a") as f:
        f.write(json.dumps(record) + "\n")
    print(json.dumps(record), flush=True)


@torch.no_grad()
def valid_loss(model: Transformer, batches: list[list[Row]], pad_id: int) -> float:
    model.eval()
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for rows in batches:
        loss, n = batch_loss(model, collate(rows, pad_id, device))
        total, count = total + float(loss) * n, count + n
    model.train()
    return total / max(count, 1)


_WORKER: dict[str, Any] = {}


def _worker_init(cfg: SmallConfig, tokenizer_path: str) -> None:
    data_dir = under_root(cfg.data_dir)
    _WORKER["data"] = SkillData(data_dir, cfg.max_skills)
    _WORKER["enc"] = ChatEncoder(Tokenizer.from_file(tokenizer_path))
    _WORKER["cfg"] = cfg


def _worker_epoch(epoch: int) -> list[list[Row]]:
    return epoch_batches(_WORKER["cfg"], _WORKER["data"], _WORKER["enc"], epoch)


def epoch_batches(cfg: SmallConfig, data: SkillData, enc: ChatEncoder, epoch: int) -> list[list[Row]]:
    """One epoch's batches; the same for a given seed and epoch wherever they are built."""
    rng = random.Random(f"{cfg.seed}:epoch{epoch}:rows")
    rows = build_rows(enc, data.epoch(epoch, cfg.seed), cfg.max_row_tokens, cfg.no_skill_fraction, rng)
    return make_batches(rows, cfg.batch_tokens, rng)


class EpochSource:
    """Batches per epoch, built here or ahead of time in worker processes (a GPU outruns one CPU core)."""

    def __init__(self, cfg: SmallConfig, data: SkillData, enc: ChatEncoder, tokenizer_path: Path):
        self.cfg, self.data, self.enc = cfg, data, enc
        self.pool, self.pending = None, {}
        if cfg.prefetch_workers > 0:
            import concurrent.futures
            import multiprocessing

            self.pool = concurrent.futures.ProcessPoolExecutor(
                cfg.prefetch_workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init, initargs=(cfg, str(tokenizer_path)))

    def get(self, epoch: int) -> list[list[Row]]:
        if self.pool is None:
            return epoch_batches(self.cfg, self.data, self.enc, epoch)
        for e in range(epoch, epoch + self.cfg.prefetch_workers):
            if e not in self.pending:
                self.pending[e] = self.pool.submit(_worker_epoch, e)
        return self.pending.pop(epoch).result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def train(cfg: SmallConfig, command: str = "") -> dict[str, Any]:
    torch.set_num_threads(cfg.threads)
    device = torch.device(cfg.device)
    cfg = replace(cfg, bf16=effective_bf16(cfg.bf16, device.type))  # the checkpoint says what ran
    out_dir = under_root(cfg.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data_dir = under_root(cfg.data_dir)
    data = SkillData(data_dir, cfg.max_skills)
    milestone = under_root(cfg.milestone_dir) if cfg.milestone_dir else None
    ckpt_path = out_dir / "ckpt.pt"
    # Checked before anything is written: a milestone of another model or data is refused, not overwritten.
    ahead = milestone_state(milestone, cfg) if milestone is not None else None
    ckpt = torch.load(ckpt_path, weights_only=False, map_location=device) if ckpt_path.exists() else None
    # A machine that kept its run folder while another session committed a newer milestone goes on from the further
    # of the two (the checkpoint would otherwise overwrite the newer milestone at its next save).
    from_milestone = ahead is not None and (ckpt is None or ckpt["state"]["tokens"] < ahead["tokens"])
    if from_milestone:  # the run's tokenizer is the milestone's: a retrained one would number tokens differently
        copy_files(milestone / "tokenizer", out_dir / "tokenizer")
    tok = load_tokenizer(cfg, data, out_dir)
    enc = ChatEncoder(tok)
    pad_id = tok.token_to_id("<|pad|>")

    torch.manual_seed(cfg.seed)
    model = Transformer(model_config(cfg))
    init_weights(model, cfg.seed)
    model.to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=cfg.lr, betas=(0.9, 0.95))
    state = {"step": 0, "tokens": 0, "target_tokens": 0, "epoch": 0, "batch": 0, "train_time_s": 0.0, "history": []}
    if from_milestone:
        state = load_milestone(milestone, model, cfg)
        state["rewarm_from"] = state["step"]  # a fresh optimiser: warm the learning rate up again from here
        print(f"resumed from the milestone {milestone}: step {state['step']}, {state['tokens']} tokens (fresh optimiser state)", flush=True)
    elif ckpt is not None:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        state = ckpt["state"]
        torch.set_rng_state(ckpt["torch_rng"].cpu())
        print(f"resumed from {ckpt_path}: step {state['step']}, {state['tokens']} tokens", flush=True)
    (out_dir / "config.json").write_text(json.dumps(to_dict(cfg), indent=2) + "\n")
    # Each invocation of a run that spans sessions (and machines): where it began, from what, in which precision.
    state.setdefault("sessions", []).append({"step": state["step"], "tokens": state["tokens"], "bf16": cfg.bf16,
                                             "from": "milestone" if from_milestone else "checkpoint" if state["step"] else "start"})
    print(f"model: {count_params(model)} parameters, vocab {tok.get_vocab_size()}", flush=True)

    valid_rows = build_rows(enc, data.valid(), cfg.max_row_tokens, 0.0, random.Random(f"{cfg.seed}:valid"))
    valid_rows = random.Random(cfg.seed).sample(valid_rows, min(cfg.valid_rows, len(valid_rows)))
    valid_batches = make_batches(valid_rows, cfg.batch_tokens, random.Random(0))

    def checkpoint() -> None:
        save_checkpoint(ckpt_path, {"model": model.state_dict(), "optimizer": opt.state_dict(), "state": state,
                                    "torch_rng": torch.get_rng_state(), "config": to_dict(cfg), "command": command})
        if milestone is not None:
            save_milestone(milestone, model, out_dir / "tokenizer", state, cfg, command)

    source = EpochSource(cfg, data, enc, out_dir / "tokenizer" / "tokenizer.json")
    model.train()
    last_ckpt = time.monotonic()
    window = {"loss": 0.0, "n": 0, "tokens": 0, "t0": time.monotonic()}
    while progress(cfg, state) < 1.0:
        epoch = state["epoch"]
        batches = source.get(epoch)
        while state["batch"] < len(batches) and progress(cfg, state) < 1.0:
            t0 = time.monotonic()
            batch = collate(batches[state["batch"]], pad_id, device)
            lr = warmup_cosine(state["step"], cfg.lr, cfg.warmup_steps, progress(cfg, state), min_lr=cfg.min_lr)
            if "rewarm_from" in state:
                lr *= min(1.0, (state["step"] - state["rewarm_from"] + 1) / max(1, cfg.warmup_steps))
            for g in opt.param_groups:
                g["lr"] = lr
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
                loss, n_target = batch_loss(model, batch)
            if n_target == 0:  # nothing to score (only possible with tiny contexts); keep the data order
                state["batch"] += 1
                continue
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            real = int((batch["segment"] >= 0).sum())
            state["step"] += 1
            state["batch"] += 1
            state["tokens"] += real
            state["target_tokens"] += n_target
            state["train_time_s"] += time.monotonic() - t0
            window["loss"] += loss.detach().item() * n_target
            window["n"] += n_target
            window["tokens"] += real
            if state["step"] % cfg.log_every == 0:
                elapsed = time.monotonic() - window["t0"]
                record = {"step": state["step"], "epoch": epoch, "tokens": state["tokens"], "target_tokens": state["target_tokens"],
                          "loss": round(window["loss"] / max(window["n"], 1), 4), "lr": round(lr, 6),
                          "train_time_s": round(state["train_time_s"], 1), "tokens_per_s": round(window["tokens"] / elapsed, 1)}
                if state["step"] % cfg.valid_every_steps == 0 and valid_batches:
                    record["valid_loss"] = round(valid_loss(model, valid_batches, pad_id), 4)
                state["history"].append(record)
                log(out_dir, record)
                window = {"loss": 0.0, "n": 0, "tokens": 0, "t0": time.monotonic()}
            if time.monotonic() - last_ckpt > cfg.checkpoint_every_s:
                checkpoint()
                last_ckpt = time.monotonic()
            if cfg.stop_after_tokens and state["tokens"] >= cfg.stop_after_tokens:
                checkpoint()
                source.close()
                return {"model": model, "state": state, "tokenizer_dir": out_dir / "tokenizer"}
        if state["batch"] >= len(batches):
            state["epoch"] += 1
            state["batch"] = 0
    source.close()
    state["final_valid_loss"] = round(valid_loss(model, valid_batches, pad_id), 4) if valid_batches else None
    state["done"] = True
    checkpoint()
    log(out_dir, {"done": True, "step": state["step"], "tokens": state["tokens"], "train_time_s": round(state["train_time_s"], 1),
                  "final_valid_loss": state["final_valid_loss"]})
    return {"model": model, "state": state, "tokenizer_dir": out_dir / "tokenizer"}


def load_run(out_dir: Path) -> tuple[Transformer, dict[str, Any], dict[str, Any]]:
    """The trained model, its config and its training state from a run folder's checkpoint."""
    ckpt = torch.load(out_dir / "ckpt.pt", weights_only=False, map_location="cpu")
    model = Transformer(model_config(from_dict(SmallConfig, ckpt["config"])))
    model.load_state_dict(ckpt["model"])
    return model.eval(), ckpt["config"], {**ckpt["state"], "command": ckpt.get("command", "")}


PACK_ID = "small-skills"
RESULTS = ROOT / "training/results/small-train.json"


def export(cfg: SmallConfig, pack_dir: Path, results: Path = RESULTS) -> dict[str, Any]:
    """Write the small pack from the run's checkpoint, and the run's metrics to a committed results file."""
    from .export.pack import export_pack, git_commit
    from .model import LoraSpec

    out_dir = under_root(cfg.out_dir)
    model, run_cfg, state = load_run(out_dir)
    history = state["history"]
    final_loss = history[-1]["loss"] if history else None
    layers = model.config.num_hidden_layers
    provenance = {"config": run_cfg, "seed": run_cfg["seed"], "tokens_seen": state["tokens"],
                  "train_time_s": round(state["train_time_s"], 1), "final_loss": final_loss,
                  "final_valid_loss": state.get("final_valid_loss"), "steps": state["step"], "finished": bool(state.get("done")),
                  "train_command": state["command"]}
    manifest = export_pack(
        model, out_dir / "tokenizer", pack_dir, PACK_ID, "Small skills model (trained here)",
        LoraSpec(rank=8, alpha=16.0, target_modules=["q_proj", "v_proj", "down_proj"], slots=4),
        [layers // 2, layers - 1],  # a middle layer and the last one feed the skill encoder
        {"name": "MIT", "note": "Trained from scratch in this repository on generated data."}, provenance,
    )
    record = {
        "format": "small-train-metrics", "version": 1,
        "command": state["command"], "export_command": shlex.join(["python", "-m", "training.train_small", *sys.argv[1:]]),
        "seed": run_cfg["seed"], "commit": git_commit(), "config": run_cfg,
        "parameters": count_params(model), "tokens_seen": state["tokens"], "target_tokens_seen": state["target_tokens"],
        "steps": state["step"], "epochs_started": state["epoch"] + 1, "train_time_s": round(state["train_time_s"], 1),
        "final_loss": final_loss, "final_valid_loss": state.get("final_valid_loss"), "finished": bool(state.get("done")),
        "pack": {"dir": str(pack_dir.relative_to(ROOT) if pack_dir.is_relative_to(ROOT) else pack_dir),
                 "bytes": sum(f["bytes"] for f in manifest["files"]) + (pack_dir / "manifest.json").stat().st_size},
        "loss_curve": [{k: h[k] for k in ("step", "tokens", "loss", "train_time_s", "valid_loss", "lr") if k in h} for h in history],
    }
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(record, indent=2) + "\n")
    return record


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    config_path, export_dir = None, None
    rest = []
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
        elif arg in ("--config", "--export"):
            config_path, export_dir = (argv[i + 1], export_dir) if arg == "--config" else (config_path, argv[i + 1])
            skip = True
        elif arg.startswith("--config="):
            config_path = arg.split("=", 1)[1]
        elif arg.startswith("--export="):
            export_dir = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    cfg = load_config(config_path, rest)
    if export_dir:
        record = export(cfg, ROOT / export_dir if not Path(export_dir).is_absolute() else Path(export_dir))
        print(json.dumps({k: record[k] for k in ("parameters", "tokens_seen", "train_time_s", "final_loss", "final_valid_loss", "pack")}))
        return
    train(cfg, shlex.join(["python", "-m", "training.train_small", *argv]))


if __name__ == "__main__":
    main()
