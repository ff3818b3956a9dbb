"""training/config.py: the one learning-rate schedule gives, bit for bit, the rates each trainer's own schedule gave
for every committed config, and train_small's dataclass config reads the committed configs as its dict config did."""
import json
import math
from dataclasses import asdict
from pathlib import Path

import pytest

from training.config import run_progress, step_lr, to_dict, warmup_cosine
from training.skill_tune import SkillTuneConfig
from training.train_hypernet import TrainConfig
from training.train_small import SmallConfig, load_config, model_config

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "training/configs"


def hypernet_lr_before(step: int, cfg, minutes: float = 0.0) -> float:
    """train_hypernet.lr_at as it stood (skill_tune imported it and passed no clock)."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = min(1.0, (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps))
    if cfg.max_minutes > 0:
        progress = max(progress, min(1.0, minutes / cfg.max_minutes))
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def small_lr_before(cfg: dict, step: int, tokens: int, train_time_s: float) -> float:
    """train_small's progress and lr_at as they stood, on its dict config."""
    done = tokens / cfg["max_tokens"]
    if cfg["max_train_s"]:
        done = max(done, train_time_s / cfg["max_train_s"])
    done = min(1.0, done)
    if step < cfg["warmup_steps"]:
        return cfg["lr"] * (step + 1) / cfg["warmup_steps"]
    return cfg["min_lr"] + 0.5 * (cfg["lr"] - cfg["min_lr"]) * (1 + math.cos(math.pi * done))


@pytest.mark.parametrize("name", ["skill-tune-gemma.json", "hypernet-gemma.json", "hypernet-small.json", "hypernet-small-gpu.json"])
def test_step_schedule_is_the_old_one_bit_for_bit(name):
    values = json.loads((CONFIGS / name).read_text())
    cfg = SkillTuneConfig(**values) if name.startswith("skill-tune") else TrainConfig(**values)
    last = min(cfg.max_steps, 20000) + 5
    for step in range(last):
        assert step_lr(step, cfg) == hypernet_lr_before(step, cfg), step
    if name.startswith("hypernet"):  # the hypernetwork trainer's clock: the run may end by max_minutes first
        for step in range(0, last, 7):
            for minutes in (0.0, 0.3, cfg.max_minutes / 3, cfg.max_minutes * 0.77, cfg.max_minutes, cfg.max_minutes + 1):
                assert step_lr(step, cfg, minutes) == hypernet_lr_before(step, cfg, minutes), (step, minutes)


def test_the_resumed_skill_tune_run_steps_with_the_recorded_rates():
    """The committed skill-tune record logs the rate of its steps: the schedule gives them again."""
    record = json.loads((ROOT / "training/results/skill-tune-gemma.json").read_text())
    cfg = SkillTuneConfig(**record["config"])
    assert cfg == SkillTuneConfig(**json.loads((CONFIGS / "skill-tune-gemma.json").read_text()))
    logged = [e for e in record["log"] if "lr" in e]
    assert len(logged) > 10
    for entry in logged:
        assert step_lr(entry["step"] - 1, cfg) == entry["lr"], entry  # the rate set before the logged step


@pytest.mark.parametrize("name", ["small.json", "small-gpu.json"])
def test_small_schedule_is_the_old_one_bit_for_bit(name):
    cfg = load_config(CONFIGS / name, [])
    old = to_dict(cfg)
    for step in range(0, 3 * cfg.warmup_steps):
        for tokens in (0, 12345, cfg.max_tokens // 3):
            for t in (0.0, 17.5, cfg.max_train_s / 2):
                progress = run_progress(tokens, cfg.max_tokens, t, cfg.max_train_s)
                assert warmup_cosine(step, cfg.lr, cfg.warmup_steps, progress, min_lr=cfg.min_lr) == small_lr_before(old, step, tokens, t)
    for i in range(2001):
        tokens = cfg.max_tokens * i // 2000
        progress = run_progress(tokens, cfg.max_tokens, 0.0, 0)
        assert warmup_cosine(10**6, cfg.lr, cfg.warmup_steps, progress, min_lr=cfg.min_lr) == small_lr_before({**old, "max_train_s": 0}, 10**6, tokens, 0.0)


def test_small_config_reads_the_committed_run_as_before():
    """The committed small run's config (its command: small-gpu.json, --max_train_s=240 --device=cuda) comes back
    key for key and in order, as the dict config wrote it into the checkpoint, results and pack."""
    record = json.loads((ROOT / "training/results/small-train.json").read_text())
    assert record["command"].endswith("--config training/configs/small-gpu.json --max_train_s=240 --device=cuda")
    cfg = load_config(CONFIGS / "small-gpu.json", ["--max_train_s=240", "--device=cuda"])
    now = to_dict(cfg)
    assert [(k, v) for k, v in now.items() if k in record["config"]] == list(record["config"].items())
    # Keys added since that run, at their defaults (which keep its behaviour): milestone_dir "" (no milestones).
    assert {k: v for k, v in now.items() if k not in record["config"]} == {"milestone_dir": ""}
    small = load_config(CONFIGS / "small.json", ["--model.hidden_size=128", "--bf16=false", "--lr=0.01"])
    assert small.model.hidden_size == 128 and small.model.num_attention_heads == 3 and small.bf16 is False and small.lr == 0.01
    assert model_config(small).hidden_size == 128 and model_config(small).vocab_size == 4096
    assert asdict(load_config(None, [])) == asdict(SmallConfig())
    with pytest.raises(SystemExit, match="unknown config key 'model.width'"):
        load_config(None, ["--model.width=3"])
    with pytest.raises(SystemExit, match="unknown config key 'nope'"):
        load_config(None, ["--nope=1"])
    with pytest.raises(SystemExit, match="must look like --key=value"):
        load_config(None, ["--lr"])


def test_bf16_is_used_only_where_the_cpu_has_it(monkeypatch):
    """bfloat16 autocast only where it is native: the detection agrees with the CPU's own flags (Linux), and a CPU
    without them trains in float32 and says so."""
    from pathlib import Path as P

    import training.config as config

    cpuinfo = P("/proc/cpuinfo")
    if cpuinfo.exists():
        flags = set(next((line.split(":", 1)[1].split() for line in cpuinfo.read_text().splitlines() if line.startswith("flags")), []))
        assert config.bf16_is_fast("cpu") == bool(flags & {"avx512_bf16", "amx_tile"}), sorted(flags & {"avx512_bf16", "amx_bf16", "amx_tile"})
    said = []
    monkeypatch.setattr(config, "bf16_is_fast", lambda device="cpu": False)
    assert config.effective_bf16(True, "cpu", said.append) is False and "float32" in said[0]
    assert config.effective_bf16(False, "cpu", said.append) is False and len(said) == 1
    monkeypatch.setattr(config, "bf16_is_fast", lambda device="cpu": True)
    assert config.effective_bf16(True, "cpu", said.append) is True and len(said) == 1
