"""Build the skill library, the training trajectories and the fixed, versioned test set.

    python -m training.make_data --seed 0 --out training/data

Writes to --out:
    skills.jsonl       every skill with its split (Skill.to_record(); SKILL.md text via Skill.to_markdown()).
    train.jsonl        conversations over train-split skills: {traj_id, skill_id, family, subset, kind, messages};
                       subset is "train", or "valid" for the whole skills kept aside for validation.
    testset-v2.jsonl   evaluation cases per split (train sample and the three held-out splits), every family of a split
                       the same number of times (testset-v1.jsonl, the 49-family set, stays committed for comparison);
                       each case is
                       self-contained: {case_id, split, skill_id, family, params, style, template, phrasing,
                       skill_md, skill_words, length_bucket, kind, messages, input, expected}.
    manifest.json      format and version, command, seed, config, counts and sha256 of the files above.
The same seed gives the same bytes in every data file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shlex
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from training.skills import FAMILIES, Skill, word_count
from training.skills.render import shows_example
from training.skills.splits import SPLITS, LibraryConfig, build_library, choose_heldout_families
from training.skills.trajectories import KINDS, Conversation, conversation, sample_kind

DATA_FORMAT = "parametric-skills-data"
DATA_FORMAT_VERSION = 1
TESTSET_VERSION = "v2"


@dataclass(frozen=True)
class DataConfig:
    library: LibraryConfig = field(default_factory=LibraryConfig)
    trajectories_per_skill: int = 10
    valid_fraction: float = 0.05  # share of train-split skills whose conversations form the validation subset
    # Cases per family in each split of the test set: every family is covered, none weighs more than another.
    cases_per_family: dict[str, int] = field(
        default_factory=lambda: {"train": 1, "heldout_phrasing": 2, "heldout_params": 2, "heldout_family": 8}
    )
    long_skill_words: int = 200  # a SKILL.md with more words than this is in the "long" length bucket


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def skill_conversation(skill: Skill, rng: random.Random) -> Conversation:
    """A conversation of a random kind over `skill` that never asks for one of the skill's own worked examples."""
    return conversation(FAMILIES[skill.family], skill.params, sample_kind(rng), rng, partial(shows_example, skill.body))


def trajectories(skills: list[Skill], seed: int, config: DataConfig) -> list[dict[str, Any]]:
    train_skills = [s for s in skills if s.split == "train"]
    picker = random.Random(f"{seed}:valid-skills")
    valid_ids = set(picker.sample([s.skill_id for s in train_skills], round(len(train_skills) * config.valid_fraction)))
    records = []
    for skill in train_skills:
        rng = random.Random(f"{seed}:trajectories:{skill.skill_id}")
        for k in range(config.trajectories_per_skill):
            conv = skill_conversation(skill, rng)
            records.append(
                {
                    "traj_id": f"{skill.skill_id}/{k:02d}",
                    "skill_id": skill.skill_id,
                    "family": skill.family,
                    "subset": "valid" if skill.skill_id in valid_ids else "train",
                    "kind": conv.kind,
                    "messages": conv.messages,
                }
            )
    return records


def split_pool(skills: list[Skill], split: str, per_family: int, rng: random.Random) -> list[Skill]:
    """per_family skills of each family in the split (cycling through a family's shuffled skills, so each is used
    before any is used twice), families interleaved in registry order."""
    by_family: dict[str, list[Skill]] = {}
    for skill in skills:
        if skill.split == split:
            by_family.setdefault(skill.family, []).append(skill)
    for pool in by_family.values():
        rng.shuffle(pool)
    return [pool[i % len(pool)] for i in range(per_family) for pool in by_family.values()]


def testset_cases(skills: list[Skill], seed: int, config: DataConfig) -> list[dict[str, Any]]:
    cases = []
    for split in SPLITS:
        rng = random.Random(f"{seed}:testset-{TESTSET_VERSION}:{split}")
        for i, skill in enumerate(split_pool(skills, split, config.cases_per_family[split], rng)):
            conv = skill_conversation(skill, rng)
            skill_md = skill.to_markdown()
            words = word_count(skill_md)
            cases.append(
                {
                    "case_id": f"{split}-{i:04d}",
                    "split": split,
                    "skill_id": skill.skill_id,
                    "family": skill.family,
                    "params": skill.params,
                    "style": skill.style,
                    "template": skill.template,
                    "phrasing": skill.phrasing,
                    "skill_md": skill_md,
                    "skill_words": words,
                    "length_bucket": "long" if words > config.long_skill_words else "short",
                    "kind": conv.kind,
                    "messages": conv.prompt,
                    "input": conv.final_input,
                    "expected": conv.expected,
                }
            )
    return cases


def file_entry(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def build_dataset(seed: int, out: Path, config: DataConfig = DataConfig()) -> dict[str, Any]:
    """Write every data file for `seed` under `out` and return the manifest (also written as manifest.json)."""
    out.mkdir(parents=True, exist_ok=True)
    skills = build_library(seed, config.library)
    trajs = trajectories(skills, seed, config)
    cases = testset_cases(skills, seed, config)
    files = {
        "skills.jsonl": [s.to_record() for s in skills],
        "train.jsonl": trajs,
        f"testset-{TESTSET_VERSION}.jsonl": cases,
    }
    for name, records in files.items():
        write_jsonl(out / name, records)
    manifest = {
        "format": DATA_FORMAT,
        "version": DATA_FORMAT_VERSION,
        "testset_version": TESTSET_VERSION,
        "command": shlex.join(["python", "-m", "training.make_data", *sys.argv[1:]]),
        "seed": seed,
        "config": asdict(config),
        "families": list(FAMILIES),
        "heldout_families": choose_heldout_families(seed, config.library.heldout_families),
        "skills_per_split": dict(Counter(s.split for s in skills)),
        "trajectories": {
            "by_subset": dict(Counter(t["subset"] for t in trajs)),
            "by_kind": {kind: sum(t["kind"] == kind for t in trajs) for kind in KINDS},
        },
        "test_cases": {
            "by_split": dict(Counter(c["split"] for c in cases)),
            "by_length_bucket": dict(Counter(f"{c['split']}/{c['length_bucket']}" for c in cases)),
        },
        "files": {name: file_entry(out / name) for name in files},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "data")
    parser.add_argument("--trajectories-per-skill", type=int, default=DataConfig.trajectories_per_skill)
    parser.add_argument("--train-skills-per-family", type=int, default=LibraryConfig.train_skills_per_family)
    args = parser.parse_args()
    config = DataConfig(
        library=LibraryConfig(train_skills_per_family=args.train_skills_per_family),
        trajectories_per_skill=args.trajectories_per_skill,
    )
    start = time.perf_counter()
    manifest = build_dataset(args.seed, args.out, config)
    print(json.dumps({k: manifest[k] for k in ("skills_per_split", "trajectories", "test_cases")}, indent=2))
    for name, entry in manifest["files"].items():
        print(f"{name}: {entry['bytes'] / 1e6:.2f} MB")
    print(f"done in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
