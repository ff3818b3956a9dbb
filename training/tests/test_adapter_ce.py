"""training/adapter_ce.py: teacher-forced exactness is what greedy decoding writes, and the cross-entropy is the
answer tokens' own, on the tiny pack."""
from pathlib import Path

import torch
import torch.nn.functional as F

from training.adapter_ce import answer_ce
from training.runner import Runner
from training.conversations import render_ids
from training.model import generate

ROOT = Path(__file__).resolve().parents[2]


def test_forced_exact_is_greedy_decoding_and_ce_is_the_answers():
    # The small pack's model ends its turns (the random tiny one would not), so its greedy answer is a whole turn.
    runner = Runner.from_pack(ROOT / "public/models/small-skills", max_new_tokens=48)
    messages = [{"role": "system", "content": "---\nname: branch-names\ndescription: Names git branches.\n---\n\n"
                 "Branch names are the change type, a slash and the summary in kebab-case (fix/login-timeout).\n"},
                {"role": "user", "content": "Name the branch: fix the login timeout on slow networks"}]
    prompt = render_ids(runner.tok, messages, add_generation_prompt=True)
    out = generate(runner.model, prompt, 48, runner.eos)
    assert len(out) < 48, "the model did not end its turn"
    greedy = runner.tok.decode(out, skip_special_tokens=True)
    ids = render_ids(runner.tok, [*messages, {"role": "assistant", "content": greedy}], add_generation_prompt=False)
    assert ids[len(prompt):len(prompt) + len(out)] == out  # the answer round-trips through the tokenizer
    ce, exact = answer_ce(runner, messages, greedy, None)
    assert exact
    _, exact_other = answer_ce(runner, messages, greedy + "-x", None)
    assert not exact_other
    # The cross-entropy over the answer tokens, computed from every position's logits.
    with torch.no_grad():
        logits, _, _ = runner.model(torch.tensor([ids[:-1]]), all_logits=True)
    want = F.cross_entropy(logits[0, len(prompt) - 1:], torch.tensor(ids[len(prompt):]))
    assert abs(ce - float(want)) < 1e-4


def test_sibling_is_a_case_of_the_same_family_with_other_parameters_and_says_if_it_answers_otherwise():
    import json
    from pathlib import Path

    from training.adapter_ce import sibling_of
    from training.skills import FAMILIES

    root = Path(__file__).resolve().parents[2]
    cases = [json.loads(line) for line in (root / "training/data/testset-v2.jsonl").read_text().splitlines()]
    cases = [c for c in cases if c["split"] in ("heldout_phrasing", "heldout_params")]
    got = sibling_of(cases + [{"case_id": "x", "input": "a", "expected": "b"}], 0)  # an external case has none
    assert "x" not in got and len(got) > 400
    for case in cases:
        if case["case_id"] not in got:  # its family has no other parameters among these cases
            assert all(c["params"] == case["params"] for c in cases if c["family"] == case["family"])
            continue
        other, differs = got[case["case_id"]]
        assert other["family"] == case["family"] and other["params"] != case["params"]
        assert differs == (FAMILIES[case["family"]].answer(other["params"], case["input"]) != case["expected"])
        # Of the same split and shape where the family has such a case, then of the same split.
        kin = [c for c in cases if c["family"] == case["family"] and c["params"] != case["params"] and c["split"] == case["split"]]
        if kin:
            assert other["split"] == case["split"]
            if any(c["style"] == case["style"] for c in kin):
                assert other["style"] == case["style"]
    assert any(d for _, d in got.values())
    assert sum(got[c["case_id"]][0]["split"] != c["split"] for c in cases if c["case_id"] in got) < len(got) / 2
