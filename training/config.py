"""Training configs and the learning-rate schedule, shared by every trainer.

Configs are dataclasses read from a JSON file (training/configs/) with command-line overrides: train_hypernet and
skill_tune take `--field value` (`config_from_args`), train_small `--field=value` and `--model.field=value`
(`config_from_overrides`).

Schedule (`warmup_cosine`): linear warmup to lr over warmup_steps, then a cosine from lr down to a floor as the run's
progress goes from 0 to 1. The floor is min_lr (train_small) or min_ratio x lr (train_hypernet and skill_tune, 0.1);
each form is computed as it always has been, so resumed runs step with the very same learning rates. Progress
(`run_progress`) is the share of the run done, by steps or tokens, or by the clock when a time limit ends it first.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


# ---------------------------------------------------------------- schedule

def run_progress(done: float, total: float, elapsed: float = 0.0, time_limit: float = 0.0) -> float:
    """min(1, done / total), or the share of time_limit spent when that is further (time_limit 0: no clock)."""
    share = done / total
    if time_limit > 0:
        share = max(share, elapsed / time_limit)
    return min(1.0, share)


def warmup_cosine(step: int, lr: float, warmup_steps: int, progress: float, min_lr: float | None = None,
                  min_ratio: float = 0.1) -> float:
    """The learning rate at `step` (0-based) with the run `progress` done (progress is read after warmup only)."""
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    if min_lr is None:  # a share of lr: lr x cosine from 1 to min_ratio
        return lr * cosine(progress, 1.0, min_ratio)
    return cosine(progress, lr, min_lr)


def cosine(progress: float, top: float, bottom: float) -> float:
    return bottom + 0.5 * (top - bottom) * (1 + math.cos(math.pi * progress))


def step_lr(step: int, cfg: Any, minutes: float = 0.0) -> float:
    """The step-counted trainers' schedule (train_hypernet, skill_tune): warmup, then cosine to 0.1 x lr over
    max_steps or, when the clock ends the run first, over max_minutes (skill_tune passes no clock)."""
    progress = run_progress(step - cfg.warmup_steps, max(1, cfg.max_steps - cfg.warmup_steps), minutes, cfg.max_minutes)
    return warmup_cosine(step, cfg.lr, cfg.warmup_steps, progress)


# ---------------------------------------------------------------- configs

def parse_bool(text: str) -> bool:
    return text.lower() in ("1", "true", "yes")


def add_config_args(ap: argparse.ArgumentParser, cls: type) -> None:
    """--field for every field of a config dataclass (list fields are set in the config file only)."""
    for f, v in dataclasses.asdict(cls()).items():
        if not isinstance(v, list):
            ap.add_argument(f"--{f}", type=parse_bool if isinstance(v, bool) else type(v))


def config_from_args(cls: type[T], args: argparse.Namespace, skip: tuple[str, ...] = ("config",)) -> T:
    """The dataclass's defaults, then args.config's JSON, then the options given on the command line."""
    values = json.loads(args.config.read_text()) if args.config else {}
    values.update({k: v for k, v in vars(args).items() if k not in skip and v is not None})
    return cls(**values)


def parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def config_from_overrides(cls: type[T], path: str | Path | None, overrides: list[str]) -> T:
    """Defaults, then the config file, then `--key=value` (or `--model.hidden_size=128`) overrides; a nested
    dataclass field is updated key by key, and values are read as JSON where they parse (else as text)."""
    values = to_dict(cls())
    if path:
        merge(values, json.loads(Path(path).read_text()), str(path))
    for arg in overrides:
        if not arg.startswith("--") or "=" not in arg:
            raise SystemExit(f"override {arg!r} must look like --key=value")
        key, value = arg[2:].split("=", 1)
        *parents, leaf = key.split(".")
        node = values
        for p in parents:
            node = node.get(p) if isinstance(node, dict) else None
        if not isinstance(node, dict) or leaf not in node:
            raise SystemExit(f"unknown config key {key!r}")
        node[leaf] = parse_value(value)
    return from_dict(cls, values)


def merge(values: dict, update: dict, where: str) -> None:
    for key, value in update.items():
        if key not in values:
            raise SystemExit(f"{where}: unknown config key {key!r}")
        if isinstance(value, dict) and isinstance(values[key], dict):
            merge(values[key], value, where)
        else:
            values[key] = value


def to_dict(cfg: Any) -> dict[str, Any]:
    """A config as the plain dict that checkpoints, run folders and results store."""
    return dataclasses.asdict(cfg)


def from_dict(cls: type[T], values: dict[str, Any]) -> T:
    """A config dataclass from a dict (nested dataclass fields from nested dicts)."""
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in values:
            v = values[f.name]
            kwargs[f.name] = from_dict(f.default_factory, v) if dataclasses.is_dataclass(f.default_factory) and isinstance(v, dict) else v
    return cls(**kwargs)


# ---------------------------------------------------------------- precision

def bf16_is_fast(device: str = "cpu") -> bool:
    """Whether bfloat16 autocast speeds this device up: CUDA, or a CPU with native bfloat16 instructions (AVX512-BF16,
    AMX). An AVX2-only CPU emulates them, which made a Gemma skill-tune step ~20x slower than in float32."""
    import torch

    try:
        if device == "cuda":
            return bool(torch.cuda.is_bf16_supported())
        if device != "cpu":
            return True
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except (AttributeError, RuntimeError):
        return False


def effective_bf16(wanted: bool, device: str = "cpu", say=print) -> bool:
    """`wanted`, except on a device where bfloat16 would be emulated: then float32, said once."""
    if wanted and not bf16_is_fast(device):
        say(f"bf16 asked for, but this {device} has no native bfloat16: training in float32 (faster here, same recipe otherwise)")
        return False
    return wanted
