"""Renders a family's rule as a SKILL.md body in one of several phrasing styles and paraphrase templates.

A phrasing is (style, template). Template HELDOUT_TEMPLATE of every style is only ever used by the
heldout_phrasing split, so those layouts are never seen in training.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from .base import Family, Params
from .text import capitalize

STYLES = ("terse", "verbose", "examples", "long", "oneliner", "examples_only")
# Styles that show the rule only through worked examples: the reader infers it (real SKILL.md files do this).
EXAMPLE_ONLY_STYLES = ("examples_only",)
TEMPLATES_PER_STYLE = 3
HELDOUT_TEMPLATE = 2

PHRASINGS: tuple[tuple[str, int], ...] = tuple((s, t) for s in STYLES for t in range(TEMPLATES_PER_STYLE))
TRAIN_PHRASINGS = tuple(p for p in PHRASINGS if p[1] != HELDOUT_TEMPLATE)
HELDOUT_PHRASINGS = tuple(p for p in PHRASINGS if p[1] == HELDOUT_TEMPLATE)

# Generic prose for verbose and long skills. It is deliberately free of any concrete format, so it never
# contradicts a rule; "{topic}" is the family's plural output noun.
_INTROS = (
    "This skill describes how our team writes {topic}. Follow every rule below exactly.",
    "Use this guide whenever you produce {topic} for this repository; reviewers and tooling both rely on it.",
    "Our {topic} follow one convention across all services. It is short, but every detail matters.",
    "Consistent {topic} make the codebase easier to search and automate. Here is the convention we agreed on.",
)
_REASONS = (
    "This keeps things easy to scan.",
    "Automation parses this, so a deviation breaks it.",
    "Reviewers check this first.",
    "It removes a common source of review comments.",
    "We adopted this after several mix-ups in past releases.",
    "Search and dashboards depend on it.",
    "It keeps every service consistent.",
    "Please do not improvise here.",
)
_CLOSINGS = (
    "Reply with the {noun} only, nothing else.",
    "Answer with just the {noun}: no explanation, no quotes.",
    "Output the {noun} alone on one line.",
    "Give only the resulting {noun}.",
)
_BACKGROUND = (
    "The convention grew out of a cleanup project in which we found five different styles in one repository.",
    "New joiners asked about this so often that we decided to write it down once.",
    "Several teams share the same tooling, so small differences between them used to cause friction.",
    "When we audited our {topic} last year, roughly a third of them needed manual fixes.",
    "The rules were agreed in an architecture review and have not changed much since.",
    "Most of the reasoning is about making {topic} predictable for both people and scripts.",
    "Other companies use similar conventions, but ours differs in a few details, so read carefully.",
    "We keep this page short on purpose; the exceptions are listed at the end.",
    "Before the convention existed, every team had its own habits, and cross-team reviews were slow.",
    "The rules favour boring predictability over cleverness.",
    "Some of the rules look arbitrary; they were chosen to match what our scripts already expected.",
    "Open-source projects we depend on use different styles, which is fine: this page covers our own code only.",
)
_TOOLING = (
    "A pre-commit hook flags most mistakes, but it cannot catch all of them.",
    "The CI pipeline runs a lint step that reports violations as warnings on the pull request.",
    "Editor snippets for the common cases live in the shared dotfiles repository.",
    "The release bot reads {topic} when it assembles notes, so broken ones end up in the wrong section.",
    "There is a dashboard that tracks how many {topic} follow the convention each week.",
    "If you script anything around {topic}, reuse the shared helper library instead of writing your own parser.",
    "Our internal CLI has a dry-run mode that prints what it would generate.",
    "Linters run on every push; a failing check blocks merging until it is fixed.",
    "The code search index treats {topic} as structured data, which is why the format is strict.",
    "A nightly job samples recent {topic} and posts a summary of violations to the team channel.",
    "The documentation site renders this page from the same source as the onboarding handbook.",
    "Local checks run in a few seconds; there is no reason to skip them.",
)
_FAQ = (
    (
        "Can I deviate from this for a one-off?",
        "Please don't; ask in the engineering channel if you think the rule is wrong.",
    ),
    ("Who owns this convention?", "The developer experience team maintains it together with the tech leads."),
    ("Does this apply to old code?", "Only when you touch it; there is no need for bulk rewrites."),
    ("What if the tooling disagrees with this page?", "This page wins; file a bug against the tool."),
    ("Is there an automatic fixer?", "Partly. It handles the common cases, so always double-check its output."),
    ("Do generated files follow the same rule?", "Yes, generators are configured with the same convention."),
    ("Where do I propose a change?", "Open a pull request against this document and tag the owners."),
    (
        "Is this enforced for experiments and spikes?",
        "Yes; throwaway work has a habit of surviving longer than planned.",
    ),
    ("What about urgent hotfixes?", "The same rule applies. It takes seconds and saves confusion later."),
    (
        "Why is this not configurable per team?",
        "Shared tooling would need a switch for every variant, which we want to avoid.",
    ),
)
_TROUBLESHOOTING = (
    "If the lint step fails, read its message first; it usually names the rule that was broken.",
    "A stale cache in the pre-commit hook can cause false alarms; clearing it usually helps.",
    "When two branches disagree, rebase on the main branch and run the checks again.",
    "If a bot comment looks wrong, reply on the pull request and a maintainer will look at it.",
    "Copying an example from an old ticket is a frequent source of mistakes, because older tickets predate the rule.",
    "If the checks pass locally but fail in CI, compare the tool versions; CI pins them.",
    "Windows line endings sometimes confuse the older scripts; configure your editor to use LF.",
    "When in doubt, ask in the engineering channel before merging rather than after.",
)
_HISTORY = (
    "The first version of this convention was written during the migration to the monorepo.",
    "A later revision removed two rarely used variants to keep things simple.",
    "The current form has been stable for more than a year.",
    "We briefly tried a stricter variant, but it slowed reviews down without real benefit.",
    "The wording of this page was simplified after feedback from the last onboarding cohort.",
    "An automated migration brought most existing code in line when the rule was introduced.",
)
_INCIDENTS = (
    "Last spring a release was delayed by half a day because a script could not parse a handful of {topic} that "
    "did not follow the convention. Nobody had noticed, since each one looked fine on its own. The fix was trivial; "
    "finding the cause was not.",
    "During a migration, two teams produced {topic} in slightly different shapes. The dashboards silently dropped "
    "one of the shapes for weeks, and an on-call engineer spent a night chasing a problem that did not exist.",
    "An external auditor once asked us to show that our {topic} were consistent. Because most of them followed this "
    "page, the answer took an afternoon instead of a sprint.",
    "A new service copied its conventions from a tutorial rather than from this page. Reviewers caught it late, and "
    "the cleanup touched more than two hundred files.",
)
_CHECKLIST = (
    "Read the rules on this page once more before your first contribution.",
    "Run the local checks before pushing.",
    "Look at two or three recent examples in the history.",
    "Ask a reviewer from another team if the change is cross-cutting.",
    "Keep pull requests small so reviewers can check conventions quickly.",
    "Update the documentation when behaviour changes.",
    "Link the ticket in the pull request description.",
    "Resolve every bot comment before asking for a final review.",
)
_OWNERSHIP = (
    "Questions go to the developer experience team.",
    "Tech leads review changes to this page once per quarter.",
    "Anyone may suggest improvements through a pull request.",
)
_GLOSSARY = (
    ("Convention", "the agreed rule described on this page"),
    ("Reviewer", "the engineer who approves a pull request"),
    ("CI", "the continuous integration pipeline that runs on every push"),
    ("Lint", "an automatic check for style problems"),
    ("Owner", "the team responsible for a part of the codebase"),
)
_PROCESS = (
    "Write the change, run the checks locally, then open a pull request.",
    "Reviewers look at the code first and at conventions like this one second.",
    "Once approved, the merge bot squashes and merges the branch.",
    "Release notes are assembled automatically at the end of the sprint.",
)


@dataclass
class _Page:
    """What every template needs: the family's words, its rules, and a seeded source of variation."""

    family: Family
    params: Params
    rng: random.Random

    @property
    def rules(self) -> list[str]:
        return self.family.rules(self.params)

    def fill(self, text: str) -> str:
        return text.replace("{topic}", self.family.topic).replace("{noun}", self.family.output_noun)

    def pick(self, pool: tuple[str, ...], low: int, high: int | None = None) -> list[str]:
        """low to high (inclusive) distinct lines of a pool; long skills vary in length this way."""
        k = low if high is None else self.rng.randint(low, high)
        return [self.fill(line) for line in self.rng.sample(pool, k)]

    def prose(self, pool: tuple[str, ...], low: int, high: int | None = None) -> str:
        return " ".join(self.pick(pool, low, high))

    def one(self, pool: tuple[str, ...]) -> str:
        return self.pick(pool, 1)[0]

    def examples(self, k: int) -> list[tuple[str, str]]:
        """Worked examples computed by the family's own program, with distinct inputs."""
        seen: dict[str, str] = {}
        for _ in range(20 * k):
            text = self.family.sample_input(self.params, self.rng)
            seen.setdefault(text, self.family.answer(self.params, text))
            if len(seen) == k:
                break
        return list(seen.items())

    def faq(self, low: int, high: int) -> str:
        return "\n\n".join(f"**{q}** {a}" for q, a in self.rng.sample(_FAQ, self.rng.randint(low, high)))

    def maybe(self, section: str) -> tuple[str, str] | None:
        """An optional irrelevant section, present in about half of the long skills."""
        if self.rng.random() < 0.5:
            return None
        if section == "checklist":
            return "Checklist", bullets(self.pick(_CHECKLIST, 4, 8))
        return "A story from production", "\n\n".join(self.pick(_INCIDENTS, 1, 2))


def bullets(lines: list[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def numbered(lines: list[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def labeled(label: str, text: str) -> str:
    """`Label: `value`` for one-line values, a fenced block under the label for multi-line ones."""
    return f"{label}: `{text}`" if "\n" not in text else f"{label}:\n```\n{text}\n```"


def example_pair(text: str, answer: str) -> str:
    return (
        f"Input: `{text}` -> Output: `{answer}`"
        if "\n" not in text
        else labeled("Input", text) + "\n" + labeled("Output", answer)
    )


def table_cell(text: str) -> str:
    return "`" + text.replace("|", "\\|").replace("\n", "<br>") + "`"


def shows_example(body: str, text: str) -> bool:
    """Whether a rendered body already contains `text` as a worked-example input, in any template's layout."""
    return any(form in body for form in (f"`{text}`", f"```\n{text}\n```", table_cell(text)))


def _terse_bullets(page: _Page) -> str:
    return f"# {page.family.title}\n\n{bullets(page.rules + [page.one(_CLOSINGS)])}"


def _terse_numbered(page: _Page) -> str:
    closing = f"Output: the {page.family.output_noun}, nothing else."
    return f"## {page.family.title} convention\n\n{numbered(page.rules)}\n\n{closing}"


def _terse_paragraph(page: _Page) -> str:
    return f"{page.family.title}. " + " ".join(page.rules) + f" Answer with just the {page.family.output_noun}."


def _verbose_paragraphs(page: _Page) -> str:
    paragraphs = [f"{rule} {reason}" for rule, reason in zip(page.rules, page.pick(_REASONS, len(page.rules)))]
    return "\n\n".join([f"# {page.family.title}", page.one(_INTROS), *paragraphs, page.one(_CLOSINGS)])


def _verbose_sections(page: _Page) -> str:
    rules = "\n\n".join(f"**Rule {i}.** {rule}" for i, rule in enumerate(page.rules, 1))
    output = f"Reply with the {page.family.output_noun} alone. Do not add an explanation, quotes or a trailing comment."
    return f"## Purpose\n\n{page.one(_INTROS)} {page.one(_BACKGROUND)}\n\n## Rules\n\n{rules}\n\n## Output\n\n{output}"


def _verbose_questions(page: _Page) -> str:
    steps = ["First", "Next", "Then", "After that", "Also", "Finally", "In addition"]
    woven = " ".join(f"{steps[min(i, len(steps) - 1)]}: {rule}" for i, rule in enumerate(page.rules))
    return (
        f"### What is this for?\n\n{page.family.summary} {page.one(_INTROS)}\n\n"
        f"### What exactly should I produce?\n\n{woven}\n\n"
        f"### Anything else?\n\n{page.one(_CLOSINGS)} {page.one(_REASONS)}"
    )


def _example_blocks(page: _Page, k: int) -> str:
    return "\n\n".join(labeled("Input", x) + "\n" + labeled("Output", y) for x, y in page.examples(k))


def _examples_after(page: _Page) -> str:
    examples = _example_blocks(page, page.rng.randint(2, 3))
    return f"# {page.family.title}\n\n{bullets(page.rules)}\n\n## Examples\n\n{examples}\n\n{page.one(_CLOSINGS)}"


def _example_list(page: _Page, k: int) -> str:
    return "\n".join(f"- {example_pair(x, y)}" for x, y in page.examples(k))


def _example_table(page: _Page, k: int, left: str) -> str:
    rows = "\n".join(f"| {table_cell(x)} | {table_cell(y)} |" for x, y in page.examples(k))
    return f"| {left} | {capitalize(page.family.output_noun)} |\n| --- | --- |\n{rows}"


def _examples_first(page: _Page) -> str:
    examples = _example_list(page, page.rng.randint(2, 3))
    return f"### Examples\n\n{examples}\n\n### The rule behind them\n\n{numbered(page.rules)}"


def _examples_table(page: _Page) -> str:
    table = _example_table(page, page.rng.randint(2, 3), "Request")
    return f"# {page.family.title}\n\n{table}\n\n{' '.join(page.rules)} {page.one(_CLOSINGS)}"


def _oneliner_titled(page: _Page) -> str:
    return f"{page.family.title}: " + " ".join(page.rules)


def _oneliner_imperative(page: _Page) -> str:
    return f"When you write {page.family.topic}: " + " ".join(page.rules) + f" Reply with the {page.family.output_noun} only."


def _oneliner_quote(page: _Page) -> str:
    return "> " + " ".join(page.rules)


def _only_blocks(page: _Page) -> str:
    intro = f"Write {page.family.topic} exactly like these examples."
    return f"# {page.family.title}\n\n{intro}\n\n{_example_blocks(page, page.rng.randint(4, 5))}"


def _only_arrows(page: _Page) -> str:
    examples = _example_list(page, page.rng.randint(4, 5))
    return f"## {page.family.title}, by example\n\n{examples}\n\nFollow the same pattern. {page.one(_CLOSINGS)}"


def _only_table(page: _Page) -> str:
    return f"{page.family.summary} Match these:\n\n{_example_table(page, page.rng.randint(4, 5), 'Input')}"


def document(title: str, sections: list[tuple[str, str] | None]) -> str:
    """A markdown page: the title, then one `##` section per (heading, text); None marks a skipped section."""
    return "\n\n".join([f"# {title}"] + [f"## {heading}\n\n{text}" for heading, text in filter(None, sections)])


def _long_handbook(page: _Page) -> str:
    return document(
        page.family.title,
        [
            ("Background", page.prose(_BACKGROUND, 3, 7)),
            ("Tooling", page.prose(_TOOLING, 3, 7)),
            ("The convention", bullets(page.rules)),
            ("Example", _example_blocks(page, 1)),
            ("FAQ", page.faq(2, 6)),
            page.maybe("checklist"),
            ("Troubleshooting", page.prose(_TROUBLESHOOTING, 2, 5)),
        ],
    )


def _long_guide(page: _Page) -> str:
    return document(
        f"{page.family.title} guide",
        [
            ("Overview", f"{page.family.summary} {page.prose(_BACKGROUND, 2, 6)}"),
            ("History", page.prose(_HISTORY, 2, 5)),
            ("Related tooling", bullets(page.pick(_TOOLING, 3, 7))),
            ("Rules", f"{numbered(page.rules)}\n\n{page.one(_CLOSINGS)}"),
            page.maybe("incident"),
            ("Common questions", page.faq(2, 6)),
            ("Ownership", page.prose(_OWNERSHIP, 2)),
        ],
    )


def _long_reference(page: _Page) -> str:
    glossary = "\n".join(f"- **{term}**: {meaning}." for term, meaning in page.rng.sample(_GLOSSARY, 4))
    return document(
        f"{page.family.title} handbook",
        [
            ("Context", f"{page.prose(_BACKGROUND, 2, 6)} {page.prose(_HISTORY, 1, 3)}"),
            ("Glossary", glossary),
            page.maybe("incident"),
            ("Process", f"{page.prose(_PROCESS, 2, 4)} {page.prose(_TOOLING, 2, 6)}"),
            ("Troubleshooting", page.prose(_TROUBLESHOOTING, 2, 5)),
            ("Reference: the exact format", f"{' '.join(page.rules)} {page.one(_CLOSINGS)}"),
            page.maybe("checklist"),
            ("Support", f"{page.prose(_OWNERSHIP, 2)}\n\n{page.faq(1, 3)}"),
        ],
    )


_TEMPLATES: dict[tuple[str, int], Callable[[_Page], str]] = {
    ("terse", 0): _terse_bullets,
    ("terse", 1): _terse_numbered,
    ("terse", 2): _terse_paragraph,
    ("verbose", 0): _verbose_paragraphs,
    ("verbose", 1): _verbose_sections,
    ("verbose", 2): _verbose_questions,
    ("examples", 0): _examples_after,
    ("examples", 1): _examples_first,
    ("examples", 2): _examples_table,
    ("long", 0): _long_handbook,
    ("long", 1): _long_guide,
    ("long", 2): _long_reference,
    ("oneliner", 0): _oneliner_titled,
    ("oneliner", 1): _oneliner_imperative,
    ("oneliner", 2): _oneliner_quote,
    ("examples_only", 0): _only_blocks,
    ("examples_only", 1): _only_arrows,
    ("examples_only", 2): _only_table,
}
assert set(_TEMPLATES) == set(PHRASINGS)


def render_body(family: Family, params: Params, style: str, rng: random.Random, template: int | None = None) -> str:
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; expected one of {STYLES}")
    if template is None:
        template = rng.randrange(TEMPLATES_PER_STYLE)
    return _TEMPLATES[(style, template)](_Page(family, params, rng)).strip() + "\n"


def filler_sections(family: Family, rng: random.Random) -> Iterator[str]:
    """An endless run of irrelevant `##` sections about a family's topic (background, tooling, questions, stories from
    production, ...) drawn from the format-free prose pools above: text that lengthens a skill past any context
    without stating, or contradicting, a rule."""
    page = _Page(family, {}, rng)
    makers: tuple[tuple[str, Callable[[], str]], ...] = (
        ("Background", lambda: page.prose(_BACKGROUND, 3, 7)),
        ("Tooling", lambda: page.prose(_TOOLING, 3, 7)),
        ("History", lambda: page.prose(_HISTORY, 2, 5)),
        ("Common questions", lambda: page.faq(2, 6)),
        ("Troubleshooting", lambda: page.prose(_TROUBLESHOOTING, 2, 5)),
        ("Checklist", lambda: bullets(page.pick(_CHECKLIST, 4, 8))),
        ("A story from production", lambda: "\n\n".join(page.pick(_INCIDENTS, 1, 2))),
        ("Ownership", lambda: page.prose(_OWNERSHIP, 2)),
    )
    while True:
        heading, make = rng.choice(makers)
        yield f"## {heading}\n\n{make()}"
