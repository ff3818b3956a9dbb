"""Counterfactual sibling groups (#23): the same request under sibling skills with their own gold answers, and the
contrast between a member's own adapter and its sibling's."""
import json
import random
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from training.siblings import SiblingIndex, contrast_term, draw_group, per_example_ce, rolled
from training.skills import FAMILIES

from test_train_hypernet import run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def train_skills():
    with (ROOT / "training/data/skills.jsonl").open() as f:
        return [r for r in map(json.loads, f) if r["split"] == "train"]


def test_groups_share_the_request_and_answer_by_their_own_parameters(train_skills):
    families, params = [s["family"] for s in train_skills], [s["params"] for s in train_skills]
    index = SiblingIndex.build(families, params)
    assert len(index.by_family) > 100  # nearly every train family has several combinations
    rng = random.Random(0)
    groups = [g for g in (draw_group(index, params, rng, 4) for _ in range(200)) if g is not None]
    assert len(groups) > 150
    for g in groups:
        fam = {families[s] for s in g.skills}
        assert len(fam) == 1
        family = FAMILIES[fam.pop()]
        assert len({json.dumps(params[s], sort_keys=True) for s in g.skills}) == len(g.skills)  # distinct combinations
        requests = {m[0]["content"] for m in g.messages}
        assert len(requests) == 1
        answers = [m[1]["content"] for m in g.messages]
        assert len(set(answers)) >= 2
        assert g.differs == [answers[i] != answers[(i + 1) % len(answers)] for i in range(len(answers))]
        # Each gold answer is the family's program under that member's parameters, and passes its execution check.
        for s, a in zip(g.skills, answers):
            assert a == family.answer(params[s], g.text) and family.check(params[s], g.text, a)
        assert g.text in next(iter(requests))


def test_rolled_pairs_each_member_with_the_next_of_its_group():
    class G:
        def __init__(self, n):
            self.skills = list(range(n))
    assert rolled([G(3), G(2)]) == [1, 2, 0, 4, 3]


def test_sibling_rows_fill_at_most_the_target_and_skip_members_without_an_answer(train_skills):
    from training.siblings import sibling_rows

    families, params = [s["family"] for s in train_skills], [s["params"] for s in train_skills]
    index = SiblingIndex.build(families, params)
    encode = lambda m: ([1] * 5, [False, False, True, True, False])  # noqa: E731
    for target in (2, 3, 5, 8):
        groups, rows = sibling_rows(index, params, random.Random(target), 4, target, encode)
        assert len(rows) <= target and len(rows) >= target - 1 and all(len(g.skills) >= 2 for g in groups)
        assert [r[0] for r in rows] == [s for g in groups for s in g.skills]
    # Members whose answer was cut away entirely: no group qualifies, the draws stop, nothing is returned.
    groups, rows = sibling_rows(index, params, random.Random(0), 4, 8, lambda m: ([1] * 3, [False] * 3), max_draws=5)
    assert groups == [] and rows == []


def test_per_example_ce_and_contrast():
    logits, targets = torch.randn(7, 11), torch.randint(0, 11, (7,))
    got = per_example_ce(logits, targets, [3, 4])
    rows = F.cross_entropy(logits, targets, reduction="none")
    assert torch.allclose(got, torch.stack([rows[:3].mean(), rows[3:].mean()]))
    own, sibling = torch.tensor([1.0, 1.0, 1.0]), torch.tensor([3.0, 1.5, 0.5])
    differs = torch.tensor([True, True, False])
    # margin 1: the first member is 2 nats better (no loss), the second 0.5 (0.5 short); the third is left out.
    assert contrast_term(own, sibling, differs, 1.0).item() == pytest.approx(0.25)
    assert contrast_term(own, sibling, torch.tensor([False] * 3), 1.0).item() == 0


def test_trains_on_sibling_groups_with_the_contrast_and_logs_the_gap(tmp_path):
    args = ["--max_skills", "400", "--sibling_fraction", "0.5", "--sibling_k", "2", "--contrast_weight", "1.0", "--cache_dir", str(tmp_path / "cache")]
    log = run(tmp_path / "run", 10, args)
    assert log[-1]["step"] == 10
    assert all("sibling_gap" in r and "contrast" in r and r["contrast"] >= 0 for r in log)


def test_sibling_contrast_swaps_adapters_within_groups():
    """sibling_contrast against the same answers scored one member at a time with an explicit adapter; identical
    adapters for every member give a gap of exactly 0."""
    from training.conversations import encode_conversation, load_tokenizer
    from training.export.pack import load_pack_model, lora_spec_of
    from training.hypernet import compose_slots
    from training.train_hypernet import pad, sibling_contrast
    from training.siblings import SiblingGroup
    from training.skills.trajectories import assistant, user

    base, manifest = load_pack_model(ROOT / "public/models/tiny-random")
    lora, tok = lora_spec_of(manifest), load_tokenizer("public/models/tiny-random")
    group = SiblingGroup(skills=[0, 1, 2], text="x", messages=[[user("fix the login"), assistant(a)] for a in ("fix: login", "FIX login", "fix: login")],
                         differs=[True, True, False])
    items = [encode_conversation(tok, m) for m in group.messages]
    regular = encode_conversation(tok, [user("hello"), assistant("hi there")])
    ids, mask = pad([regular[0]] + [i for i, _ in items], 0), pad([regular[1]] + [m for _, m in items], False)
    attn = pad([[1] * len(regular[0])] + [[1] * len(i) for i, _ in items], 0)
    torch.manual_seed(0)
    shapes = {m: base.config.module_shape(m) for m in lora.target_modules}
    L = base.config.num_hidden_layers
    gen = {m: (torch.randn(4, L, i, lora.rank) * 0.3, torch.randn(4, L, lora.rank, o) * 0.3) for m, (i, o) in shapes.items()}

    # A second slot (another skill's adapter, as on the trainer's accumulation steps) stays with each row.
    extra = {m: (torch.randn(4, L, i, lora.rank) * 0.3, torch.randn(4, L, lora.rank, o) * 0.3) for m, (i, o) in shapes.items()}

    def cost(rows: list[int], adapter_rows: list[int]) -> torch.Tensor:
        slots = [{m: (a[adapter_rows], b[adapter_rows]) for m, (a, b) in gen.items()}, {m: (a[rows], b[rows]) for m, (a, b) in extra.items()}]
        one = compose_slots(slots, [1.0, 1.0], lora, fill_slots=False)
        sel = mask[rows, 1:]
        logits, _, _ = base(ids[rows, :-1], attn_mask=attn[rows, :-1], lora=one, logit_mask=sel)
        return per_example_ce(logits, ids[rows, 1:][sel], sel.sum(1).tolist())

    with torch.no_grad():
        own_all = cost([0, 1, 2, 3], [0, 1, 2, 3])
        sel = mask[:, 1:]
        adapters = compose_slots([gen, extra], [1.0, 1.0], lora, fill_slots=False)
        logits, _, _ = base(ids[:, :-1], attn_mask=attn[:, :-1], lora=adapters, logit_mask=sel)
        contrast, gap = sibling_contrast(base, [gen, extra], [group], 1, lora, logits, ids[:, 1:][sel], ids, mask, attn, margin=1.0)
        sibling = cost([1, 2, 3], [2, 3, 1])  # member k under member k+1's adapter
        own = own_all[1:]
        assert gap.item() == pytest.approx((sibling - own)[:2].mean().item(), abs=1e-5)
        assert contrast.item() == pytest.approx(F.relu(1.0 + own - sibling)[:2].mean().item(), abs=1e-5)
        same = {m: (a[[1, 1, 1, 1]], b[[1, 1, 1, 1]]) for m, (a, b) in gen.items()}
        logits, _, _ = base(ids[:, :-1], attn_mask=attn[:, :-1], lora=compose_slots([same, extra], [1.0, 1.0], lora, fill_slots=False), logit_mask=sel)
        _, no_gap = sibling_contrast(base, [same, extra], [group], 1, lora, logits, ids[:, 1:][sel], ids, mask, attn, margin=1.0)
        assert no_gap.item() == pytest.approx(0.0, abs=1e-6)


def test_refuses_siblings_without_two_combinations(tmp_path):
    import subprocess
    import sys
    cmd = [sys.executable, "-m", "training.train_hypernet", "--pack", "public/models/tiny-random", "--out", str(tmp_path),
           "--max_skills", "1", "--max_steps", "1", "--chunk_tokens", "128", "--d_model", "32", "--mlp_hidden", "64",
           "--sibling_fraction", "0.5", "--cache_dir", str(tmp_path / "cache")]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode != 0 and "two parameter combinations" in res.stderr


def test_phrasing_pairs_are_two_phrasings_of_one_combination_among_siblings():
    import random

    from training.siblings import SiblingIndex, phrasing_pairs

    families = ["a"] * 6 + ["b"] * 3 + ["c"] * 2
    params = [{"x": 1}, {"x": 1}, {"x": 2}, {"x": 2}, {"x": 3}, {"x": 4}, {"y": 1}, {"y": 1}, {"y": 2}, {"z": 1}, {"z": 2}]
    index = SiblingIndex.build(families, params)
    for seed in range(20):
        pairs = phrasing_pairs(index, random.Random(seed), families=3, combos=4)
        # Family a has two combinations with two phrasings; b one (so no negatives of its own); c none: only a.
        assert sorted(tuple(sorted(p)) for p in pairs) == [(0, 1), (2, 3)]


def test_phrasing_contrast_is_low_when_phrasings_agree_and_siblings_differ():
    import math

    from training.siblings import phrasing_contrast

    torch.manual_seed(0)
    own = torch.randn(6, 3, 8)
    # Both phrasings read to the same vector: each item's positive is its twin, far above the rest.
    assert phrasing_contrast(own, own + 0.01 * torch.randn_like(own), 0.1) < 0.05
    # A representation that ignores the skill (all equal): chance, log(2P - 1).
    same = torch.ones(6, 3, 8)
    assert math.isclose(phrasing_contrast(same, same, 0.1).item(), math.log(11), rel_tol=1e-5)
    # Independent of the pairing: well above the agreeing case.
    assert phrasing_contrast(own, torch.randn(6, 3, 8), 0.1) > 1.0


def test_param_labels_name_the_family_and_each_value_whatever_the_skill_order():
    from training.siblings import ParamLabels

    families = ["b", "a", "a", "a", "b"]
    params = [{"n": 3}, {"case": "kebab", "max": 40}, {"case": "snake", "max": 40}, {"case": "kebab", "max": [1, 2]}, {"n": 1}]
    labels = ParamLabels.build(families, params)
    assert labels.names == ["family", "a.case", "a.max", "b.n"]
    assert labels.groups == [(0, 2), (2, 2), (4, 2), (6, 2)] and labels.size == 8
    # Values are classes in sorted order of their JSON text ("40" < "[1, 2]"; 1 < 3).
    assert labels.of_skill[0] == [(0, 1), (3, 1)]
    assert labels.of_skill[3] == [(0, 0), (1, 0), (2, 1)]
    # The same skills in another order get the same classes.
    order = [4, 2, 0, 3, 1]
    again = ParamLabels.build([families[i] for i in order], [params[i] for i in order])
    assert again.groups == labels.groups and [again.of_skill[k] for k in range(5)] == [labels.of_skill[i] for i in order]
    # A skill outside the list (a held-out combination of known values) gets its classes by the same mapping.
    assert labels.of("a", {"case": "snake", "max": [1, 2]}) == [(0, 0), (1, 1), (2, 1)]


def test_param_probe_loss_is_chance_for_a_blind_probe_and_low_for_a_right_one():
    import math

    from training.siblings import ParamLabels, param_probe_loss

    families = ["a", "a", "b"]
    params = [{"x": 1, "y": "p"}, {"x": 2, "y": "q"}, {"z": 5}]
    labels = ParamLabels.build(families, params)  # groups: family (2), a.x (2), a.y (2), b.z (1: says nothing, left out)
    skills = [0, 2, 1]
    blind = torch.zeros(3, 4, labels.size)  # 4 target vectors each
    loss, family, values = param_probe_loss(blind, labels, skills)
    assert math.isclose(loss.item(), math.log(2), rel_tol=1e-6)  # every group counted has two classes
    right = torch.full((3, 4, labels.size), -10.0)
    for row, s in enumerate(skills):
        for group, target in labels.of_skill[s]:
            right[row, :, labels.groups[group][0] + target] = 10.0
    loss, family, values = param_probe_loss(right, labels, skills)
    assert loss < 1e-6 and family == 1.0 and values == 1.0
    # Skill 0's logits read as skill 1's: family right, both values wrong, 20 nats each.
    loss, family, values = param_probe_loss(right[:1], labels, [1])
    assert family == 1.0 and values == 0.0 and math.isclose(loss.item(), 2 * 20 / 3, rel_tol=1e-3)
    # Only skill 2 (b): its family group alone.
    _, family, values = param_probe_loss(right[1:2], labels, [2])
    assert family == 1.0 and math.isnan(values.item())


def test_logistic_contrast_is_log_2_a_token_for_blind_adapters_and_weighs_whole_answers():
    import math

    from training.siblings import logistic_contrast

    differs = torch.tensor([True, True, False])
    counts = torch.tensor([10.0, 4.0, 6.0])
    same = torch.tensor([0.5, 0.7, 0.2])
    want = (math.log(2) / 10 + math.log(2) / 4) / 2
    assert math.isclose(logistic_contrast(same, same, counts, differs).item(), want, rel_tol=1e-6)
    # 0.3 nats a token over a 10-token answer: the own adapter wins by 3 nats, softplus(-3) over 10 tokens; over 4
    # tokens it wins by 1.2 nats.
    own, sib = torch.tensor([0.2, 0.4, 9.0]), torch.tensor([0.5, 0.7, 0.0])
    want = (math.log1p(math.exp(-3.0)) / 10 + math.log1p(math.exp(-1.2)) / 4) / 2  # the third matches its sibling: left out
    assert math.isclose(logistic_contrast(own, sib, counts, differs).item(), want, rel_tol=1e-5)
    assert logistic_contrast(own, sib, counts, torch.tensor([False, False, False])).item() == 0.0
    # Per token, its gradient on a member's mean CE is sigmoid(own - sibling) / members, as a mean CE's is 1 / tokens.
    own = torch.tensor([0.5, 0.7, 0.2], requires_grad=True)
    logistic_contrast(own, same, counts, differs).backward()
    assert torch.allclose(own.grad, torch.tensor([0.25, 0.25, 0.0]))
