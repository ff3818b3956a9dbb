"""The skill-in-context teacher for hypernetwork training: the frozen base answering each training conversation with
the skill text in its context (a system turn). Its next-token distributions on the answer tokens are what the
student (base + generated adapter, skill not in context) is pulled towards by the KL term of train_hypernet.

The teacher's sequences are the skill plus the conversation, several times longer than the student's, so they are
run once and cached: per answer token the top-k log-probabilities and token ids (the rest of the vocabulary is one
"other" bucket, so the KL is exact on the coarsened distribution), and per example whether the teacher's greedy
tokens equal the gold answer on every answer token (the KL is applied where the teacher is right: where it pays).
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from .conversations import encode_conversation, with_skill
from .model import Transformer


@dataclass
class TeacherTargets:
    """Answer tokens of every example, concatenated in example order: row offsets[j] .. offsets[j+1] are example j's."""

    idx: torch.Tensor  # [N, k] int32 top-k token ids
    logp: torch.Tensor  # [N, k] float16 top-k log-probabilities
    offsets: torch.Tensor  # [n_examples + 1] int64
    correct: torch.Tensor  # [n_examples] bool: greedy teacher == gold on every answer token it scored

    def rows(self, example: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The first n answer tokens of an example; n beyond what the teacher scored is an error."""
        start = int(self.offsets[example])
        if n > int(self.offsets[example + 1]) - start:
            raise ValueError(f"example {example}: the student has {n} answer tokens, the teacher scored fewer")
        return self.idx[start:start + n].long(), self.logp[start:start + n].float()


TEACHER_VERSION = 1  # bump when what the cached targets mean changes (it is part of the cache key)


def greedy_hits(logits: torch.Tensor, ids: torch.Tensor, sel: torch.Tensor, eos_ids: set[int]) -> torch.Tensor:
    """Per answer row (logits of the positions sel [B, T-1] marks in ids [B, T]): is the greedy token the gold one?
    Rows that follow an end-of-turn token count as hits (the template's newline after it: decoding has stopped).
    All rows of an answer hit exactly when greedy decoding writes that answer."""
    gold = ids[:, 1:][sel]
    after_eos = torch.isin(ids[:, :-1][sel], torch.tensor(sorted(eos_ids), device=ids.device))
    return (logits.argmax(-1) == gold) | after_eos


def teacher_sequence(tok, messages: list[dict], skill_md: str, student_answers: int, context: int) -> tuple[list[int], list[bool]]:
    """Ids and answer mask of the conversation with the skill in context, cut right after the student's last answer
    token. When that is longer than the context, the skill text loses its end (its name, description and first
    rules stay): every answer token the student trains on keeps a teacher row."""
    def render(md: str) -> tuple[list[int], list[bool]]:
        ids, mask = encode_conversation(tok, with_skill(messages, md))
        seen = 0
        for j, m in enumerate(mask):
            seen += m
            if m and seen == student_answers:
                return ids[: j + 1], mask[: j + 1]
        raise ValueError(f"the conversation has {seen} answer tokens, the student {student_answers}")

    ids, mask = render(skill_md)
    skill_ids = tok.encode(skill_md, add_special_tokens=False) if len(ids) > context else []
    while len(ids) > context:
        if not skill_ids:
            raise ValueError(f"the conversation alone is longer than the context ({len(ids)} > {context} tokens)")
        skill_ids = skill_ids[: max(0, len(skill_ids) - (len(ids) - context) - 1)]
        ids, mask = render(tok.decode(skill_ids))
    return ids, mask


def answer_logits(base: Transformer, seqs: list[tuple[list[int], list[bool]]], pad: int, batch_tokens: int, what: str, log):
    """The base's logits on the answer rows of every (ids, answer mask) sequence, in batches of similar length of
    about batch_tokens tokens: yields (sequence indices, logits [rows, V], ids [B, T], sel [B, T-1]) per batch,
    rows in batch order."""
    order = sorted(range(len(seqs)), key=lambda j: len(seqs[j][0]))
    t0, done, i = time.time(), 0, 0
    while i < len(order):
        j = i + 1  # sorted ascending, so the batch's last sequence is its longest
        while j < len(order) and (j + 1 - i) * len(seqs[order[j]][0]) <= batch_tokens:
            j += 1
        group = order[i:j]
        n = len(seqs[group[-1]][0])
        ids = torch.tensor([seqs[g][0] + [pad] * (n - len(seqs[g][0])) for g in group])
        attn = torch.tensor([[1] * len(seqs[g][0]) + [0] * (n - len(seqs[g][0])) for g in group])
        sel = torch.tensor([seqs[g][1] + [False] * (n - len(seqs[g][1])) for g in group])[:, 1:]
        logits, _, _ = base(ids[:, :-1], attn_mask=attn[:, :-1], logit_mask=sel)
        yield group, logits, ids, sel
        done += len(group)
        i = j
        if log and (done // 2000) != ((done - len(group)) // 2000):
            log(f"{what}: {done}/{len(seqs)} examples ({time.time() - t0:.0f}s)")


@torch.no_grad()
def build_targets(base: Transformer, tok, conversations: list[tuple[str, list[dict], int]], k: int, context: int,
                  eos_ids: set[int], batch_tokens: int = 8192, log=print) -> TeacherTargets:
    """conversations: (skill_md, messages, number of answer tokens the student sees) per example; the correctness
    flag is greedy_hits on every answer token."""
    seqs = [teacher_sequence(tok, msgs, md, n, context) for md, msgs, n in conversations]
    per_idx: list[torch.Tensor | None] = [None] * len(seqs)
    per_logp: list[torch.Tensor | None] = [None] * len(seqs)
    correct = torch.zeros(len(seqs), dtype=torch.bool, device="cpu")
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    for group, logits, ids, sel in answer_logits(base, seqs, pad, batch_tokens, "teacher", log):
        logp = logits.float().log_softmax(-1)
        top_v, top_i = logp.topk(k, dim=-1)
        counts = sel.sum(1).tolist()
        hits = greedy_hits(logits, ids, sel, eos_ids).split(counts)
        for g, i, v, hit in zip(group, top_i.split(counts), top_v.split(counts), hits):
            per_idx[g], per_logp[g], correct[g] = i.to(torch.int32), v.half(), bool(hit.all())
    sizes = torch.tensor([0] + [t.shape[0] for t in per_idx], device="cpu")
    for (_, _, n), size in zip(conversations, sizes[1:].tolist()):
        if size != n:
            raise AssertionError(f"the teacher scored {size} answer tokens of an example, the student has {n}")
    # On the CPU whatever device the base ran on: training indexes these per example.
    return TeacherTargets(torch.cat(per_idx).cpu(), torch.cat(per_logp).cpu(), sizes.cumsum(0), correct.cpu())


@torch.no_grad()
def base_misses(base: Transformer, seqs: list[tuple[list[int], list[bool]]], pad: int, eos_ids: set[int],
                batch_tokens: int = 8192, log=print) -> list[torch.Tensor]:
    """Per (ids, answer mask) sequence, per answer row (the rows of mask[1:]): does the base alone (no skill, no
    adapter) greedily write a token other than the gold one? Those are the tokens the skill decides: the ones an
    adapter must change (train_hypernet's decisive_weight)."""
    out: list[torch.Tensor | None] = [None] * len(seqs)
    for group, logits, ids, sel in answer_logits(base, seqs, pad, batch_tokens, "base misses", log):
        misses = (~greedy_hits(logits, ids, sel, eos_ids)).cpu().split(sel.sum(1).tolist())
        for g, miss in zip(group, misses):
            out[g] = miss
    return out


def cache_key(manifest: dict, conversations: list, k: int) -> str:
    """Everything the targets depend on: the pack's files (weights, tokenizer, chat template), the context, k, the
    teacher's exact inputs (skill texts, conversations, answer counts; for base_misses: ids and answer masks) and
    this module's version."""
    h = hashlib.sha256(json.dumps([TEACHER_VERSION, k, manifest["generation"]["contextLength"],
                                   sorted(f["sha256"] for f in manifest["files"])]).encode())
    for conv in conversations:
        h.update(json.dumps(conv, sort_keys=True).encode())
    return h.hexdigest()[:16]


def topk_kl(student_logits: torch.Tensor, idx: torch.Tensor, logp: torch.Tensor) -> torch.Tensor:
    """Mean over rows of KL(teacher || student) on the coarsened vocabulary {top-k tokens, everything else}:
    exact for that partition, and equal to the full KL when the teacher's top-k holds all its mass."""
    s = student_logits.float().log_softmax(-1)
    s_top = s.gather(-1, idx)
    # log q(rest) as a logsumexp over the other tokens: exact even when the student's top-k holds nearly all its mass.
    log_q_rest = s.scatter(-1, idx, float("-inf")).logsumexp(-1)
    p_top = logp.exp()
    p_rest = (1 - p_top.sum(-1)).clamp_min(0)  # the stored log-probs are float16: p_rest is good to ~1e-3
    kl_top = (p_top * (logp - s_top)).sum(-1)
    kl_rest = torch.where(p_rest > 1e-6, p_rest * (p_rest.clamp_min(1e-12).log() - log_q_rest), torch.zeros_like(p_rest))
    return (kl_top + kl_rest).mean()


__all__ = ["TEACHER_VERSION", "TeacherTargets", "greedy_hits", "teacher_sequence", "answer_logits", "build_targets", "base_misses", "cache_key", "topk_kl"]
