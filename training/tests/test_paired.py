"""training.paired: McNemar's exact test on the cases two conditions split, from the per-case records of result files."""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from training.paired import main, mcnemar_exact, paired
from training.skills.scoring import per_case


def test_mcnemar_exact_matches_binomial_tails_worked_by_hand() -> None:
    assert mcnemar_exact(8, 0) == float(Fraction(2, 2**8))  # 8 of 8 discordant one way: 2 * (1/2)^8
    assert mcnemar_exact(2, 10) == pytest.approx(float(Fraction(2 * (1 + 12 + 66), 2**12)))  # 2 * P(X <= 2), X ~ Bin(12, 1/2)
    assert mcnemar_exact(5, 5) == 1.0 and mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(3, 4) == mcnemar_exact(4, 3)


def test_per_case_lists_what_passed_per_condition() -> None:
    case = lambda i, split: {"case_id": f"c{i}", "split": split}  # noqa: E731
    record = per_case([{"x": [(case(1, "train"), {"pass": True}), (case(0, "heldout_params"), {"pass": False})],
                        "y": [(case(1, "train"), {"pass": False}), (case(0, "heldout_params"), {"pass": True})]},
                       {"x": [(case(1, "train"), {"pass": True}), (case(0, "heldout_params"), {"pass": True})]}])
    assert record == {"case_ids": {"heldout_params": ["c0"], "train": ["c1"]},
                      "passed_by_seed": [{"x": ["c1"], "y": ["c0"]}, {"x": ["c0", "c1"]}]}


def write(path: Path, passed_by_seed: list[dict], case_ids: dict, key: str | None = None) -> str:
    entry = {"per_case": {"case_ids": case_ids, "passed_by_seed": passed_by_seed}}
    path.write_text(json.dumps({key: entry} if key else entry))
    return f"{path}#{key}" if key else str(path)


CASES = {"heldout_family": ["f0", "f1"], "heldout_params": ["p0", "p1", "p2"], "train": ["t0"]}


def test_counts_per_split_and_pooled_over_held_out_splits(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a = write(tmp_path / "bench.json", [{"adapter": ["p0", "p1", "p2", "f0", "t0"]}], CASES)
    b = write(tmp_path / "eval.json", [{"icl": ["p0", "t0"]}], CASES, key="gemma-plain")
    out = tmp_path / "paired.json"
    main(["--a", a, "adapter", "--b", b, "icl", "--out", str(out)])
    result = json.loads(out.read_text())
    row = result["per_seed"][0]
    assert row["heldout_params"] == {"n_cases": 3, "both": 1, "only_a": 2, "only_b": 0, "neither": 0, "a_pass_rate": 1.0,
                                    "b_pass_rate": pytest.approx(1 / 3), "difference_points": pytest.approx(200 / 3),
                                    "mcnemar_p": 0.5}
    assert (row["heldout"]["n_cases"], row["heldout"]["only_a"], row["heldout"]["only_b"]) == (5, 3, 0)
    assert row["heldout"]["mcnemar_p"] == 0.25
    assert row["train"]["both"] == 1
    assert result["command"].startswith("python -m training.paired --a ")
    assert "only A   3" in capsys.readouterr().out


def test_seeds_pair_one_to_one_or_one_to_many(tmp_path: Path) -> None:
    three = [{"adapter": ["p0"]}, {"adapter": ["p1"]}, {"adapter": []}]
    a = {"spec": "a", "condition": "adapter", "case_ids": CASES, "passed": [set(s["adapter"]) for s in three]}
    one = {"spec": "b", "condition": "icl", "case_ids": CASES, "passed": [{"p1"}]}
    rows = paired(a, one)["per_seed"]
    assert [(r["heldout_params"]["only_a"], r["heldout_params"]["only_b"]) for r in rows] == [(1, 1), (0, 0), (0, 1)]
    assert len(paired(a, a)["per_seed"]) == 3
    with pytest.raises(SystemExit, match="3 seeds against 2"):
        paired(a, {**one, "passed": [set(), set()]})


def test_refusals_say_what_is_wrong(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", [{"adapter": []}], CASES)
    other = write(tmp_path / "b.json", [{"icl": []}], {**CASES, "train": ["t0", "t1"]})
    with pytest.raises(SystemExit, match="scored different cases"):
        main(["--a", a, "adapter", "--b", other, "icl"])
    with pytest.raises(SystemExit, match="no condition 'icl'"):
        main(["--a", a, "icl", "--b", other, "icl"])
    with pytest.raises(SystemExit, match="no entry 'x'"):
        main(["--a", a + "#x", "adapter", "--b", other, "icl"])
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"conditions": {}}))
    with pytest.raises(SystemExit, match="no per_case record"):
        main(["--a", str(old), "adapter", "--b", other, "icl"])


def test_common_pairs_a_subset_run_with_a_full_one_of_the_same_test_set(tmp_path: Path) -> None:
    v2 = {"path": "training/data/testset-v2.jsonl", "sha256": "b" * 64}
    full = write(tmp_path / "full.json", [{"icl": ["p0", "p1", "f0", "t0"]}], CASES)
    subset = {"heldout_params": ["p1", "p2"], "train": ["t0"]}
    part = write(tmp_path / "part.json", [{"icl": ["p2", "t0"]}], subset)
    with pytest.raises(SystemExit, match="or --common"):
        main(["--a", part, "icl", "--b", full, "icl"])
    # Neither names its test set (files written before they did): only on the user's word.
    with pytest.raises(SystemExit, match="--same-testset"):
        main(["--a", part, "icl", "--b", full, "icl", "--common"])
    out = tmp_path / "paired.json"
    main(["--a", part, "icl", "--b", full, "icl", "--common", "--same-testset", "--out", str(out)])
    result = json.loads(out.read_text())
    row = result["per_seed"][0]
    assert set(row) == {"heldout_params", "train", "heldout"}  # the full file's heldout_family is not the subset's
    assert (row["heldout_params"]["n_cases"], row["heldout_params"]["only_a"], row["heldout_params"]["only_b"]) == (2, 1, 1)
    assert row["train"]["both"] == 1 and result["cases_scored"] == {"a": 3, "b": 6} and result["testset"]["vouched"]
    none = write(tmp_path / "none.json", [{"icl": []}], {"heldout_family": ["x"]})
    with pytest.raises(SystemExit, match="no case in common"):
        main(["--a", none, "icl", "--b", part, "icl", "--common", "--same-testset"])
    # Files that name their test sets: the same one pairs without a word; another is refused, --same-testset or not.
    named = lambda name, passed, ids, ts: str(tmp_path / name) if (tmp_path / name).write_text(json.dumps(  # noqa: E731
        {"per_case": {"case_ids": ids, "passed_by_seed": passed, "testset": ts}})) else ""
    a = named("a2.json", [{"icl": ["p2"]}], subset, v2)
    b = named("b2.json", [{"icl": ["p1"]}], CASES, v2)
    main(["--a", a, "icl", "--b", b, "icl", "--common"])
    v1 = named("b1.json", [{"icl": ["p1"]}], CASES, {"path": "training/data/testset-v1.jsonl", "sha256": "a" * 64})
    for extra in ([], ["--same-testset"]):
        with pytest.raises(SystemExit, match="another test set"):
            main(["--a", a, "icl", "--b", v1, "icl", "--common", *extra])
    with pytest.raises(SystemExit, match="another test set"):  # without --common too, where both name theirs
        main(["--a", named("a1.json", [{"icl": []}], CASES, v2), "icl", "--b", v1, "icl"])
