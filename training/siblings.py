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


def logistic_contrast(own_ce: torch.Tensor, sibling_ce: torch.Tensor, counts: torch.Tensor, differs: torch.Tensor) -> torch.Tensor:
    """Softer and aimed at the parameters: for each member whose answer differs from its sibling's, -log of the
    probability that its own adapter rather than the sibling's wrote its answer, from the two adapters' total
    log-likelihoods of it (softplus(own - sibling), own and sibling the summed answer CE), per answer token, so that
    the term weighs a token about as the answer CE (a mean over tokens) does. The tokens both siblings' answers share
    cost about the same under either adapter and cancel, so the difference is the tokens the parameters decide; no
    margin to reach (the hinge's per-token margin is out of reach when most tokens are shared), and the pull fades as
    the own adapter wins. log 2 / tokens when the adapters ignore their parameters; 0 when no member of the batch
    differs."""
    if not differs.any():
        return own_ce.sum() * 0
    return (F.softplus((own_ce - sibling_ce) * counts) / counts)[differs].mean()


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


@dataclass
class ParamLabels:
    """What a train skill says, as classes for the parameter probe: its family, and for each of its parameters the
    value among those the family's train skills give that parameter. Classes live in one flat space of `size`
    logits cut into groups (the family group first, then one per family and parameter)."""

    groups: list[tuple[int, int]]  # (offset, number of classes) of each group in the flat space
    names: list[str]  # "family" or "FAMILY.PARAM", per group
    of_skill: list[list[tuple[int, int]]]  # per skill: (group, class within the group) for each group it belongs to
    size: int
    family_ids: dict[str, int]  # family -> class in the family group
    value_ids: dict[tuple[str, str], tuple[int, dict[str, int]]]  # (family, parameter) -> (its group, JSON of a value -> class)

    @classmethod
    def build(cls, families: list[str], params: list[dict]) -> "ParamLabels":
        family_ids = {f: i for i, f in enumerate(sorted(set(families)))}
        values: dict[tuple[str, str], set[str]] = {}
        for family, p in zip(families, params):
            for key, value in p.items():
                values.setdefault((family, key), set()).add(json.dumps(value, sort_keys=True))
        # Values in sorted order, so the labels do not depend on the order of the skills.
        value_ids = {k: (1 + g, {v: i for i, v in enumerate(sorted(vals))}) for g, (k, vals) in enumerate(sorted(values.items()))}
        names = ["family"] + [f"{f}.{k}" for f, k in value_ids]
        sizes = [len(family_ids)] + [len(v) for _, v in value_ids.values()]
        offsets = [sum(sizes[:i]) for i in range(len(sizes))]
        labels = cls(list(zip(offsets, sizes)), names, [], sum(sizes), family_ids, value_ids)
        labels.of_skill = [labels.of(f, p) for f, p in zip(families, params)]
        return labels

    def of(self, family: str, params: dict) -> list[tuple[int, int]]:
        """(group, class) of a skill of one of these families whose values are among the train skills' (a held-out
        phrasing or combination; the library holds out combinations, not values)."""
        out = [(0, self.family_ids[family])]
        for key, value in sorted(params.items()):
            group, classes = self.value_ids[(family, key)]
            out.append((group, classes[json.dumps(value, sort_keys=True)]))
        return out


def param_probe_loss(logits: torch.Tensor, labels: ParamLabels, skills: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(loss, family accuracy, value accuracy) of the parameter probe. logits [B, N, size]: one row per skill of
    `skills` and per target vector (the probe reads each of the hypernetwork's N per-target vectors on its own). Each
    group a skill belongs to is one classification among that group's classes (groups of one class, which say
    nothing, are left out); the loss is the mean cross-entropy over skills, groups and targets (~log of a group's size
    when the vectors ignore the skill); the accuracies are the shares of right argmaxes in the family group and in
    the parameter groups (nan where there is none)."""
    losses, family, values = [], [], []
    for row, skill in enumerate(skills):
        for group, target in labels.of_skill[skill]:
            offset, n = labels.groups[group]
            if n < 2:
                continue
            seg = logits[row, :, offset:offset + n]  # [N, n]
            want = torch.full((seg.shape[0],), target, dtype=torch.long, device=seg.device)
            losses.append(F.cross_entropy(seg, want, reduction="none"))
            (family if group == 0 else values).append(seg.argmax(-1) == want)
    if not losses:
        return logits.sum() * 0, torch.tensor(float("nan")), torch.tensor(float("nan"))
    acc = lambda hits: torch.cat(hits).float().mean() if hits else torch.tensor(float("nan"))  # noqa: E731
    return torch.cat(losses).mean(), acc(family), acc(values)
