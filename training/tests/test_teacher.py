"""The skill-in-context teacher (training/teacher.py): its sequences line up with the student's answer tokens, the
cached top-k targets equal a one-example-at-a-time forward, the coarsened KL is the textbook KL, and training with
the term runs and pulls the student towards the teacher. Also the base's own misses (the decisive tokens) and the
cross-entropy that weighs them."""
import json
import subprocess
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from training.conversations import encode_conversation, load_tokenizer
from training.export.pack import load_pack_model
from training.teacher import TeacherTargets, base_misses, build_targets, teacher_sequence, topk_kl

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "public/models/tiny-random"
SKILL = "---\nname: shout\ndescription: Answer in capitals.\n---\n\nAlways answer in capital letters.\n"
CONVERSATION = [
    {"role": "user", "content": "name the branch for the login fix"},
    {"role": "assistant", "content": "FIX/LOGIN"},
    {"role": "user", "content": "and for the docs update"},
    {"role": "assistant", "content": "DOCS/UPDATE"},
]


def answers(ids: list[int], mask: list[bool]) -> list[int]:
    return [t for t, m in zip(ids, mask) if m]


def test_teacher_sequence_has_the_skill_and_the_students_answer_tokens():
    tok = load_tokenizer(PACK)
    ids, mask = encode_conversation(tok, CONVERSATION)
    t_ids, t_mask = teacher_sequence(tok, CONVERSATION, SKILL, sum(mask), context=512)
    assert answers(t_ids, t_mask) == answers(ids, mask)
    assert "Always answer in capital letters." in tok.decode(t_ids)
    assert len(t_ids) > len(ids)
    # The student saw only the first 3 answer tokens (max_seq cut): the teacher's sequence ends right after them.
    cut_ids, cut_mask = teacher_sequence(tok, CONVERSATION, SKILL, 3, context=512)
    assert answers(cut_ids, cut_mask) == answers(ids, mask)[:3] and cut_mask[-1]
    # Longer than the context: the skill text loses its end, every answer token stays.
    short_ids, short_mask = teacher_sequence(tok, CONVERSATION, SKILL * 6, sum(mask), context=len(t_ids) + 10)
    assert len(short_ids) <= len(t_ids) + 10 and answers(short_ids, short_mask) == answers(ids, mask)
    assert tok.decode(short_ids).count("Always answer") in (1, 2, 3, 4, 5) and "name: shout" in tok.decode(short_ids)


def three_examples(tok):
    skills = [SKILL, SKILL.replace("capital", "lower-case"), "x " * 60]
    convs = []
    for i, md in enumerate(skills):
        msgs = CONVERSATION[: 2 + 2 * (i % 2)]
        _, mask = encode_conversation(tok, msgs)
        convs.append((md, msgs, sum(mask[1:])))
    return convs


def test_cached_targets_equal_one_example_at_a_time():
    base, manifest = load_pack_model(PACK)
    tok = load_tokenizer(PACK)
    convs = three_examples(tok)
    eos = set(manifest["generation"]["eosTokenIds"])
    lengths = sorted(len(teacher_sequence(tok, msgs, md, n, 512)[0]) for md, msgs, n in convs)
    assert lengths[0] < lengths[1] < lengths[2]
    k = 5
    # Batches of at most 2 x the middle length: the two shortest examples share one padded batch.
    got = build_targets(base, tok, convs, k, 512, eos, batch_tokens=2 * lengths[1], log=None)
    assert got.offsets.tolist()[-1] == got.idx.shape[0] == sum(n for _, _, n in convs)
    for j, (md, msgs, n) in enumerate(convs):
        ids, mask = teacher_sequence(tok, msgs, md, n, 512)
        with torch.no_grad():
            logits, _, _ = base(torch.tensor([ids]), all_logits=True)
        pos = [t - 1 for t, m in enumerate(mask) if m]
        top_v, top_i = logits[0, pos].log_softmax(-1).topk(k, -1)
        idx, lp = got.rows(j, n)
        assert torch.equal(idx, top_i)
        assert torch.allclose(lp, top_v, atol=2e-3)  # stored as float16


class Oracle(torch.nn.Module):
    """A stand-in base that predicts each gold next token of the sequences it was given, except at chosen answer
    tokens: where `wrong` says so, it predicts another token."""

    def __init__(self, seqs: list[list[int]], wrong: dict[int, list[int]], vocab: int):
        super().__init__()
        self.seqs, self.wrong, self.vocab = seqs, wrong, vocab

    def forward(self, input_ids, attn_mask, logit_mask):
        rows = []
        for b in range(input_ids.shape[0]):
            n = int(attn_mask[b].sum())  # the longest row lost its last token to the shift, the others only padding
            j = next(i for i, s in enumerate(self.seqs) if s[:n] == input_ids[b, :n].tolist() and len(s) in (n, n + 1))
            nxt = torch.tensor((self.seqs[j][1:] + [0] * input_ids.shape[1])[: input_ids.shape[1]])
            pos = logit_mask[b].nonzero().flatten().tolist()
            for w in self.wrong.get(j, []):
                nxt[pos[w]] = (nxt[pos[w]] + 1) % self.vocab
            rows.append(torch.nn.functional.one_hot(nxt, self.vocab).float()[logit_mask[b]])
        return torch.cat(rows), None, None


def test_correct_flag_is_greedy_equals_gold_except_after_end_of_turn():
    _, manifest = load_pack_model(PACK)
    tok = load_tokenizer(PACK)
    convs = three_examples(tok)
    eos = set(manifest["generation"]["eosTokenIds"])
    seqs = [teacher_sequence(tok, msgs, md, n, 512) for md, msgs, n in convs]
    # Example 0: right everywhere. Example 1: wrong on its second answer token. Example 2: wrong only on the token
    # after its end-of-turn (the template's newline, never decoded): still right.
    after_eos = [i for i, t in enumerate(t for t, m in zip(*seqs[2]) if m) if i > 0 and [t for t, m in zip(*seqs[2]) if m][i - 1] in eos]
    assert after_eos, "the template puts a token after end-of-turn inside the answer span"
    oracle = Oracle([ids for ids, _ in seqs], {1: [1], 2: after_eos}, len(tok))
    got = build_targets(oracle, tok, convs, 3, 512, eos, batch_tokens=10_000, log=None)
    assert got.correct.tolist() == [True, False, True]


def test_base_misses_are_the_tokens_greedy_decoding_gets_wrong():
    base, manifest = load_pack_model(PACK)
    tok = load_tokenizer(PACK)
    eos = set(manifest["generation"]["eosTokenIds"])
    seqs = [encode_conversation(tok, CONVERSATION[:n]) for n in (2, 4, 2)]
    seqs[2] = (seqs[2][0][:-3], seqs[2][1][:-3])  # a max_seq cut: three lengths, two sharing a padded batch
    got = base_misses(base, seqs, tok.pad_token_id or 0, eos, batch_tokens=2 * len(seqs[0][0]), log=None)
    for (ids, mask), miss in zip(seqs, got):
        with torch.no_grad():
            logits, _, _ = base(torch.tensor([ids]), all_logits=True)
        want = [bool(logits[0, t - 1].argmax() != ids[t]) and ids[t - 1] not in eos for t, m in enumerate(mask) if m and t > 0]
        assert miss.tolist() == want
    # Against an oracle base: misses exactly where it is wrong, none after end-of-turn.
    oracle = Oracle([ids for ids, _ in seqs], {1: [0, 2]}, len(tok))
    got = base_misses(oracle, seqs, 0, eos, log=None)
    assert [m.nonzero().flatten().tolist() for m in got] == [[], [0, 2], []]


def test_weighted_answer_ce_weighs_the_base_misses():
    from training.train_hypernet import weighted_answer_ce

    torch.manual_seed(2)
    data = type("D", (), {})()
    data.examples = [(0, [], [False] + [True] * n) for n in (3, 1, 2)]
    data.misses = [torch.tensor([True, False, False]), torch.tensor([False]), torch.tensor([True, True])]
    picked = [2, 0, 1]
    logits, targets = torch.randn(6, 11), torch.randint(0, 11, (6,))
    rows = F.cross_entropy(logits, targets, reduction="none")
    w = torch.tensor([4.0, 4, 4, 1, 1, 1])  # batch order: example 2's rows, then 0's, then 1's
    loss, mean = weighted_answer_ce(data, picked, logits, targets, 4.0)
    assert torch.allclose(loss, (w * rows).sum() / w.sum()) and torch.allclose(mean, rows.mean())
    plain, _ = weighted_answer_ce(data, picked, logits, targets, 1.0)
    assert torch.allclose(plain, F.cross_entropy(logits, targets))


def test_topk_kl_is_the_kl_of_the_coarsened_distributions():
    torch.manual_seed(0)
    teacher, student = torch.randn(6, 50) * 3, torch.randn(6, 50) * 3
    t_logp = teacher.log_softmax(-1)
    # k = vocabulary: the full KL(teacher || student).
    full = F.kl_div(student.log_softmax(-1), t_logp, log_target=True, reduction="batchmean")
    idx = torch.arange(50).expand(6, 50)
    assert torch.allclose(topk_kl(student, idx, t_logp), full, atol=1e-5)
    # k = 7: KL between {the teacher's 7 tokens, everything else} distributions, computed in float64.
    top_v, top_i = t_logp.topk(7, -1)
    p, q = t_logp.double().exp(), student.double().softmax(-1)
    want = []
    for r in range(6):
        pt, qt = p[r, top_i[r]], q[r, top_i[r]]
        pr, qr = 1 - pt.sum(), 1 - qt.sum()
        want.append((pt * (pt / qt).log()).sum() + pr * (pr / qr).log())
    assert torch.allclose(topk_kl(student, top_i, top_v), torch.stack(want).mean().float(), atol=1e-5)
    # The student equal to the teacher: zero, and the gradient vanishes.
    same = teacher.clone().requires_grad_()
    loss = topk_kl(same, top_i, top_v)
    loss.backward()
    assert loss.abs() < 1e-6 and same.grad.abs().max() < 1e-6


def test_rows_refuses_more_answer_tokens_than_the_teacher_scored():
    t = TeacherTargets(torch.zeros(3, 2, dtype=torch.int32), torch.zeros(3, 2).half(), torch.tensor([0, 1, 3]), torch.tensor([True, False]))
    assert t.rows(1, 2)[0].shape == (2, 2)
    try:
        t.rows(0, 2)
    except ValueError as e:
        assert "fewer" in str(e)
    else:
        raise AssertionError("rows() accepted more tokens than the teacher scored")


def test_teacher_term_takes_each_examples_own_rows_and_applies_the_gate():
    from training.train_hypernet import teacher_term

    torch.manual_seed(1)
    sizes, k, vocab = [3, 1, 2], 4, 20
    offsets = torch.tensor([0, 3, 4, 6])
    t_logp = torch.randn(6, vocab).log_softmax(-1)
    top_v, top_i = t_logp.topk(k, -1)
    data = type("D", (), {})()
    data.teacher = TeacherTargets(top_i.int(), top_v.half(), offsets, torch.tensor([True, False, True]))
    data.examples = [(0, [], [False] + [True] * size) for size in sizes]
    picked = [2, 0, 1]  # batch position != example index; the examples have 2, 3 and 1 answer tokens
    student = torch.randn(6, vocab)  # rows in batch order: example 2's 2, example 0's 3, example 1's 1
    rows_of = {2: [4, 5], 0: [0, 1, 2], 1: [3]}
    order = [r for j in picked for r in rows_of[j]]
    lp = top_v.half().float()
    want_all = topk_kl(student, top_i[order].long(), lp[order])
    assert torch.allclose(teacher_term(data, picked, student, "all"), want_all, atol=1e-6)
    kept = [r for j in picked if data.teacher.correct[j] for r in rows_of[j]]
    want_gated = topk_kl(student[:5], top_i[kept].long(), lp[kept])  # example 1 (the last row) is gated out
    assert torch.allclose(teacher_term(data, picked, student, "correct"), want_gated, atol=1e-6)


def fixed_draw(data, rng, n):
    """The same first n examples at every draw: the KL on them must fall as the hypernetwork trains on them."""
    return list(range(n))


def test_training_on_the_teacher_term_pulls_the_student_to_the_teacher(tmp_path, monkeypatch):
    from training import train_hypernet

    monkeypatch.setattr(train_hypernet, "draw", fixed_draw)
    printed = []
    monkeypatch.setattr(train_hypernet, "say", printed.append)
    train_hypernet.main(["--pack", "public/models/tiny-random", "--out", str(tmp_path / "run"), "--cache_dir", str(tmp_path / "cache"),
                         "--max_skills", "12", "--max_steps", "60", "--chunk_tokens", "128", "--d_model", "32", "--mlp_hidden", "64",
                         "--batch_size", "4", "--log_every", "5", "--warmup_steps", "2", "--lr", "3e-3", "--threads", "1",
                         "--kl_weight", "1.0", "--ce_weight", "0", "--teacher_gate", "all", "--kl_topk", "8", "--anchor_weight", "0",
                         "--multi_slot_prob", "0"])
    log = [json.loads(line) for line in printed if line.startswith("{")]
    assert log[-1]["step"] == 60 and all(e["kl"] > 0 for e in log)
    # The random tiny base with a skill in context differs from itself without it; the adapter closes most of the gap.
    assert log[-1]["kl"] < 0.5 * log[0]["kl"], log
    assert list((tmp_path / "cache").glob("teacher-*.pt")), "the teacher's targets were not cached"
