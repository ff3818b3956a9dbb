"""Text helpers shared by the skill families: word splitting, casing, plurals, rounding, key-value inputs."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

_IDENTIFIER_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

# Casing names as the families' rules spell them, with the wording used in a skill body.
CASE_DESCRIPTIONS: dict[str, str] = {
    "snake": "snake_case (lowercase words joined by underscores, like `max_retry_count`)",
    "camel": "camelCase (first word lowercase, later words capitalised, no separator, like `maxRetryCount`)",
    "pascal": "PascalCase (every word capitalised, no separator, like `MaxRetryCount`)",
    "kebab": "kebab-case (lowercase words joined by hyphens, like `max-retry-count`)",
    "screaming_snake": "SCREAMING_SNAKE_CASE (uppercase words joined by underscores, like `MAX_RETRY_COUNT`)",
    "dot": "dot.case (lowercase words joined by dots, like `max.retry.count`)",
    "train": "Train-Case (capitalised words joined by hyphens, like `Max-Retry-Count`)",
}

SMALL_WORDS = frozenset({"a", "an", "and", "as", "at", "for", "from", "in", "of", "on", "or", "the", "to", "with"})


def split_words(text: str) -> list[str]:
    """Lowercase alphanumeric words; every other character separates words."""
    return [w.lower() for w in re.findall(r"[A-Za-z0-9]+", text)]


def split_identifier(name: str) -> list[str]:
    """Lowercase words of an identifier in any casing (`userId`, `HTTPServer`, `user_id`)."""
    return [w.lower() for w in _IDENTIFIER_PART.findall(name)]


def capitalize(word: str) -> str:
    """First letter upper, the rest untouched (so acronyms such as URL survive)."""
    return word[:1].upper() + word[1:]


def lower_first(word: str) -> str:
    return word[:1].lower() + word[1:]


def join_case(words: list[str], case: str) -> str:
    """Join lowercase words in one of the casings of CASE_DESCRIPTIONS."""
    lower = [w.lower() for w in words]
    if case == "snake":
        return "_".join(lower)
    if case == "screaming_snake":
        return "_".join(lower).upper()
    if case == "kebab":
        return "-".join(lower)
    if case == "dot":
        return ".".join(lower)
    if case == "camel":
        return lower[0] + "".join(capitalize(w) for w in lower[1:]) if lower else ""
    if case == "pascal":
        return "".join(capitalize(w) for w in lower)
    if case == "train":
        return "-".join(capitalize(w) for w in lower)
    raise ValueError(f"unknown case {case!r}")


def title_case(text: str) -> str:
    """Capitalise every word except short function words, which stay lowercase unless they come first."""
    words = text.split(" ")
    return " ".join(w if (i and w.lower() in SMALL_WORDS) else capitalize(w) for i, w in enumerate(words))


def pluralize(noun: str) -> str:
    """Regular English plural of the last word (the only plurals the families state as a rule)."""
    if noun.endswith("y") and noun[-2:-1] not in set("aeiou"):
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def with_article(noun: str) -> str:
    """`a commit message`, `an endpoint` (by first letter; good enough for the families' nouns)."""
    return ("an " if noun[:1].lower() in "aeio" else "a ") + noun


def round_half_up(value: Decimal | str | int, places: int) -> str:
    """Round like a person does (2.5 -> 3), unlike Python's round-half-even."""
    quantum = Decimal(1).scaleb(-places)
    return f"{Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP):f}"


def group_thousands(digits: str, sep: str) -> str:
    """Insert `sep` between groups of three digits counted from the right."""
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return sep.join(groups)


def placeholder(template: str) -> str:
    """Show a str.format template to a reader: `{type}: {subject}` -> `<type>: <subject>`."""
    return template.replace("{", "<").replace("}", ">")


def join_and(items: list[str]) -> str:
    """`a, b and c`."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def mapping_sentence(pairs: dict[str, str]) -> str:
    """`a -> x, b -> y` as it reads in a rule."""
    return ", ".join(f"{key} -> `{value}`" for key, value in pairs.items())


def kv_input(pairs: list[tuple[str, str]]) -> str:
    """A form-like user input: `key: value; key: value`."""
    return "; ".join(f"{key}: {value}" for key, value in pairs)


def parse_kv(text: str) -> dict[str, str]:
    """Inverse of kv_input; values never contain '; ' by construction."""
    fields = {}
    for part in text.split("; "):
        key, _, value = part.partition(": ")
        fields[key.strip()] = value.strip()
    return fields
