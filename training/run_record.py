"""Training record of hypernetwork runs, read from their checkpoints (the log, step and config live in ckpt.pt).

python -m training.run_record --config training/configs/hypernet-gemma.json \
    --runs training/runs/hypernet-gemma-long-s0 training/runs/hypernet-gemma-long-s1 \
    --windows 167,400,700,1000 --out training/results/hypernet-gemma-long.json

Per run: the command that reproduces it (the flags that differ from the config file), steps, examples seen, training
time, and the mean training-batch losses over step windows; across runs, the mean and std of each window's losses.
A run that has not finished (no hypernet.safetensors) is recorded with "finished": false.
"""
from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from .train_hypernet import TrainConfig

LOSSES = ("ce", "anchor", "kl")


def windows_of(log: list[dict], ends: list[int], steps: int) -> list[dict]:
    """Mean of each loss over the logged steps in (previous end, end]; windows with no logged step are left out,
    and one the run has not trained through yet (steps < end) says so."""
    out, start = [], 1
    for end in ends:
        rows = [r for r in log if start <= r["step"] <= end]
        if rows:
            w: dict[str, Any] = {"steps": f"{start}-{end}", "logged": len(rows), "complete": steps >= end}
            w.update({f"{k}_mean": round(statistics.fmean(r[k] for r in rows), 4) for k in LOSSES if k in rows[0]})
            out.append(w)
        start = end + 1
    return out


def command_of(config_file: Path, config: dict) -> str:
    """The train_hypernet command line of a run: its config file plus every value that differs from what the file
    (over TrainConfig's defaults) gives, and always its seed and out folder."""
    expected = {**asdict(TrainConfig()), **json.loads(config_file.read_text())}
    flags = [x for k, v in config.items() if k in ("seed", "out") or expected.get(k) != v for x in (f"--{k}", str(v))]
    return shlex.join(["python", "-m", "training.train_hypernet", "--config", str(config_file), *flags])


def record_of_run(run: Path, config_file: Path, ends: list[int]) -> dict:
    state = torch.load(run / "ckpt.pt", map_location="cpu", weights_only=False)
    cfg, log = state["config"], state["log"]
    return {
        "run": run.name,
        "command": command_of(config_file, cfg),
        "seed": cfg["seed"],
        "finished": (run / "hypernet.safetensors").exists(),
        "steps": state["step"],
        "examples_seen": state["step"] * cfg["batch_size"],
        "train_time_s": log[-1]["elapsed_s"] if log else 0.0,
        "config": cfg,
        "windows": windows_of(log, ends, state["step"]),
        "log": log,
    }


def across(runs: list[dict]) -> list[dict]:
    """Mean and std (over runs, population std) of each window's loss means, for windows every run has completed."""
    out = []
    for w in runs[0]["windows"]:
        same = [x for r in runs for x in r["windows"] if x["steps"] == w["steps"] and x["complete"]]
        if len(same) < len(runs):
            continue
        row: dict[str, Any] = {"steps": w["steps"], "runs": len(same)}
        for key in (k for k in w if k.endswith("_mean")):
            vals = [x[key] for x in same]
            row[key] = round(statistics.fmean(vals), 4)
            row[key.replace("_mean", "_std")] = round(statistics.pstdev(vals), 4)
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", type=Path, required=True, help="the config file the runs were started with")
    ap.add_argument("--runs", type=Path, nargs="+", required=True, help="run folders, each with a ckpt.pt")
    ap.add_argument("--windows", required=True, help="comma-separated last steps of the loss windows, e.g. 167,400,700,1000")
    ap.add_argument("--note", default="")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    missing = [str(r) for r in args.runs if not (r / "ckpt.pt").exists()]
    if missing:
        raise SystemExit(f"no ckpt.pt in {', '.join(missing)}")
    ends = [int(x) for x in args.windows.split(",") if x.strip()]
    if not ends or ends != sorted(set(ends)) or ends[0] < 1:
        raise SystemExit(f"--windows wants increasing positive steps, not {args.windows!r}")
    runs = [record_of_run(r, args.config, ends) for r in args.runs]
    record = {"command": shlex.join(["python", "-m", "training.run_record", *(sys.argv[1:] if argv is None else argv)]),
              "note": args.note, "across_runs": across(runs), "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    return record


if __name__ == "__main__":
    main()
