"""Version-control conventions: commits, branches, changelogs, tags, pull requests, issues and reviews."""

from __future__ import annotations

import datetime as dt
import random

from .. import vocab
from ..base import Family, Params
from ..text import capitalize, kv_input, lower_first, mapping_sentence, parse_kv, placeholder, split_words, title_case

# Change kinds as users say them, shared by the families that map a kind to a label.
CHANGE_KINDS = ("bug fix", "new feature", "maintenance")


def cased_first(text: str, case: str) -> str:
    return capitalize(text) if case == "capital" else lower_first(text)


def case_rule(case: str, what: str) -> str:
    return (
        f"Start the {what} with a capital letter."
        if case == "capital"
        else f"Start the {what} with a lowercase letter."
    )


_COMMIT_KINDS = ("bug fix", "new feature", "documentation", "refactoring", "tests", "maintenance")
_COMMIT_TYPES = {
    "conventional": ("fix", "feat", "docs", "refactor", "test", "chore"),
    "capitalized": ("Fix", "Feature", "Docs", "Refactor", "Test", "Chore"),
    "upper": ("BUG", "FEAT", "DOCS", "REFACTOR", "TEST", "CHORE"),
}


class CommitMessage(Family):
    name = "commit_message"
    title = "Commit messages"
    summary = "Writes one-line commit messages in the team's format."
    output_noun = "commit message"
    space = {
        "format": (
            "{type}({scope}): {subject}",
            "{type}: {subject}",
            "[{scope}] {type}: {subject}",
            "{type}/{scope}: {subject}",
        ),
        "types": tuple(_COMMIT_TYPES),
        "subject_case": ("lower", "capital"),
        "period": (False, True),
    }
    requests = ("Write the commit message for this change: {input}", "Commit message please. {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        types = dict(zip(_COMMIT_KINDS, _COMMIT_TYPES[p["types"]]))
        rules = [
            f"Write a single line shaped like `{placeholder(p['format'])}`.",
            f"The type comes from the kind of change: {mapping_sentence(types)}.",
            "The subject is the change summary word for word. " + case_rule(p["subject_case"], "subject"),
            "End the subject with a period." if p["period"] else "Do not end the subject with a period.",
        ]
        if "{scope}" in p["format"]:
            rules.insert(2, "The scope is the area the change is in, exactly as the request names it.")
        return rules

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return f"{rng.choice(_COMMIT_KINDS)} in {rng.choice(vocab.SCOPES)}: {vocab.summary(rng)}"

    def answer(self, p: Params, text: str) -> str:
        head, subject = text.split(": ", 1)
        kind, scope = head.rsplit(" in ", 1)
        subject = cased_first(subject, p["subject_case"]) + ("." if p["period"] else "")
        kind_type = _COMMIT_TYPES[p["types"]][_COMMIT_KINDS.index(kind)]
        return p["format"].format(type=kind_type, scope=scope, subject=subject)


class CommitTicket(Family):
    name = "commit_ticket"
    title = "Ticket references in commits"
    summary = "Formats commit subjects that reference a tracker ticket."
    output_noun = "commit subject"
    space = {
        "placement": ("{ticket}: {subject}", "[{ticket}] {subject}", "{subject} ({ticket})", "{subject} [{ticket}]"),
        "mood": ("imperative", "as_written"),
        "case": ("capital", "lower"),
    }
    requests = ("Commit subject for: {input}", "Turn this into a commit subject. {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        mood = (
            "Use the imperative mood: turn a leading past-tense verb into its base form (fixed -> fix, added -> add)."
            if p["mood"] == "imperative"
            else "Keep the summary's verb exactly as written, even when it is in the past tense."
        )
        return [f"Shape the subject as `{placeholder(p['placement'])}`.", mood, case_rule(p["case"], "summary")]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return f"Ticket {vocab.ticket(rng)}: {vocab.summary(rng, past=True)}"

    def answer(self, p: Params, text: str) -> str:
        ticket, subject = text.removeprefix("Ticket ").split(": ", 1)
        if p["mood"] == "imperative":
            verb, rest = subject.split(" ", 1)
            subject = f"{vocab.PAST_TO_BASE.get(verb, verb)} {rest}"
        return p["placement"].format(ticket=ticket, subject=cased_first(subject, p["case"]))


_BRANCH_PREFIXES = {
    "long": {"new feature": "feature/", "bug fix": "bugfix/", "maintenance": "chore/"},
    "short": {"new feature": "feat/", "bug fix": "fix/", "maintenance": "chore/"},
    "none": {kind: "" for kind in CHANGE_KINDS},
}


class BranchName(Family):
    name = "branch_name"
    title = "Branch names"
    summary = "Names git branches from a ticket and a short description."
    output_noun = "branch name"
    space = {
        "prefix": tuple(_BRANCH_PREFIXES),
        "ticket": ("upper", "lower", "omit"),
        "sep": ("-", "_"),
        "max_words": (3, 5, 0),
    }
    requests = ("What should I call the branch? {input}", "Branch name for: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        prefix = (
            f"Start with a prefix for the kind of change: {mapping_sentence(_BRANCH_PREFIXES[p['prefix']])}."
            if p["prefix"] != "none"
            else "Do not add any prefix for the kind of change."
        )
        ticket = {
            "upper": "Then the ticket key in uppercase, as in `WEB-42`.",
            "lower": "Then the ticket key in lowercase, as in `web-42`.",
            "omit": "Leave the ticket key out.",
        }[p["ticket"]]
        limit = f" Keep only the first {p['max_words']} words." if p["max_words"] else " Keep every word."
        words = f"Then the description as lowercase words without punctuation, joined with `{p['sep']}`.{limit}"
        rules = [prefix, ticket, words]
        if p["ticket"] != "omit":
            rules.append(f"Join the ticket key and the first word with `{p['sep']}` as well.")
        return rules

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return f"{rng.choice(CHANGE_KINDS)} {vocab.ticket(rng)}: {vocab.summary(rng)}"

    def answer(self, p: Params, text: str) -> str:
        head, description = text.split(": ", 1)
        kind, ticket = head.rsplit(" ", 1)
        words = split_words(description)
        words = words[: p["max_words"]] if p["max_words"] else words
        ticket_part = {"upper": [ticket.upper()], "lower": [ticket.lower()], "omit": []}[p["ticket"]]
        return _BRANCH_PREFIXES[p["prefix"]][kind] + p["sep"].join(ticket_part + words)


_CHANGELOG_CATEGORIES = ("Added", "Changed", "Fixed", "Removed", "Deprecated", "Security")
_CHANGELOG_TEXTS = (
    "support for YAML config files",
    "a dry-run flag to the deploy command",
    "retry on HTTP 429 responses",
    "the legacy v1 export endpoint",
    "timezone handling in weekly reports",
    "a memory leak in the image resizer",
    "stricter validation of webhook signatures",
    "the old admin dashboard",
    "faster startup of the CLI",
)


class ChangelogLine(Family):
    name = "changelog_line"
    title = "Changelog entries"
    summary = "Writes CHANGELOG.md entries for merged pull requests."
    output_noun = "changelog line"
    space = {
        "bullet": ("-", "*"),
        "category": ("**{category}** ", "[{category}] ", "{category}: "),
        "ref": (" (#{pr})", " [#{pr}]", " (PR {pr})", ""),
        "period": (True, False),
    }
    requests = ("Changelog line for: {input}", "Add this to the changelog: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        ref = (
            f"Finish with the pull request reference as `{placeholder(p['ref'].strip())}`."
            if p["ref"]
            else "Do not mention the pull request number."
        )
        return [
            f"Start the line with `{p['bullet']}` and a space.",
            f"Then the category ({', '.join(_CHANGELOG_CATEGORIES)}) "
            f"written as `{placeholder(p['category']).strip()}`.",
            "Then the description with its first letter capitalised.",
            ref,
            "End the whole line with a period." if p["period"] else "Do not add a period at the end.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return (
            f"{rng.choice(_CHANGELOG_CATEGORIES).lower()} in PR {rng.randint(2, 4999)}: {rng.choice(_CHANGELOG_TEXTS)}"
        )

    def answer(self, p: Params, text: str) -> str:
        head, description = text.split(": ", 1)
        category, pr = head.split(" in PR ")
        line = p["bullet"] + " " + p["category"].format(category=capitalize(category)) + capitalize(description)
        return line + p["ref"].format(pr=pr) + ("." if p["period"] else "")


class VersionTag(Family):
    name = "version_tag"
    title = "Release tags"
    summary = "Names the git tag for a package release in a monorepo."
    output_noun = "git tag"
    space = {
        "package": ("{version}", "{package}-{version}", "{package}@{version}", "{package}/{version}"),
        "v_prefix": (True, False),
        "prerelease": ("-rc.{n}", "-rc{n}"),
    }
    requests = ("Which tag do I push for {input}?", "Tag name for {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        package = (
            "Tags carry only the version; the package name is not part of the tag."
            if p["package"] == "{version}"
            else f"Tags are shaped `{placeholder(p['package'])}`."
        )
        v_prefix = (
            "Write the version with a leading `v` (v2.4.0)."
            if p["v_prefix"]
            else "Write the version without a leading `v` (2.4.0)."
        )
        rc = (
            f"A release candidate appends `{placeholder(p['prerelease'])}` to the version, "
            "where n is the candidate number."
        )
        return [package, v_prefix, rc]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        number = ".".join(map(str, vocab.version(rng)))
        stage = f"release candidate {rng.randint(1, 4)}" if rng.random() < 0.5 else "final release"
        return f"{rng.choice(vocab.PACKAGES)} {number} {stage}"

    def answer(self, p: Params, text: str) -> str:
        package, number, *stage = text.split(" ")
        version = ("v" if p["v_prefix"] else "") + number
        if stage[0] == "release":
            version += p["prerelease"].format(n=stage[-1])
        return p["package"].format(package=package, version=version)


_PR_LABELS = {"bug fix": "Fix", "new feature": "Feature", "maintenance": "Chore"}


class PrTitle(Family):
    name = "pr_title"
    title = "Pull request titles"
    summary = "Writes pull request titles that link the ticket."
    output_noun = "pull request title"
    space = {
        "ticket": ("[{ticket}] {title}", "{ticket}: {title}", "{title} ({ticket})"),
        "type_label": (True, False),
        "case": ("sentence", "title"),
    }
    requests = ("PR title for: {input}", "I'm opening a pull request. {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        label = (
            f"Start the title with a label for the kind of change and a colon: {mapping_sentence(_PR_LABELS)}."
            if p["type_label"]
            else "Do not add a label for the kind of change."
        )
        case = (
            "Capitalise only the first letter of the summary."
            if p["case"] == "sentence"
            else "Write the summary in title case: capitalise every word except "
            "a, an, and, as, at, for, from, in, of, on, or, the, to, with."
        )
        return [f"Shape it as `{placeholder(p['ticket'])}`.", label, case]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return f"{vocab.ticket(rng)} {rng.choice(CHANGE_KINDS)}: {vocab.summary(rng)}"

    def answer(self, p: Params, text: str) -> str:
        head, summary = text.split(": ", 1)
        ticket, kind = head.split(" ", 1)
        title = capitalize(summary) if p["case"] == "sentence" else title_case(summary)
        if p["type_label"]:
            title = f"{_PR_LABELS[kind]}: {title}"
        return p["ticket"].format(ticket=ticket, title=title)


_ISSUE_COMPONENTS = ("search", "checkout", "user settings", "admin panel", "api gateway", "mobile app")
_ISSUE_KINDS = {"bug": "Bug", "feature request": "Feature", "question": "Question", "regression": "Regression"}
_ISSUE_KIND_TAGS = {kind: f"[{label}]" for kind, label in _ISSUE_KINDS.items()}
_COMPONENT_CASE = {"lower": str.lower, "title": lambda s: " ".join(map(capitalize, s.split(" "))), "upper": str.upper}
_ISSUE_SUMMARIES = (
    "results flicker on slow networks",
    "total ignores discount codes",
    "avatar upload fails for png files",
    "export button does nothing",
    "session expires after one minute",
    "dark mode loses contrast",
)


class IssueTitle(Family):
    name = "issue_title"
    title = "Issue titles"
    summary = "Writes issue tracker titles with the component prefix."
    output_noun = "issue title"
    space = {
        "prefix": ("[{component}] ", "{component}: ", "{component} | "),
        "kind": (True, False),
        "case": ("lower", "title", "upper"),
    }
    requests = ("Title for this issue: {input}", "File an issue title. {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        case = {"lower": "in lowercase", "title": "with each word capitalised", "upper": "in uppercase"}[p["case"]]
        kind = (
            f"Then the kind in brackets and a space: {mapping_sentence(_ISSUE_KIND_TAGS)}."
            if p["kind"]
            else "Do not mention the kind of issue."
        )
        return [
            f"Start with the component {case}, written as `{placeholder(p['prefix']).rstrip()}` followed by a space.",
            kind,
            "End with the summary, its first letter capitalised.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        fields = [
            ("component", rng.choice(_ISSUE_COMPONENTS)),
            ("kind", rng.choice(list(_ISSUE_KINDS))),
            ("summary", rng.choice(_ISSUE_SUMMARIES)),
        ]
        return kv_input(fields)

    def answer(self, p: Params, text: str) -> str:
        fields = parse_kv(text)
        component = _COMPONENT_CASE[p["case"]](fields["component"])
        kind = _ISSUE_KIND_TAGS[fields["kind"]] + " " if p["kind"] else ""
        return p["prefix"].format(component=component) + kind + capitalize(fields["summary"])


_REVIEW_LABELS = {
    "conventional": {"trivial": "nitpick", "moderate": "suggestion", "serious": "issue"},
    "severity": {"trivial": "minor", "moderate": "major", "serious": "blocker"},
    "short": {"trivial": "nit", "moderate": "consider", "serious": "must-fix"},
}
_REVIEW_COMMENTS = (
    "this loop re-reads the file on every pass",
    "the variable name hides that it is a count",
    "this query runs once per row",
    "the error is swallowed here",
    "this helper duplicates parse_date",
    "the timeout is hard-coded",
    "this branch is never reached",
)


class ReviewComment(Family):
    name = "review_comment"
    title = "Code review comments"
    summary = "Labels code review comments by severity."
    output_noun = "review comment"
    space = {
        "labels": tuple(_REVIEW_LABELS),
        "decoration": ("{label} ({blocking}): {comment}", "[{label}][{blocking}] {comment}", "{label}: {comment}"),
        "case": ("lower", "capital"),
    }
    requests = ("Phrase this review comment: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        rules = [
            f"Pick the label from the severity: {mapping_sentence(_REVIEW_LABELS[p['labels']])}.",
            f"Write the comment as `{placeholder(p['decoration'])}`.",
            case_rule(p["case"], "comment text"),
        ]
        if "{blocking}" in p["decoration"]:
            rules.insert(2, "The blocking marker is `blocking` or `non-blocking`, from the request.")
        return rules

    def sample_input(self, p: Params, rng: random.Random) -> str:
        fields = [
            ("severity", rng.choice(("trivial", "moderate", "serious"))),
            ("blocking", rng.choice(("yes", "no"))),
            ("comment", rng.choice(_REVIEW_COMMENTS)),
        ]
        return kv_input(fields)

    def answer(self, p: Params, text: str) -> str:
        fields = parse_kv(text)
        return p["decoration"].format(
            label=_REVIEW_LABELS[p["labels"]][fields["severity"]],
            blocking="blocking" if fields["blocking"] == "yes" else "non-blocking",
            comment=cased_first(fields["comment"], p["case"]),
        )


class ShortHash(Family):
    name = "short_hash"
    title = "Short commit hashes"
    summary = "Shortens commit hashes for release notes and chat."
    output_noun = "short hash"
    space = {"length": (7, 8, 10, 12), "case": ("lower", "upper"), "prefix": ("", "g", "#", "@")}
    requests = ("Shorten this commit hash: {input}", "Short form of {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        prefix = f"Put `{p['prefix']}` directly before it." if p["prefix"] else "Add nothing before it."
        return [f"Keep the first {p['length']} characters of the full hash.", f"Write them in {p['case']}case.", prefix]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return vocab.hex_string(rng, 40)

    def answer(self, p: Params, text: str) -> str:
        short = text.strip()[: p["length"]]
        return p["prefix"] + (short.upper() if p["case"] == "upper" else short.lower())


_RELEASE_SCHEMES = {
    "YYYY.MM": lambda d: f"{d.year}.{d.month:02d}",
    "YY.MM": lambda d: f"{d.year % 100:02d}.{d.month:02d}",
    "YYYY.WW": lambda d: f"{d.isocalendar().year}.{d.isocalendar().week:02d}",
    "YYYY-Qn": lambda d: f"{d.year}-Q{(d.month - 1) // 3 + 1}",
    "YY.MM.DD": lambda d: f"{d.year % 100:02d}.{d.month:02d}.{d.day:02d}",
}
_RELEASE_SCHEME_WORDS = {
    "YYYY.MM": "the four-digit year, a dot and the two-digit month (2024.03)",
    "YY.MM": "the two-digit year, a dot and the two-digit month (24.03)",
    "YYYY.WW": "the ISO year, a dot and the two-digit ISO week number (2024.09)",
    "YYYY-Qn": "the four-digit year, a hyphen and the quarter as Q1 to Q4 (2024-Q1)",
    "YY.MM.DD": "two-digit year, month and day joined by dots (24.03.05)",
}


class ReleaseName(Family):
    name = "release_name"
    title = "Calendar release names"
    summary = "Names releases after the date the release branch was cut."
    output_noun = "release name"
    space = {"scheme": tuple(_RELEASE_SCHEMES), "prefix": ("", "release-", "r")}
    requests = ("What is the release called? {input}", "Name the release: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        prefix = f"Prefix it with `{p['prefix']}`." if p["prefix"] else "Use no prefix."
        return [f"A release is named by its cut date: {_RELEASE_SCHEME_WORDS[p['scheme']]}.", prefix]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        day = dt.date(2021, 1, 1) + dt.timedelta(days=rng.randrange(1800))
        return f"release branch cut on {day.isoformat()}"

    def answer(self, p: Params, text: str) -> str:
        day = dt.date.fromisoformat(text.rsplit(" ", 1)[1])
        return p["prefix"] + _RELEASE_SCHEMES[p["scheme"]](day)


FAMILIES: tuple[Family, ...] = (
    CommitMessage(),
    CommitTicket(),
    BranchName(),
    ChangelogLine(),
    VersionTag(),
    PrTitle(),
    IssueTitle(),
    ReviewComment(),
    ShortHash(),
    ReleaseName(),
)
