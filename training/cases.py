"""The test cases the evaluations score, and the per-split subset they score when given a limit.

A case is one line of a test set (training/data/testset-v*.jsonl, written by training.make_data): case_id, split,
skill_id, family, params, skill_md, messages, expected, length_bucket. An external folder of skills (each a folder
with SKILL.md and cases.jsonl lines {"input", "expected"}) reads as cases of one split, "external".

The subset: `sample_per_split` is the sampler of every tool (training.bench_skills, training.adapter_ce,
`training.eval_base --bench-cases`, and through bench_skills --plan the browser benchmark). One older selection is
kept by name: "eval_base", the per-split shuffle that `training.eval_base --limit N` without --bench-cases has always
used, so that the committed results made with it (bench/results/base-eval-v2-sample20.json, whose entries record
`case_selection: "eval_base"`) and the runs appended to them score the same cases. A result names its selection in
`case_selection`; tests pin both selections to the case ids of committed results.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

SELECTIONS = ("bench_skills", "eval_base")


def numbered_jsonl(path: Path):
    """(line index from 0, record) for each non-blank line of a JSONL file; a line that is not JSON is named."""
    with Path(path).open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            if line.strip():
                try:
                    yield i, json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{i + 1}: not a JSON line ({e.msg})") from None


def read_jsonl(path: Path) -> list[dict]:
    """The records of a JSONL file in file order (blank lines skipped)."""
    return [record for _, record in numbered_jsonl(path)]


def read_testset(path: Path) -> list[dict]:
    """Every case of a test set, in file order."""
    return read_jsonl(path)


def read_skills_dir(skills_dir: Path) -> list[dict]:
    """Cases of an external folder of skills, one split "external", each skill its own family."""
    cases = []
    for d in sorted(p for p in Path(skills_dir).iterdir() if (p / "SKILL.md").exists()):
        skill_md = (d / "SKILL.md").read_text(encoding="utf-8")
        # Case ids count the file's lines (blank ones too), as they always have: ids of a folder scored before stay.
        for i, c in numbered_jsonl(d / "cases.jsonl"):
            cases.append({"case_id": f"{d.name}-{i}", "split": "external", "skill_id": d.name, "family": d.name, "params": {},
                          "skill_md": skill_md, "messages": [{"role": "user", "content": c["input"]}], "expected": c["expected"],
                          "length_bucket": "long" if len(skill_md.split()) > 200 else "short"})
    return cases


def sample_per_split(cases: list[dict], limit: int, seed: int, selection: str = "bench_skills") -> list[dict]:
    """At most `limit` cases per split (0: every case), the same subset for every model and run with the same seed.

    "bench_skills": the splits in sorted order, each all its cases in file order (limit 0) or random.sample of them,
    all drawn from one random.Random(seed).
    "eval_base": every case in file order (limit 0), or each split in the order it first appears, shuffled by
    random.Random(f"{seed}:{split}"), its first `limit` cases (the older eval_base subset; see the module docstring).
    The order matters beyond the subset: the benchmark's plan draws other skills' adapters case by case."""
    if selection not in SELECTIONS:
        raise ValueError(f"unknown case selection {selection!r}; one of {SELECTIONS}")
    if not limit and selection == "eval_base":
        return list(cases)
    by_split: dict[str, list[dict]] = {}
    for c in cases:
        by_split.setdefault(c["split"], []).append(c)
    out: list[dict] = []
    if selection == "bench_skills":
        rng = random.Random(seed)
        for split in sorted(by_split):
            group = by_split[split]
            out += rng.sample(group, min(limit, len(group))) if limit else group
        return out
    for split, group in by_split.items():
        items = list(group)
        random.Random(f"{seed}:{split}").shuffle(items)
        out += items[:limit]
    return out


def testset_identity(path: Path) -> dict:
    """What a result's per-case record names its test set by: the path as given and the file's sha256 (case ids such
    as train-0000 recur across test-set versions and name other cases there)."""
    import hashlib

    return {"path": str(path), "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()}


def families_in(path: Path) -> set[str]:
    """The skill families named in a JSONL file (a test set, skills.jsonl): e.g. those a base model was trained on."""
    found = {r.get("family") for r in read_jsonl(path)}
    found.discard(None)
    if not found:
        raise SystemExit(f"{path} names no skill family (no 'family' field)")
    return found


def load_cases(testset: Path, limit: int = 0, seed: int = 0, *, skills_dir: Path | None = None,
               selection: str = "bench_skills", families: set[str] | None = None) -> list[dict]:
    """The cases a run scores: an external skills folder's (all of them), or a test set's subset (sample_per_split),
    of the given families only when `families` is set."""
    if skills_dir:
        return read_skills_dir(skills_dir)
    cases = read_testset(testset)
    if families is not None:
        cases = [c for c in cases if c["family"] in families]
    return sample_per_split(cases, limit, seed, selection)
