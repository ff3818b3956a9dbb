"""The skill library: families of software-engineering text skills with programs that answer and check them.

Public entry points:
    FAMILIES            family name -> Family, in registry order
    Skill, make_skill   one rendered skill and how to render it
    parse_skill_md      SKILL.md text -> (front matter, body)
    STYLES, PHRASINGS   phrasing styles and (style, template) pairs; see render.py
    score, aggregate    execution-checked scoring; see scoring.py
"""

from __future__ import annotations

from .base import Family, Params, clean_output, same_json, same_text
from .families import FAMILIES
from .render import HELDOUT_PHRASINGS, PHRASINGS, STYLES, TRAIN_PHRASINGS
from .scoring import aggregate, score
from .skill import Skill, make_skill, parse_skill_md, word_count

__all__ = [
    "FAMILIES",
    "Family",
    "Params",
    "Skill",
    "make_skill",
    "parse_skill_md",
    "word_count",
    "clean_output",
    "same_text",
    "same_json",
    "STYLES",
    "PHRASINGS",
    "TRAIN_PHRASINGS",
    "HELDOUT_PHRASINGS",
    "score",
    "aggregate",
]
