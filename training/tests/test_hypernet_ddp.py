"""DistributedDataParallel hypernetwork training on the tiny pack: 2 CPU processes (gloo) launched by torchrun.

The tests launch this file as the training script (under torchrun or plain python, see the bottom): it runs
training.train_hypernet.main and saves the hypernetwork each rank ends with, so the ranks can be compared.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from training.hypernet import load_hypernet

ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp: Path, name: str, **overrides) -> Path:
    cfg = {"pack": "public/models/tiny-random", "out": str(tmp / name), "cache_dir": str(tmp / "cache"), "max_skills": 6,
           "chunk_tokens": 128, "d_model": 32, "mlp_hidden": 64, "batch_size": 2, "max_steps": 3, "warmup_steps": 1,
           "anchor_every": 1, "log_every": 1, "threads": 1, **overrides}
    path = tmp / f"{name}.json"
    path.write_text(json.dumps(cfg))
    return path


def train(config: Path, nproc: int, *flags: str) -> list[dict]:
    """Runs this file on nproc processes; returns the JSON log lines printed."""
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"] if nproc > 1 else []
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, *launcher, __file__, *flags, "--config", str(config)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-4000:]
    return [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]


def weights(config: Path, rank: int = 0) -> dict[str, torch.Tensor]:
    return torch.load(Path(json.loads(config.read_text())["out"]) / f"weights-rank{rank}.pt")


def test_ranks_stay_identical_rank0_saves_and_resumes(tmp_path):
    config = write_config(tmp_path, "run")
    log = train(config, 2)
    assert [e["step"] for e in log] == [1, 2, 3]  # only rank 0 logs
    # Each rank drew its own examples; DDP averaged the gradients, so both ranks hold the same weights.
    rank0, rank1 = weights(config, 0), weights(config, 1)
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)
    saved = load_hypernet(tmp_path / "run/hypernet.safetensors").state_dict()
    assert saved.keys() == rank0.keys() and all(torch.equal(saved[k], rank0[k]) for k in saved)
    assert any(saved[k].abs().sum() > 0 for k in saved if k.startswith("head_b"))  # it trained

    config = write_config(tmp_path, "run", max_steps=5)
    assert [e["step"] for e in train(config, 2)] == [4, 5]  # both ranks resumed from rank 0's checkpoint
    rank0, rank1 = weights(config, 0), weights(config, 1)
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)
    assert torch.load(tmp_path / "run/ckpt.pt", weights_only=False)["step"] == 5


def test_ddp_step_equals_one_process_on_the_union_of_the_batches(tmp_path):
    # Two steps: after the first only head_b moves (B starts at zero, so nothing else gets a gradient).
    common = {"max_steps": 2, "lr": 0.5, "multi_slot_prob": 0.0}
    ddp = write_config(tmp_path, "ddp", batch_size=2, **common)
    union = write_config(tmp_path, "union", batch_size=4, **common)
    alone = write_config(tmp_path, "alone", batch_size=2, **common)  # rank 0's batches only
    train(ddp, 2, "--fixed-sgd")
    train(union, 1, "--fixed-sgd")
    train(alone, 1, "--fixed-sgd")
    got, want, without_rank1 = weights(ddp), weights(union), weights(alone)
    assert max((got[k] - want[k]).abs().max().item() for k in got) < 1e-5
    # Rank 1's examples mattered: the tolerance above tells an averaged update from rank 0's own.
    assert max((got[k] - without_rank1[k]).abs().max().item() for k in got) > 1e-3


def fixed_draw(data, rng, n):
    """Rank r gets examples [r*n, (r+1)*n) of four fixed ones (one process with n = 4 gets all four), at every draw.
    The four have the same number of answer tokens, so the mean over ranks of each rank's mean-per-token loss
    (what DDP's averaged gradient descends) equals the mean-per-token loss over the union batch."""
    by_tokens: dict[int, list] = {}
    for j, example in enumerate(data.examples):
        by_tokens.setdefault(sum(example[2][1:]), []).append(j)
    four = next(v for n_tokens, v in sorted(by_tokens.items()) if n_tokens > 0 and len(v) >= 4)[:4]
    rank = int(os.environ.get("RANK", 0))
    return four[rank * n:(rank + 1) * n]


if __name__ == "__main__":
    from training import train_hypernet

    args = sys.argv[1:]
    if args[0] == "--fixed-sgd":
        args = args[1:]
        train_hypernet.draw = fixed_draw
        # Plain SGD: AdamW's first step is about lr * sign(gradient), which would hide how gradients were combined.
        torch.optim.AdamW = torch.optim.SGD
    net = train_hypernet.main(args)
    out = Path(json.loads(Path(args[args.index("--config") + 1]).read_text())["out"])
    torch.save(net.state_dict(), out / f"weights-rank{os.environ.get('RANK', '0')}.pt")
