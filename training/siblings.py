"""Counterfactual sibling groups for the hypernetwork (#23): one request under several train skills of one family
whose parameters differ, each with its own gold answer.

A generic "answer format" adapter lowers the loss of ordinary batches as well as the right skill's adapter does
(the collapse Text-to-LoRA's users report). In a sibling group the request is the same and the answers differ, so
only an adapter that carries its own skill's parameters lowers the loss on every member. The contrast term makes
that explicit: each member's answer must cost less under its own adapter than under its sibling's (the next member
of the group), by a margin in nats per answer token.
"""
from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .skills import FAMILIES
from .skills.trajectories import assistant, user


@dataclass
class SiblingIndex:
    """Train skills grouped by family, then by parameter combination (skill indices into the trainer's skill list)."""

    by_family: dict[str, list[list[int]]]

    @classmethod
    def build(cls, families: list[str], params: list[dict]) -> "SiblingIndex":
        grouped: dict[str, dict[str, list[int]]] = {}
        for i, (family, p) in enumerate(zip(families, params)):
            grouped.setdefault(family, {}).setdefault(json.dumps(p, sort_keys=True), []).append(i)
        # Only families with at least two parameter combinations can make siblings whose answers differ.
        return cls({f: list(combos.values()) for f, combos in grouped.items() if len(combos) >= 2})


@dataclass
class SiblingGroup:
    skills: list[int]  # one skill per member, each of another parameter combination of the family
    text: str  # the input all members are asked about
    messages: list[list[dict]]  # per member: the shared request and that member's gold answer
    differs: list[bool]  # per member: its answer differs from the next member's (the contrast pairs it with that one)


def draw_group(index: SiblingIndex, params: list[dict], rng: random.Random, k: int, tries: int = 20) -> SiblingGroup | None:
    """A group of up to k siblings over one random input whose answers are not all equal; None when `tries` inputs
    of the drawn family all give one answer (small parameter spaces can agree on an input)."""
    family_name = rng.choice(sorted(index.by_family))
    family = FAMILIES[family_name]
    combos = rng.sample(index.by_family[family_name], min(k, len(index.by_family[family_name])))
    skills = [rng.choice(c) for c in combos]
    for _ in range(tries):
        text = family.sample_input(params[skills[0]], rng)
        answers = [family.answer(params[s], text) for s in skills]
        if len(set(answers)) >= 2:
            break
    else:
        return None
    request = family.request(text, rng)
    n = len(skills)
    return SiblingGroup(
        skills=skills,
        text=text,
        messages=[[user(request), assistant(a)] for a in answers],
        differs=[answers[i] != answers[(i + 1) % n] for i in range(n)],
    )


def sibling_rows(index: SiblingIndex, params: list[dict], rng: random.Random, k: int, target: int,
                 encode: Callable[[list[dict]], tuple[list[int], list[bool]]], max_draws: int = 50) -> tuple[list[SiblingGroup], list[tuple]]:
    """Groups of 2..k siblings filling at most `target` batch rows, and their rows (skill, ids, answer mask) in order;
    `encode` renders (and cuts) a conversation. A group whose member lost its whole answer to the cut is drawn again;
    after `max_draws` draws the batch takes what it has (the rest of it is ordinary examples)."""
    groups: list[SiblingGroup] = []
    rows: list[tuple] = []
    for _ in range(max_draws):
        room = target - len(rows)
        if room < 2:
            break
        group = draw_group(index, params, rng, min(k, room))
        if group is None:
            continue
        encoded = [encode(m) for m in group.messages]
        if not all(any(mask[1:]) for _, mask in encoded):
            continue
        groups.append(group)
        rows += [(s, ids, mask) for s, (ids, mask) in zip(group.skills, encoded)]
    return groups, rows


def rolled(groups: list[SiblingGroup]) -> list[int]:
    """For the members of consecutive groups laid out in order, the position of each member's sibling (the next
    member of its group, the last pairs with the first)."""
    out, start = [], 0
    for g in groups:
        n = len(g.skills)
        out += [start + (i + 1) % n for i in range(n)]
        start += n
    return out


def per_example_ce(logits: torch.Tensor, targets: torch.Tensor, counts: list[int]) -> torch.Tensor:
    """Mean answer-token cross-entropy of each example: logits [rows, V] and targets [rows] hold the answer rows of
    the examples in batch order, `counts` how many rows each has."""
    rows = F.cross_entropy(logits, targets, reduction="none")
    return torch.stack([seg.mean() for seg in rows.split(counts)])


def contrast_term(own_ce: torch.Tensor, sibling_ce: torch.Tensor, differs: torch.Tensor, margin: float) -> torch.Tensor:
    """Hinge on each member whose answer differs from its sibling's: its own adapter must explain it at least
    `margin` nats per token better than the sibling's adapter. 0 when no member of the batch differs."""
    if not differs.any():
        return own_ce.sum() * 0
    return F.relu(margin + own_ce - sibling_ce)[differs].mean()


def phrasing_pairs(index: SiblingIndex, rng: random.Random, families: int, combos: int) -> list[tuple[int, int]]:
    """Pairs of train skills that are two phrasings of one parameter combination: up to `combos` combinations in each
    of `families` families (so most of a pair's negatives are its siblings, skills of the same family whose parameters
    differ), for the phrasing contrast. Combinations with a single phrasing are skipped."""
    pairs: list[tuple[int, int]] = []
    eligible = sorted(f for f, cs in index.by_family.items() if sum(len(c) >= 2 for c in cs) >= 2)
    for family in rng.sample(eligible, min(families, len(eligible))):
        twice = [c for c in index.by_family[family] if len(c) >= 2]
        for combo in rng.sample(twice, min(combos, len(twice))):
            a, b = rng.sample(combo, 2)
            pairs.append((a, b))
    return pairs


def phrasing_contrast(first: torch.Tensor, second: torch.Tensor, temperature: float) -> torch.Tensor:
    """InfoNCE (NT-Xent) over 2P skill representations [P, ...] x 2: each item's positive is the other phrasing of its
    parameter combination, its negatives every other item of the step. Low when the representation reads the
    parameters (equal across phrasings, apart across siblings), ~log(2P - 1) when it ignores the skill."""
    z = F.normalize(torch.cat([first, second]).flatten(1), dim=-1)
    n = first.shape[0]
    sim = z @ z.T / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, target)
