"""Test session set-up: the git-ignored training data is regenerated (deterministic, ~2 s) when missing."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pytest_sessionstart(session):
    if not (ROOT / "training/data/train.jsonl").exists():
        subprocess.run([sys.executable, "-m", "training.make_data", "--seed", "0", "--out", "training/data"], cwd=ROOT, check=True)
