"""Paired comparison of two conditions on the same cases: which one passes more, and is the difference more than chance?

python -m training.paired --a bench/results/skills-gemma-python-40.json adapter \
    --b bench/results/gemma-plain-40.json#gemma-plain icl --out bench/results/paired-gemma-40.json

Each side is a result file with a `per_case` record (training.bench_skills, training.eval_base; `FILE#KEY` picks an
entry of a file that holds several, as eval_base's does) and a condition in it. Both must have scored the same
cases. Per split, and pooled over the held-out splits, it counts the cases both pass, only A passes and only B
passes, and gives McNemar's exact test: under "A and B are equally good", each case that one passes and the other
fails is a fair coin, so the two-sided p-value is a binomial tail on the discordant cases. Paired on the same cases,
it sees a difference that comparing two pass rates as if drawn apart would blur with the cases' own spread.

Files with several seeds (hypernetwork files) pair seed i of A with seed i of B; a one-seed side pairs with every
seed of the other. --common pairs on the cases both files scored (a --limit run against a full one, say); each side's
pass rate is then over those cases only, and the output says how many each side had.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from math import comb
from pathlib import Path

HELDOUT = ("heldout_phrasing", "heldout_params", "heldout_family")


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value: P(a split of the discordant cases at least this lopsided | fair coin)."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    k = min(only_a, only_b)
    tail = sum(comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def load_side(spec: str, condition: str) -> dict:
    path, _, key = spec.partition("#")
    data = json.loads(Path(path).read_text())
    if key:
        if key not in data:
            raise SystemExit(f"{path} has no entry {key!r} (it has: {', '.join(sorted(data))})")
        data = data[key]
    record = data.get("per_case")
    if record is None:
        raise SystemExit(f"{spec} has no per_case record: it was written before per-case results were kept; run its command again")
    seeds = record["passed_by_seed"]
    if condition not in seeds[0]:
        raise SystemExit(f"{spec} has no condition {condition!r} (it has: {', '.join(sorted(seeds[0]))})")
    return {"spec": spec, "condition": condition, "case_ids": record["case_ids"], "passed": [set(s[condition]) for s in seeds],
            "testset": record.get("testset")}


def compare(case_ids: list[str], a: set[str], b: set[str]) -> dict:
    both = sum(c in a and c in b for c in case_ids)
    only_a = sum(c in a and c not in b for c in case_ids)
    only_b = sum(c in b and c not in a for c in case_ids)
    n = len(case_ids)
    return {
        "n_cases": n, "both": both, "only_a": only_a, "only_b": only_b, "neither": n - both - only_a - only_b,
        "a_pass_rate": (both + only_a) / n if n else 0.0, "b_pass_rate": (both + only_b) / n if n else 0.0,
        "difference_points": 100 * (only_a - only_b) / n if n else 0.0,
        "mcnemar_p": mcnemar_exact(only_a, only_b),
    }


def common_cases(a: dict, b: dict) -> dict[str, list[str]]:
    """Per split, the cases both sides scored (splits only one side has are left out)."""
    out = {}
    for split in sorted(set(a["case_ids"]) & set(b["case_ids"])):
        ids = sorted(set(a["case_ids"][split]) & set(b["case_ids"][split]))
        if ids:
            out[split] = ids
    return out


def check_testsets(a: dict, b: dict, vouched: bool) -> None:
    """Case ids recur across test-set versions (train-0000 is another case in v1 and v2): sides that record their
    test set must record the same file; --common, which pairs by id across runs of other sizes, also needs both to
    record it, or the user's word (--same-testset) that they were scored on one."""
    ta, tb = a.get("testset"), b.get("testset")
    if ta and tb and ta["sha256"] != tb["sha256"]:
        raise SystemExit(f"{a['spec']} was scored on {ta['path']} and {b['spec']} on another test set ({tb['path']}): "
                         "their case ids name different cases")
    if not (ta and tb) and not vouched:
        missing = " and ".join(s["spec"] for s in (a, b) if not s.get("testset"))
        raise SystemExit(f"{missing} records no test set (written before results named theirs): with --common, pass "
                         "--same-testset if both were scored on the same test-set file")


def paired(a: dict, b: dict, common: bool = False, same_testset: bool = False) -> dict:
    if common:
        check_testsets(a, b, same_testset)
        shared = common_cases(a, b)
        if not shared:
            raise SystemExit(f"{a['spec']} and {b['spec']} scored no case in common")
        a, b = {**a, "case_ids": shared}, {**b, "case_ids": shared}
    elif a.get("testset") and b.get("testset"):
        check_testsets(a, b, False)
    if a["case_ids"] != b["case_ids"]:
        raise SystemExit(f"{a['spec']} and {b['spec']} scored different cases: a paired comparison needs the same ones "
                         "(same --limit, --seed and test set, and for eval_base --bench-cases; or --common)")
    na, nb = len(a["passed"]), len(b["passed"])
    if na != nb and 1 not in (na, nb):
        raise SystemExit(f"{na} seeds against {nb}: pair files with the same number of seeds, or one with a single seed")
    splits = a["case_ids"]
    heldout = [c for s in HELDOUT if s in splits for c in splits[s]]
    per_seed = []
    for i in range(max(na, nb)):
        pa, pb = a["passed"][i if na > 1 else 0], b["passed"][i if nb > 1 else 0]
        row = {split: compare(ids, pa, pb) for split, ids in splits.items()}
        if heldout:
            row["heldout"] = compare(heldout, pa, pb)
        per_seed.append(row)
    return {"a": {"file": a["spec"], "condition": a["condition"]}, "b": {"file": b["spec"], "condition": b["condition"]},
            "per_seed": per_seed}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", nargs=2, required=True, metavar=("FILE[#KEY]", "CONDITION"))
    ap.add_argument("--b", nargs=2, required=True, metavar=("FILE[#KEY]", "CONDITION"))
    ap.add_argument("--common", action="store_true", help="pair on the cases both sides scored")
    ap.add_argument("--same-testset", action="store_true",
                    help="with --common: both sides were scored on one test-set file, though one does not record it")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    a, b = load_side(*args.a), load_side(*args.b)
    result = paired(a, b, args.common, args.same_testset)
    if args.common:
        result["cases_scored"] = {"a": sum(map(len, a["case_ids"].values())), "b": sum(map(len, b["case_ids"].values()))}
        result["testset"] = {"a": a.get("testset"), "b": b.get("testset"), "vouched": args.same_testset}
    result.update({
        "test": "McNemar's exact test (two-sided binomial on the cases one side passes and the other fails)",
        "command": shlex.join(["python", "-m", "training.paired", *(sys.argv[1:] if argv is None else argv)]),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    for i, row in enumerate(result["per_seed"]):
        for split, r in row.items():
            print(f"seed {i} {split:17s} n={r['n_cases']:4d} A {100 * r['a_pass_rate']:5.1f}  B {100 * r['b_pass_rate']:5.1f}  "
                  f"only A {r['only_a']:3d}  only B {r['only_b']:3d}  p={r['mcnemar_p']:.3g}")


if __name__ == "__main__":
    main()
