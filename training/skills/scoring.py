"""Execution-checked scoring of model outputs on test-set cases.

A case is one line of testset-v1.jsonl (see make_data.py); the fields used here are
`family`, `params`, `input`, `expected`, `split` and `length_bucket`.

    result = score(case, output)          # {"pass": bool, "exact": bool, "f1": float}
    report = aggregate([(case, result), ...])
    report["heldout_family"]["pass_rate"]

- pass:  the family's checker accepts the output (it runs the family's program on the case input).
         Cases from an unknown family (e.g. an external skill folder with only {input, expected})
         fall back to the default checker: equality up to whitespace and an enclosing code span.
- exact: output equals `expected` after whitespace normalisation (strip, runs of whitespace -> one space).
- f1:    token F1 between output and `expected`, tokens split on whitespace (multiset overlap).
- other_params: the output fails, but the family's checker accepts it under another valid parameter combination
         of the same family (the right kind of answer under the wrong rule: e.g. snake_case asked, camelCase given).
         False for unknown families.
- params_followed: for an output of the family's form, the share of the case's parameters it follows: 1 for a
         pass, else the largest share of parameters on which a combination that accepts the output agrees with the
         case's. None for an output no combination accepts, and for unknown families.
- run_on: the output fails, but one of its proper prefixes passes: the right answer with more text after it on the
         same line (a model that does not stop: Gemma 3 270M is a base model, and through a chat template it often
         glues stray tokens onto a right answer). An upper bound on answers lost only to not stopping: a prefix of
         a wrong number can pass too, and it can overlap other_params (v1.5.0-rc.1 where v1.5.0 is asked is both).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .base import same_text
from .families import FAMILIES

Case = Mapping[str, Any]
Result = Mapping[str, Any]


def normalize_whitespace(text: str) -> str:
    return " ".join(text.split())


def token_f1(output: str, expected: str) -> float:
    predicted, gold = output.split(), expected.split()
    if not predicted or not gold:
        return float(predicted == gold)
    overlap = sum((Counter(predicted) & Counter(gold)).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / len(predicted), overlap / len(gold)
    return 2 * precision * recall / (precision + recall)


def score(case: Case, output: str) -> dict[str, Any]:
    """Score one model output against one case."""
    family = FAMILIES.get(case.get("family", ""))
    if family is not None:
        params = case["params"]
        accepts = lambda text: family.check(params, case["input"], text)  # noqa: E731
        passed = accepts(output)
        followed = 1.0 if passed else max(
            (sum(p[k] == params.get(k) for k in p) / len(p) for p in family.combos() if p != params and family.check(p, case["input"], output)),
            default=None)
    else:
        accepts = lambda text: same_text(text, case["expected"])  # noqa: E731
        passed, followed = accepts(output), None
    return {
        "pass": bool(passed),
        "run_on": not passed and any(output[:i].strip() and accepts(output[:i]) for i in range(len(output) - 1, 0, -1)),
        "other_params": not passed and followed is not None,
        "params_followed": followed,
        "exact": normalize_whitespace(output) == normalize_whitespace(case["expected"]),
        "f1": token_f1(output, case["expected"]),
    }


def _summary(results: list[Result]) -> dict[str, Any]:
    n = len(results)
    return {
        "n_cases": n,
        "pass_rate": sum(r["pass"] for r in results) / n if n else 0.0,
        "exact_match": sum(r["exact"] for r in results) / n if n else 0.0,
        "token_f1": sum(r["f1"] for r in results) / n if n else 0.0,
        "other_params_rate": sum(r["other_params"] for r in results) / n if n else 0.0,
        "run_on_rate": sum(r["run_on"] for r in results) / n if n else 0.0,
        "params_followed": statistics.fmean(followed) if (followed := [r["params_followed"] for r in results if r["params_followed"] is not None]) else None,
    }


def per_case(seeds: Sequence[Mapping[str, Iterable[tuple[Case, Result]]]]) -> dict[str, Any]:
    """Which cases passed, by case_id, per seed (one run of every condition) and condition, with every scored
    case_id per split: what a paired comparison of two conditions, or of two tools on the same cases, needs
    (training.paired)."""
    case_ids: dict[str, set[str]] = defaultdict(set)
    passed_by_seed = []
    for by_condition in seeds:
        passed = {}
        for cond, scored in by_condition.items():
            ids = []
            for case, result in scored:
                case_ids[case.get("split", "external")].add(case["case_id"])
                if result["pass"]:
                    ids.append(case["case_id"])
            passed[cond] = sorted(ids)
        passed_by_seed.append(passed)
    return {"case_ids": {split: sorted(ids) for split, ids in sorted(case_ids.items())}, "passed_by_seed": passed_by_seed}


def aggregate(scored: Iterable[tuple[Case, Result]]) -> dict[str, dict[str, Any]]:
    """Per split: n_cases, pass_rate, exact_match, token_f1, other_params_rate, run_on_rate, params_followed (mean over the outputs
    where it is defined, None where none is), and the same under `by_length_bucket`; where the cases say them (the
    test sets do, external folders do not), n_cases and pass_rate by the skill's shape (`by_style`: render.STYLES, terse,
    verbose, examples, long, oneliner, examples_only) and by the conversation's kind (`by_kind`)."""
    by_split: dict[str, list[Result]] = defaultdict(list)
    by_bucket: dict[str, dict[str, list[Result]]] = defaultdict(lambda: defaultdict(list))
    by_field: dict[str, dict[str, dict[str, list[bool]]]] = {f: defaultdict(lambda: defaultdict(list)) for f in ("style", "kind")}
    for case, result in scored:
        split = case.get("split", "external")
        by_split[split].append(result)
        by_bucket[split][case.get("length_bucket", "unknown")].append(result)
        for f, groups in by_field.items():
            if f in case:
                groups[split][case[f]].append(bool(result["pass"]))
    out = {}
    for split, results in by_split.items():
        out[split] = {**_summary(results), "by_length_bucket": {b: _summary(r) for b, r in sorted(by_bucket[split].items())}}
        for f, groups in by_field.items():
            if groups.get(split):
                out[split][f"by_{f}"] = {k: {"n_cases": len(v), "pass_rate": sum(v) / len(v)} for k, v in sorted(groups[split].items())}
    return out
