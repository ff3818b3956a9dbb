"""Hypernetwork training mechanics on the tiny pack: it runs, moves B off zero, checkpoints and resumes."""
import json
import subprocess
import sys
from pathlib import Path

import torch

from training.hypernet import compose_slots, load_hypernet
from training.model import LoraSpec

ROOT = Path(__file__).resolve().parents[2]


def command(out: Path, steps: int, extra: list[str] = ()) -> list[str]:
    """A tiny training run on the tiny pack; options in `extra` come last, so they override these."""
    return [sys.executable, "-m", "training.train_hypernet", "--pack", "public/models/tiny-random", "--out", str(out),
            "--max_skills", "12", "--max_steps", str(steps), "--chunk_tokens", "128", "--d_model", "32", "--mlp_hidden", "64",
            "--batch_size", "4", "--log_every", "5", "--warmup_steps", "2", "--lr", "3e-3", "--threads", "1", *extra]


def run(out: Path, steps: int, extra: list[str] = ()) -> list[dict]:
    res = subprocess.run(command(out, steps, extra), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    return [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]


def test_trains_checkpoints_and_resumes(tmp_path):
    first = run(tmp_path, 10)
    assert first[-1]["step"] == 10
    resumed = run(tmp_path, 20)
    assert resumed[0]["step"] == 15  # continued from the checkpoint, not from step 0
    state = torch.load(tmp_path / "ckpt.pt", weights_only=False)
    assert state["step"] == 20
    net = load_hypernet(tmp_path / "hypernet.safetensors")
    # Training moved B away from its zero start: adapters now change the model.
    assert any(h.weight.abs().sum() > 0 for h in net.head_b)


def test_training_slots_concatenate_rank_and_scale_b():
    """The trainer's per-example adapters in 2 of 4 slots: rank-concatenated, alpha / r folded into B, no zero slots;
    bit for bit the concatenation scaled once that training used before compose_slots served it."""
    lora = LoraSpec(rank=4, alpha=8.0, target_modules=["q_proj"], slots=4)
    a1, b1 = torch.randn(2, 3, 5, 4), torch.randn(2, 3, 4, 6)
    a2, b2 = torch.randn(2, 3, 5, 4), torch.randn(2, 3, 4, 6)
    out = compose_slots([{"q_proj": (a1, b1)}, {"q_proj": (a2, b2)}], [1.0, 1.0], lora, fill_slots=False)
    a, b = out["q_proj"]
    assert a.shape == (2, 3, 5, 8) and b.shape == (2, 3, 8, 6)
    assert torch.equal(a, torch.cat([a1, a2], -1)) and torch.equal(b, torch.cat([b1, b2], -2) * 2.0)
    x = torch.randn(2, 7, 5)
    want = 2.0 * ((x @ a1[:, 1]) @ b1[:, 1] + (x @ a2[:, 1]) @ b2[:, 1])
    assert torch.allclose((x @ a[:, 1]) @ b[:, 1], want, atol=1e-5)
    filled = compose_slots([{"q_proj": (a1, b1)}], [0.5], lora)["q_proj"]
    assert filled[0].shape == (2, 3, 5, 16) and torch.count_nonzero(filled[0][..., 4:]) == 0
    assert torch.equal(filled[1][..., :4, :], b1 * 2.0 * 0.5)


def test_decisive_weight_caches_the_base_misses_once(tmp_path):
    args = ["--cache_dir", str(tmp_path / "cache"), "--decisive_weight", "4"]
    first = run(tmp_path / "a", 5, args)
    assert first[-1]["step"] == 5 and first[-1]["ce"] > 0
    cached = list((tmp_path / "cache").glob("base-misses-*.pt"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    run(tmp_path / "b", 5, args)  # a second seed reads the cache instead of rebuilding it
    assert cached[0].stat().st_mtime_ns == stamp


def test_bias_rank_penalty_siblings_and_teacher_train_together(tmp_path):
    """A bias LoRA with a penalty on the generated part, sibling groups with the contrast, the teacher's KL and the
    decisive weight in one run: every term is logged and finite, and the saved file is a version-2 hypernetwork."""
    args = ["--cache_dir", str(tmp_path / "cache"), "--bias_rank", "2", "--gen_penalty", "10", "--sibling_fraction", "0.5",
            "--sibling_k", "2", "--contrast_weight", "0.5", "--kl_weight", "0.5", "--decisive_weight", "2", "--max_skills", "40"]
    log = run(tmp_path / "run", 10, args)
    last = log[-1]
    assert last["step"] == 10
    for k in ("ce", "kl", "contrast", "sibling_gap", "gen_size"):
        assert k in last and last[k] == last[k] and abs(last[k]) < 1e6, (k, last)
    assert last["gen_size"] > 0
    net = load_hypernet(tmp_path / "run/hypernet.safetensors")
    assert net.config.bias_rank == 2 and net.config.format_version == 2


def test_encoder_layers_other_than_the_packs(tmp_path):
    """--encoder_layers: the hypernetwork reads those layers (its config says so, the benchmark's runner follows it)
    and the pack refuses it, since the pack's graph gives other layers."""
    import pytest

    from training.export.add_hypernet import add_hypernet
    from training.runner import Runner

    log = run(tmp_path / "run", 5, ["--cache_dir", str(tmp_path / "cache"), "--encoder_layers", "0"])
    assert log[-1]["step"] == 5
    assert list((tmp_path / "cache").glob("encodings-*-L0.pt"))
    net = load_hypernet(tmp_path / "run/hypernet.safetensors")
    assert net.config.encoder_layers == [0] and net.config.num_encoder_layers == 1
    manifest = json.loads((ROOT / "public/models/tiny-random/manifest.json").read_text())
    assert net.config.reads_layers(manifest) == [0] != manifest["encoder"]["layers"]
    with pytest.raises(ValueError, match="reads base layers"):
        add_hypernet(ROOT / "public/models/tiny-random", tmp_path / "run/hypernet.safetensors")
    with pytest.raises(AssertionError, match="distinct ascending"):
        run(tmp_path / "bad", 1, ["--encoder_layers", "1,0"])


def test_atoms_head_trains_b_off_zero(tmp_path):
    """--head atoms: the loss stays finite, training moves B off its zero start, and the file is version 3."""
    import pytest

    log = run(tmp_path / "run", 5, ["--cache_dir", str(tmp_path / "cache"), "--head", "atoms", "--num_atoms", "4"])
    assert log[-1]["step"] == 5 and torch.isfinite(torch.tensor(log[-1]["ce"])) and torch.isfinite(torch.tensor(log[-1]["anchor"]))
    net = load_hypernet(tmp_path / "run/hypernet.safetensors")
    assert net.config.head == "atoms" and net.config.num_atoms == 4 and net.config.format_version == 3
    c = net.config
    with torch.no_grad():
        out = net(torch.randn(2, c.num_encoder_layers, 6, c.hidden_size))
    assert all(torch.count_nonzero(b) > 0 for _, b in out.values())
    with pytest.raises(AssertionError, match="head must be one of"):
        run(tmp_path / "bad", 1, ["--head", "mixture"])


def test_decisive_weight_leaves_the_sibling_rows_after_the_picked_ones_at_weight_1():
    """weighted_answer_ce with sibling rows after the picked examples' rows: the base's misses weigh the picked rows,
    the trailing rows weigh 1 (checked against the weighted mean written out)."""
    from types import SimpleNamespace

    from training.train_hypernet import weighted_answer_ce

    torch.manual_seed(0)
    data = SimpleNamespace(misses=[torch.tensor([True, False]), torch.tensor([False, True, True])])
    logits, targets = torch.randn(8, 11), torch.randint(0, 11, (8,))
    loss, plain = weighted_answer_ce(data, [0, 1], logits, targets, 3.0)
    ce = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
    w = torch.tensor([3.0, 1, 1, 3, 3, 1, 1, 1])
    assert torch.allclose(loss, (w * ce).sum() / w.sum()) and torch.allclose(plain, ce.mean())
    only_siblings, _ = weighted_answer_ce(data, [], logits, targets, 3.0)
    assert torch.allclose(only_siblings, ce.mean())


def test_resume_refuses_a_checkpoint_made_with_other_shaping_options(tmp_path):
    import pytest

    run(tmp_path, 5, ["--cache_dir", str(tmp_path / "cache")])
    with pytest.raises(AssertionError, match="trained with other bias_rank"):
        run(tmp_path, 10, ["--cache_dir", str(tmp_path / "cache"), "--bias_rank", "1"])


def test_cpu_clock_gives_a_paused_run_its_whole_budget(tmp_path):
    """--clock cpu counts the process's CPU time: a run stopped (SIGSTOP) for longer than its budget goes on after."""
    import signal
    import time

    cmd = command(tmp_path, 100000, ["--checkpoint_minutes", "100", "--max_minutes", "0.04", "--clock", "cpu"])
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = []
    for line in proc.stdout:
        if line.startswith("{"):
            lines.append(json.loads(line))
            if len(lines) == 1:
                proc.send_signal(signal.SIGSTOP)
                time.sleep(4)  # longer than the 2.4 s budget: a wall clock would end the run at its next step
                proc.send_signal(signal.SIGCONT)
    assert proc.wait(timeout=600) == 0
    assert len(lines) >= 4, lines
    assert lines[-1]["elapsed_s"] < 4, lines[-1]  # CPU seconds, not the wall time with the pause


def test_an_unknown_clock_is_refused_before_any_work(tmp_path):
    for bad in (["--clock", "gpu"], ["--clock", "cpu", "--device", "cuda"]):
        res = subprocess.run(command(tmp_path, 5, bad), cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert res.returncode != 0 and "clock must be" in res.stderr, res.stderr[-2000:]
        assert not list(tmp_path.iterdir())  # refused before loading the pack or writing anything


def test_families_from_trains_on_the_named_families_only(tmp_path):
    named = tmp_path / "named.jsonl"
    named.write_text('{"family": "branch_name"}\n')
    cache = tmp_path / "cache"
    cmd = command(tmp_path / "run", 2, ["--max_skills", "0", "--cache_dir", str(cache), "--families_from", str(named)])
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert " train skills of 1 families named in " in res.stdout
    # Its own encodings cache: another subset of the same size never reads this one.
    assert [p.name for p in cache.iterdir() if "-F" in p.name]
    with open(ROOT / "training/data/train.jsonl") as f:
        branch = sum(json.loads(line)["family"] == "branch_name" and json.loads(line).get("subset", "train") == "train" for line in f)
    assert f"skills, {branch} examples" in res.stdout


def test_init_from_starts_from_a_trained_file_and_refuses_another_shape(tmp_path):
    run(tmp_path / "a", 6)
    trained = load_hypernet(tmp_path / "a" / "hypernet.safetensors")
    # A zero-step run started from it saves exactly its weights (a fresh run starts with B at zero).
    run(tmp_path / "b", 0, ["--init_from", str(tmp_path / "a" / "hypernet.safetensors")])
    warm = load_hypernet(tmp_path / "b" / "hypernet.safetensors")
    assert all(torch.equal(v, warm.state_dict()[k]) for k, v in trained.state_dict().items())
    assert any(h.weight.abs().sum() > 0 for h in warm.head_b)
    res = subprocess.run(command(tmp_path / "c", 2, ["--init_from", str(tmp_path / "a" / "hypernet.safetensors"), "--d_model", "48"]),
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode != 0 and "has another shape (d_model)" in res.stderr


def test_param_probe_trains_with_the_network_resumes_and_stays_out_of_the_saved_file(tmp_path):
    args = ["--cache_dir", str(tmp_path / "cache"), "--param_weight", "1", "--max_skills", "40"]
    first = run(tmp_path / "run", 10, args)
    # params_acc is None in a batch whose skills' parameters each have one value among the 40 skills
    assert all((r["params_acc"] is None or 0 <= r["params_acc"] <= 1) and 0 <= r["family_acc"] <= 1 and 0 <= r["params"] < 10
               for r in first), first
    probe10 = torch.load(tmp_path / "run/ckpt.pt", weights_only=False)["probe"]
    assert probe10["weight"].abs().sum() > 0  # it starts at zero: training moved it
    # Resumed with nothing left to train, the saved probe is the one it resumed from (a probe not loaded is zero).
    run(tmp_path / "run", 10, args)
    assert torch.equal(torch.load(tmp_path / "run/ckpt.pt", weights_only=False)["probe"]["weight"], probe10["weight"])
    resumed = run(tmp_path / "run", 15, args + ["--param_weight", "2"])  # another weight: still a probe, resumed
    assert resumed[0]["step"] == 15 and "params" in resumed[0]
    # The shipped file is the hypernetwork alone, as without the probe.
    plain = run(tmp_path / "plain", 5, args[:2] + args[4:])
    assert "params" not in plain[-1]
    names = lambda p: set(load_hypernet(p).state_dict())  # noqa: E731
    assert names(tmp_path / "run/hypernet.safetensors") == names(tmp_path / "plain/hypernet.safetensors")
    # A checkpoint made without the probe is not resumed with it (no probe state to go on from).
    res = subprocess.run(command(tmp_path / "plain", 10, args), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode != 0 and "other param_probe" in res.stderr


def test_logistic_contrast_trains_and_an_unknown_kind_is_refused(tmp_path):
    args = ["--cache_dir", str(tmp_path / "cache"), "--max_skills", "40", "--sibling_fraction", "0.5", "--sibling_k", "2",
            "--contrast_weight", "1", "--contrast_loss", "logistic"]
    log = run(tmp_path / "run", 10, args)
    assert all(0 <= r["contrast"] < 50 for r in log), log  # a softplus: never below 0
    res = subprocess.run(command(tmp_path / "bad", 1, args[:-1] + ["margin"]), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode != 0 and "contrast_loss must be 'hinge' or 'logistic'" in res.stderr
