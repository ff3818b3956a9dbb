"""The skill library and its fixed splits, deterministic from a seed.

- train:            train families, train parameter combinations, train phrasings.
- heldout_phrasing: train families and train parameter combinations, phrased with a held-out template.
- heldout_params:   train families, parameter combinations that no train skill has (every single
                    parameter value still appears in train, so only the combination is new).
- heldout_family:   whole families that never appear in train.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from .base import Family, Params
from .families import FAMILIES
from .render import HELDOUT_PHRASINGS, PHRASINGS, TRAIN_PHRASINGS
from .skill import Skill, make_skill

SPLITS = ("train", "heldout_phrasing", "heldout_params", "heldout_family")


@dataclass(frozen=True)
class LibraryConfig:
    heldout_families: int = 24
    combos_per_family: int = 30  # distinct parameter combinations drawn per family (fewer if it has fewer)
    heldout_params_fraction: float = 0.2
    train_skills_per_family: int = 96
    heldout_phrasing_per_family: int = 6
    heldout_params_per_family: int = 6
    skills_per_heldout_family: int = 18  # one per phrasing: a held-out family is seen in every shape


def params_key(family: str, params: Params) -> str:
    """A hashable identity for (family, params), stable across JSON round trips."""
    return family + ":" + json.dumps(params, sort_keys=True)


def choose_heldout_families(seed: int, count: int) -> list[str]:
    names = list(FAMILIES)
    chosen = set(random.Random(f"{seed}:heldout-families").sample(names, count))
    return [name for name in names if name in chosen]


def hold_out_combos(combos: list[Params], fraction: float) -> tuple[list[Params], list[Params]]:
    """Split combos into (train, held out), keeping every single parameter value present in train."""
    wanted = max(1, round(len(combos) * fraction))
    train, heldout = list(combos), []
    for candidate in combos:
        if len(heldout) == wanted:
            break
        rest = [c for c in train if c is not candidate]
        if all(any(c[key] == value for c in rest) for key, value in candidate.items()):
            train, heldout = rest, heldout + [candidate]
    return train, heldout


def _family_skills(family: Family, seed: int, config: LibraryConfig, heldout_family: bool) -> list[Skill]:
    rng = random.Random(f"{seed}:library:{family.name}")
    combos = family.combos()
    rng.shuffle(combos)
    combos = combos[: config.combos_per_family]
    # (split, params, phrasing) for each skill of this family, in a fixed order.
    plan: list[tuple[str, Params, tuple[str, int]]] = []
    if heldout_family:
        for i in range(config.skills_per_heldout_family):
            plan.append(("heldout_family", combos[i % len(combos)], PHRASINGS[i % len(PHRASINGS)]))
    else:
        train, heldout = hold_out_combos(combos, config.heldout_params_fraction)
        for i in range(config.train_skills_per_family):
            plan.append(("train", train[i % len(train)], rng.choice(TRAIN_PHRASINGS)))
        for i in range(config.heldout_phrasing_per_family):
            plan.append(("heldout_phrasing", train[i % len(train)], HELDOUT_PHRASINGS[i % len(HELDOUT_PHRASINGS)]))
        # A tiny sample of combos may have none that can be held out with every value still in train.
        for i in range(config.heldout_params_per_family if heldout else 0):
            plan.append(("heldout_params", heldout[i % len(heldout)], rng.choice(TRAIN_PHRASINGS)))
    skills = []
    for index, (split, params, (style, template)) in enumerate(plan):
        skill_id = f"{family.name}-{index:03d}"
        skills.append(
            make_skill(family, params, style, template, skill_id, random.Random(f"{seed}:skill:{skill_id}"), split)
        )
    return skills


def build_library(seed: int, config: LibraryConfig = LibraryConfig()) -> list[Skill]:
    """Every skill of every family with its split, in registry order."""
    heldout = set(choose_heldout_families(seed, config.heldout_families))
    return [
        skill for name, family in FAMILIES.items() for skill in _family_skills(family, seed, config, name in heldout)
    ]
