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
    result = browser_result({"backend": "wasm", "wall_s": 12.5, "runs": runs}, cs, plan, [seed0, seed1], reference={"x": 1})

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
    assert result["browser_wall_s"] == 12.5
    # Per case, the browser's own answers: run 1 lost b-0 (the drifted answer) and a-1.
    assert result["per_case"] == {"case_ids": {"external": ["a-0", "a-1", "b-0"]},
                                  "passed_by_seed": [{"base": [], "adapter": ["a-0", "a-1", "b-0"]}, {"base": [], "adapter": ["a-0"]}]}


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

    from training.bench_skills import chunk_tokens_of, run_plan
    from training.cases import load_cases
    from training.runner import Runner
    from training.hypernet import load_hypernet

    root = Path(__file__).resolve().parents[2]
    pack = root / "public/models/small-skills"
    cs = load_cases(root / "training/data/testset-v1.jsonl", 1, seed=0)
    plan = make_plan(cs, ["base", "adapter"], seed=0)
    runner = Runner.from_pack(pack, max_new_tokens=24)
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
                 "other_params_rate": 0.25, "run_on_rate": 0.0, "params_followed": followed, "by_length_bucket": {}}
        return {"adapter": {"heldout_params": split}}
    out = mean_std([seed(0.5, 0.75), seed(0.25, None), seed(0.0, 0.25)])["adapter"]["heldout_params"]
    assert out["pass_rate"]["mean"] == 0.25 and out["pass_rate"]["seeds"] == [0.5, 0.25, 0.0]
    assert out["params_followed"]["mean"] == 0.5 and out["params_followed"]["std"] == 0.25
    assert out["params_followed"]["seeds"] == [0.75, None, 0.25]
    assert mean_std([seed(0.0, None)])["adapter"]["heldout_params"]["params_followed"]["mean"] is None


def test_skills_padded_past_the_context_keep_their_text_and_overflow_the_prompt() -> None:
    """--over_context: each skill grows by whole irrelevant sections just past the token target (counted with the
    pack's own tokenizer), keeps its own text and front matter first, is padded the same wherever it appears, and
    a skill-in-context prompt with it is cut to the context while the unpadded one is not."""
    from pathlib import Path

    from training.bench_skills import pad_past_context
    from training.cases import load_cases
    from training.runner import Runner
    from training.conversations import with_skill
    from training.skills import parse_skill_md

    root = Path(__file__).resolve().parents[2]
    pack = root / "public/models/small-skills"
    runner = Runner.from_pack(pack, max_new_tokens=8)
    target = int(1.25 * runner.context)
    cs = load_cases(root / "training/data/testset-v1.jsonl", 2, seed=0)
    cs = cs + [dict(cs[0], case_id="again")]  # the same skill in a second case
    padded = pad_past_context(cs, runner.tok, target, seed=0)
    count = lambda text: len(runner.tok.encode(text, add_special_tokens=False))  # noqa: E731
    for case, long in zip(cs, padded):
        text = long["skill_md"]
        assert text.startswith(case["skill_md"].rstrip("\n")) and long["length_bucket"] == "over_context"
        assert count(text) > target >= count(text[:text.rindex("\n\n## ")]), "padded by more than one section past the target"
        assert parse_skill_md(text)[0] == parse_skill_md(case["skill_md"])[0]
    assert padded[-1]["skill_md"] == padded[0]["skill_md"]
    assert pad_past_context(cs[:1], runner.tok, target, seed=1)[0]["skill_md"] != padded[0]["skill_md"]
    messages = [{"role": "user", "content": cs[0]["messages"][-1]["content"]}]
    assert runner.answer(with_skill(messages, padded[0]["skill_md"]), None)[1]
    assert not runner.answer(with_skill(messages, cs[0]["skill_md"]), None)[1]


def test_over_context_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from training.bench_skills import main

    monkeypatch.setattr(sys, "argv", ["bench_skills", "--pack", "public/models/small-skills", "--over_context", "0.5"])
    with pytest.raises(SystemExit, match="at least 1"):
        main()


def test_padded_plan_matches_the_padding_of_a_run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """The browser benchmark's plan (--plan, no model load) pads skills exactly as the PyTorch run does with the
    runner's tokenizer and context, so both paths answer the same padded prompts."""
    import json
    import sys
    from pathlib import Path

    from training.bench_skills import CONDITIONS, main, make_plan, pad_cases
    from training.cases import load_cases
    from training.runner import Runner

    root = Path(__file__).resolve().parents[2]
    pack = root / "public/models/small-skills"
    monkeypatch.setattr(sys, "argv", ["bench_skills", "--pack", str(pack), "--limit", "1", "--over_context", "1.1", "--plan"])
    main()
    plan = json.loads(capsys.readouterr().out)
    runner = Runner.from_pack(pack, max_new_tokens=48)
    cases, padding = pad_cases(load_cases(root / "training/data/testset-v1.jsonl", 1, 0), runner.tok, runner.context, 1.1, 0)
    assert plan == make_plan(cases, list(CONDITIONS), 0)
    assert padding["skill_tokens"]["min"] > 1.1 * runner.context
    assert all(len(runner.tok.encode(t, add_special_tokens=False)) > 1.1 * runner.context for t in plan["skills"].values())



def test_line_end_stop_keeps_the_answer_of_a_full_decode() -> None:
    """Runner.answer stops once a non-blank line has ended (the browser's stopAtLineEnd rule) and gives the first
    line of a decode run to its end; `until` keeps the token that made it true and stops there."""
    from pathlib import Path

    from training.cases import load_cases
    from training.runner import Runner, first_line_answer, line_complete
    from training.conversations import render_ids
    from training.model import generate

    assert not line_complete("") and not line_complete("\n\n  \n") and not line_complete(" abc")
    assert line_complete("\n abc\n") and line_complete("abc.\n\nmore")
    root = Path(__file__).resolve().parents[2]
    runner = Runner.from_pack(root / "public/models/small-skills", max_new_tokens=24)
    for case in load_cases(root / "training/data/testset-v1.jsonl", 1, seed=0):
        ids = render_ids(runner.tok, case["messages"], add_generation_prompt=True)
        whole = generate(runner.model, ids, 24, runner.eos)
        assert generate(runner.model, ids, 24, runner.eos, until=lambda out: len(out) == 3) == whole[:3]
        want = first_line_answer(runner.tok.decode(whole, skip_special_tokens=True))
        assert want and runner.answer(case["messages"], None) == (want, False)
