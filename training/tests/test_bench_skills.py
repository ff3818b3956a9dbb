"""Scoring of the browser benchmark's answers: one run per hypernetwork file, each compared with the PyTorch
answers made with the same file."""
from __future__ import annotations

import pytest

from training.bench_skills import browser_result, make_plan


def cases() -> list[dict]:
    def case(i: int, skill: str, expected: str) -> dict:
        return {"case_id": f"{skill}-{i}", "split": "external", "skill_id": skill, "family": skill, "params": {},
                "skill_md": f"---\nname: {skill}\n---\nRule {skill}", "messages": [{"role": "user", "content": f"in {i}"}],
                "expected": expected, "length_bucket": "short"}
    return [case(0, "a", "yes"), case(1, "a", "no"), case(0, "b", "up")]


def answers(plan: dict, right: set[tuple[str, str]]) -> list[str]:
    """The gold answer for the (case, condition) jobs in `right`, a wrong one elsewhere."""
    gold = {c["case_id"]: c["expected"] for c in cases()}
    return [gold[j["case_id"]] if (j["case_id"], j["condition"]) in right else "wrong" for j in plan["jobs"]]


def test_each_run_is_scored_and_compared_with_its_own_reference() -> None:
    cs = cases()
    plan = make_plan(cs, ["base", "adapter"], seed=0)
    seed0 = answers(plan, {("a-0", "adapter"), ("a-1", "adapter"), ("b-0", "adapter")})
    seed1 = answers(plan, {("a-0", "adapter")})
    # The browser agrees with the reference on every job of run 0 and on all but one job of run 1.
    browser1 = list(seed1)
    browser1[[j["case_id"] for j in plan["jobs"]].index("b-0")] = "drift\nsecond line"
    runs = [{"outputs": [{"case_id": j["case_id"], "condition": j["condition"], "output": o} for j, o in zip(plan["jobs"], out)]}
            for out in (seed0, browser1)]
    result = browser_result({"backend": "wasm", "runs": runs}, cs, plan, [seed0, seed1], reference={"x": 1})

    adapter = result["conditions"]["adapter"]["external"]["pass_rate"]
    assert adapter["seeds"] == [1.0, pytest.approx(1 / 3)]
    assert adapter["mean"] == pytest.approx(2 / 3)
    assert adapter["std"] == pytest.approx(1 / 3)
    assert result["conditions"]["base"]["external"]["pass_rate"]["mean"] == 0.0
    agreement = result["browser_vs_python_agreement"]
    assert agreement["n_jobs"] == 2 * len(plan["jobs"])
    assert agreement["per_hypernet"] == [1.0, pytest.approx(5 / 6)]
    assert agreement["same_answer"] == pytest.approx(11 / 12)
    assert result["path"] == "browser (wasm)" and result["pytorch_reference"] == {"x": 1}


def test_a_run_count_that_differs_from_the_reference_is_refused() -> None:
    cs = cases()
    plan = make_plan(cs, ["base"], seed=0)
    run = {"outputs": [{"case_id": j["case_id"], "condition": j["condition"], "output": ""} for j in plan["jobs"]]}
    with pytest.raises(SystemExit, match="ran 1 hypernetwork"):
        browser_result({"backend": "wasm", "runs": [run]}, cs, plan, [[""] * 3, [""] * 3], reference={})


def test_adapter_scale_is_the_scale_folded_into_b() -> None:
    """--scale s runs every adapter at scale s: scale 0 answers as the base does, and scale 2 answers as a
    hypernetwork whose B heads were doubled does at scale 1."""
    import copy
    from pathlib import Path

    import torch

    from training.bench_skills import Runner, chunk_tokens_of, load_cases, run_plan
    from training.hypernet import load_hypernet

    root = Path(__file__).resolve().parents[2]
    pack = root / "public/models/small-skills"
    cs = load_cases(root / "training/data/testset-v1.jsonl", None, 1, seed=0)
    plan = make_plan(cs, ["base", "adapter"], seed=0)
    runner = Runner(pack, max_new_tokens=24)
    net, chunk = load_hypernet(pack / "hypernet.safetensors"), chunk_tokens_of(pack / "hypernet.safetensors")
    zero = run_plan(runner, net, chunk, plan, 0.0)
    base_of = {j["case_id"]: o for j, o in zip(plan["jobs"], zero) if j["condition"] == "base"}
    assert [o for j, o in zip(plan["jobs"], zero) if j["condition"] == "adapter"] == [base_of[c["case_id"]] for c in cs]
    doubled = copy.deepcopy(net)
    with torch.no_grad():
        for head in doubled.head_b:
            head.weight.mul_(2)
            head.bias.mul_(2)
    at_two = run_plan(runner, net, chunk, plan, 2.0)
    assert at_two == run_plan(runner, doubled, chunk, plan, 1.0)
    assert at_two != zero, "scale 2 changed no answer: the check would pass with the scale ignored"


def test_mean_std_skips_undefined_params_followed() -> None:
    from training.bench_skills import mean_std

    def seed(pass_rate: float, followed: float | None) -> dict:
        split = {"n_cases": 4, "pass_rate": pass_rate, "exact_match": pass_rate, "token_f1": pass_rate,
                 "other_params_rate": 0.25, "params_followed": followed, "by_length_bucket": {}}
        return {"adapter": {"heldout_params": split}}
    out = mean_std([seed(0.5, 0.75), seed(0.25, None), seed(0.0, 0.25)])["adapter"]["heldout_params"]
    assert out["pass_rate"]["mean"] == 0.25 and out["pass_rate"]["seeds"] == [0.5, 0.25, 0.0]
    assert out["params_followed"]["mean"] == 0.5 and out["params_followed"]["std"] == 0.25
    assert out["params_followed"]["seeds"] == [0.75, None, 0.25]
    assert mean_std([seed(0.0, None)])["adapter"]["heldout_params"]["params_followed"]["mean"] is None
