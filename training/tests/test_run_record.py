"""The training record tool: windows, cross-run statistics and the reproducing command, from real-format checkpoints."""
import json
import shlex

import numpy as np
import pytest
import torch

from training.run_record import main
from training.train_hypernet import TrainConfig


def fake_run(folder, seed, steps, finished, config_file):
    folder.mkdir(parents=True)
    cfg = {**TrainConfig().__dict__, **json.loads(config_file.read_text()), "seed": seed, "out": str(folder), "max_steps": 1000}
    rng = np.random.default_rng(seed)
    log = [{"step": s, "ce": float(rng.uniform(0, 3)), "anchor": float(rng.uniform(0, 2)), "kl": 0.0, "lr": 1e-4, "elapsed_s": 6.0 * s}
           for s in range(5, steps + 1, 5)]
    torch.save({"step": steps, "log": log, "config": cfg}, folder / "ckpt.pt")
    if finished:
        (folder / "hypernet.safetensors").write_bytes(b"")
    return log


def test_record_windows_stats_and_command(tmp_path):
    config_file = tmp_path / "c.json"
    config_file.write_text(json.dumps({"lr": 3e-5, "batch_size": 8}))
    logs = [fake_run(tmp_path / "s0", 0, 100, True, config_file), fake_run(tmp_path / "s1", 1, 60, False, config_file)]
    argv = ["--config", str(config_file), "--runs", str(tmp_path / "s0"), str(tmp_path / "s1"), "--windows", "50,100",
            "--note", "two runs, one unfinished", "--out", str(tmp_path / "r.json")]
    rec = main(argv)
    assert shlex.split(rec["command"]) == ["python", "-m", "training.run_record", *argv]
    assert json.loads((tmp_path / "r.json").read_text()) == rec
    s0, s1 = rec["runs"]
    assert (s0["finished"], s1["finished"], s0["steps"], s0["examples_seen"], s0["train_time_s"]) == (True, False, 100, 800, 600.0)
    # Only what differs from the file over the defaults is a flag, plus seed and out.
    assert s0["command"] == f"python -m training.train_hypernet --config {config_file} --out {tmp_path / 's0'} --seed 0 --max_steps 1000"
    ce = [[r["ce"] for r in log if lo <= r["step"] <= hi] for log in logs for lo, hi in ((1, 50), (51, 100))]
    assert s0["windows"][0]["ce_mean"] == pytest.approx(np.mean(ce[0]), abs=1e-4)
    assert s0["windows"][1]["ce_mean"] == pytest.approx(np.mean(ce[1]), abs=1e-4)
    assert [w["complete"] for w in s1["windows"]] == [True, False]
    # Across runs: only the window both have trained through, with the population std of the two means.
    assert [w["steps"] for w in rec["across_runs"]] == ["1-50"]
    both = [np.mean(ce[0]), np.mean(ce[2])]
    assert rec["across_runs"][0]["ce_mean"] == pytest.approx(np.mean(both), abs=1e-4)
    assert rec["across_runs"][0]["ce_std"] == pytest.approx(np.std(both), abs=1e-4)


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(SystemExit, match="no ckpt.pt"):
        main(["--config", "x.json", "--runs", str(tmp_path), "--windows", "10", "--out", str(tmp_path / "r.json")])
    (tmp_path / "ckpt.pt").write_bytes(b"")
    with pytest.raises(SystemExit, match="increasing"):
        main(["--config", "x.json", "--runs", str(tmp_path), "--windows", "20,10", "--out", str(tmp_path / "r.json")])
