"""The skill-tune delta against Hugging Face peft: the same LoRA applied by peft to transformers' Gemma 3 gives the
logits of our model with the delta merged; the file round-trips and refuses what it is not; the general-text split
never trains on its held-out topics."""
from __future__ import annotations

import copy

import pytest
import torch
from safetensors.torch import save_file

from training import general_text, skill_tune
from training.config import step_lr
from training.skill_tune import ALL_MODULES, SkillLora, load_delta, merge_delta, peft_merged, save_delta
from training.tests.test_model import ours_and_reference


@pytest.fixture(scope="module")
def models():
    return ours_and_reference("gemma3")


def random_lora(model, seed: int = 1) -> SkillLora:
    lora = SkillLora(model, rank=4, alpha=8.0, modules=ALL_MODULES, seed=seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in lora.b:
            lora.b[m].copy_(torch.randn(lora.b[m].shape, generator=g) * 0.05)
    return lora


def test_merged_delta_equals_peft_on_transformers(models, tmp_path):
    ours, ref = models
    lora = random_lora(ours)
    path = tmp_path / "delta.safetensors"
    save_delta(lora, path, {"step": 7, "totals": {"tokens": 1}})
    pairs, scale, record = load_delta(path)
    assert scale == 2.0 and record["step"] == 7 and set(pairs) == set(ALL_MODULES)

    ids = torch.tensor([[2, 17, 99, 5, 250, 41, 8, 3]])
    with torch.no_grad():
        want = peft_merged(copy.deepcopy(ref), path)(ids).logits[0]
        assert torch.allclose(ref(ids).logits[0], ours(ids, all_logits=True)[0][0], atol=1e-4)  # the deep copy took the delta, ref did not
        base, _, _ = ours(ids, all_logits=True)
        unmerged, _, _ = ours(ids, all_logits=True, lora={m: (a, b * scale) for m, (a, b) in pairs.items()})
        merge_delta(ours, path)
        merged, _, _ = ours(ids, all_logits=True)
    assert (want - base[0]).abs().max() > 1e-2  # the delta moves the logits: the comparison below can fail
    assert torch.allclose(unmerged[0], want, atol=1e-4, rtol=1e-4)
    assert torch.allclose(merged[0], want, atol=1e-4, rtol=1e-4)


def test_load_delta_refuses_other_files(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"q_proj.lora_A": torch.zeros(1, 2, 2)}, str(path), metadata={"format": "something-else"})
    with pytest.raises(ValueError, match="not a parametric-skills-delta v1 file"):
        load_delta(path)


def test_merge_refuses_a_delta_for_another_model(models, tmp_path):
    ours, _ = models
    other = ours_and_reference("llama")[0]
    path = tmp_path / "delta.safetensors"
    save_delta(random_lora(other), path, {})
    with pytest.raises(ValueError, match=r"k_proj is \(3, 64, 4\) x \(3, 4, 32\), the model.s weight is \(64, 64\)"):
        merge_delta(ours, path)


def test_micro_batches_keep_the_padded_budget():
    examples = [([0] * n, [False] * n) for n in (5, 300, 40, 90, 700, 41)]
    groups = skill_tune.micro_batches(examples, 256)
    assert sorted(j for g in groups for j in g) == list(range(len(examples)))
    for g in groups:
        assert len(g) == 1 or max(len(examples[j][0]) for j in g) * len(g) <= 256


def test_general_text_split_is_fixed_and_disjoint():
    train, held = general_text.train_topics(), general_text.heldout_topics()
    assert train and held and not set(train) & set(held)
    assert 0.1 < len(held) / (len(train) + len(held)) < 0.35


def test_lr_schedule_warms_up_then_decays():
    cfg = skill_tune.SkillTuneConfig(lr=1e-3, warmup_steps=10, max_steps=110)
    assert step_lr(0, cfg) == pytest.approx(1e-4)
    assert step_lr(9, cfg) == pytest.approx(1e-3)
    assert step_lr(110, cfg) == pytest.approx(1e-4)
    assert step_lr(60, cfg) == pytest.approx(1e-3 * 0.55)


def test_packed_rows_give_each_conversation_its_own_logits(models):
    """Conversations after one shared copy of the prefix (packed_mask, positions continuing after the prefix) give the
    logits each conversation gets alone, through sliding and full layers (window 4 here) and with a LoRA bound."""
    from training.small_data import collate
    from training.skill_tune import pack_skill

    ours = models[0]
    lora = random_lora(ours).tensors()
    g = torch.Generator().manual_seed(3)
    vocab = ours.config.vocab_size
    prefix = torch.randint(1, vocab, (6,), generator=g).tolist()
    suffixes = [torch.randint(1, vocab, (n,), generator=g).tolist() for n in (12, 9, 6)]
    # Answer tokens start two tokens into each conversation's own part (the prefix never holds one).
    convs = [(prefix + s, [False] * (len(prefix) + 2) + [True] * (len(s) - 2)) for s in suffixes]
    rows = pack_skill(convs, max_tokens=40)
    assert len(rows) == 1 and rows[0].ids[: len(prefix)] == prefix and len(rows[0].ids) == len(prefix) + sum(map(len, suffixes))
    batch = collate(rows, 0)
    with torch.no_grad():
        packed, _, _ = ours(batch["ids"], position_ids=batch["position"], segment=batch["segment"], lora=lora, all_logits=True)
        for k, (ids, _) in enumerate(convs, start=1):
            alone, _, _ = ours(torch.tensor([ids]), lora=lora, all_logits=True)
            at = (batch["segment"][0] == k).nonzero().flatten()
            assert torch.allclose(packed[0, at], alone[0, len(prefix):], atol=1e-4), k
    # A row budget that fits two conversations opens a second row with its own copy of the prefix.
    two = pack_skill(convs, max_tokens=len(prefix) + 12 + 9)
    assert [max(r.segment) for r in two] == [2, 1] and all(r.ids[: len(prefix)] == prefix for r in two)
    assert sum(sum(r.mask) for r in two) == sum(sum(m) for _, m in convs)


def test_pack_skill_cuts_the_prefix_before_any_answer():
    from training.skill_tune import common_prefix, pack_skill

    assert common_prefix([[1, 2, 3], [1, 2, 4], [1, 2]]) == 2
    # Identical conversations share everything, yet the prefix stops before the first answer token.
    conv = ([5, 6, 7, 8, 9], [False, False, False, True, True])
    (row,) = pack_skill([conv, conv], max_tokens=20)
    assert row.ids[:2] == [5, 6] and row.mask[:2] == [0, 0] and row.segment[:2] == [0, 0]
    assert row.ids[2:] == [7, 8, 9, 7, 8, 9] and row.mask[2:] == [0, 1, 1, 0, 1, 1]
