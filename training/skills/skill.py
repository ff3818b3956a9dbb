"""A skill instance (family + parameters + phrasing) and the SKILL.md text it is exchanged as."""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from typing import Any

import yaml

from .base import Family, Params
from .render import render_body
from .text import with_article

_NAME_SUFFIXES = ("", "-conventions", "-style", "-guide", "-rules", "-format")
_DESCRIPTION_TAILS = (
    "Use it whenever someone asks for {a_noun}.",
    "Use when writing or reviewing {a_noun}.",
    "Apply it to every {noun} in this repository.",
    "Load this skill before producing {a_noun}.",
)


@dataclass(frozen=True)
class Skill:
    skill_id: str
    family: str
    params: Params
    style: str
    template: int
    name: str  # Agent Skills front-matter name: lowercase letters, digits and hyphens
    description: str
    body: str
    split: str = ""

    @property
    def phrasing(self) -> str:
        return f"{self.style}.{self.template}"

    def to_markdown(self) -> str:
        """SKILL.md text: YAML front matter with name and description, then the markdown body."""
        # JSON strings are valid YAML double-quoted scalars, so any description survives the round trip.
        return f"---\nname: {self.name}\ndescription: {json.dumps(self.description)}\n---\n\n{self.body}"

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Skill:
        return cls(**{key: record[key] for key in cls.__dataclass_fields__ if key in record})


def word_count(text: str) -> int:
    return len(text.split())


def make_skill(
    family: Family, params: Params, style: str, template: int, skill_id: str, rng: random.Random, split: str = ""
) -> Skill:
    """Render one skill; `rng` drives every wording choice, so a seeded rng gives the same text every time."""
    body = render_body(family, params, style, rng, template)
    name = family.name.replace("_", "-") + rng.choice(_NAME_SUFFIXES)
    tail = rng.choice(_DESCRIPTION_TAILS).format(noun=family.output_noun, a_noun=with_article(family.output_noun))
    description = f"{family.summary} {tail}"
    return Skill(skill_id, family.name, dict(params), style, template, name, description, body, split)


def parse_skill_md(text: str) -> tuple[dict[str, Any], str]:
    """Split SKILL.md text into its front matter (a dict with at least name and description) and body.

    Raises ValueError naming what is wrong when the front matter is missing, unterminated, not YAML,
    not a mapping, or lacks a non-empty string `name` or `description`.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise ValueError("SKILL.md must start with a '---' line opening the YAML front matter")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ValueError("SKILL.md front matter is not closed by a '---' line") from None
    try:
        front = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as error:
        raise ValueError(f"SKILL.md front matter is not valid YAML: {error}") from None
    if not isinstance(front, dict):
        raise ValueError("SKILL.md front matter must be a YAML mapping of fields")
    for field in ("name", "description"):
        if not isinstance(front.get(field), str) or not front[field].strip():
            raise ValueError(f"SKILL.md front matter needs a non-empty string field {field!r}")
    return front, "\n".join(lines[end + 1 :]).lstrip("\n")
