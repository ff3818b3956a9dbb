"""Team process around code: trailers, merge and revert subjects, release notes, labels, reviews and on-call lines."""

from __future__ import annotations

import random
import re

from .. import vocab
from ..base import Family, Params
from ..text import capitalize, kv_input, mapping_sentence, parse_kv, placeholder, split_identifier

# People as they appear in commit trailers, handovers and release notes.
_PEOPLE = (
    ("Maria", "Gonzalez"),
    ("John", "Smith"),
    ("Aiko", "Tanaka"),
    ("Lars", "Nilsen"),
    ("Fatima", "Haddad"),
    ("Diego", "Ramirez"),
    ("Chen", "Wang"),
    ("Olga", "Petrova"),
    ("Kwame", "Mensah"),
    ("Priya", "Iyer"),
    ("Ines", "Garcia"),
    ("Tom", "Becker"),
)
_CONVENTIONAL_TYPES = ("feat", "fix", "docs", "refactor", "chore", "perf", "test")
_TICKET_RE = re.compile(r"[A-Z]+-\d+")
_CONVENTIONAL_PREFIX = re.compile(r"^[a-z]+(\([^)]*\))?!?: ")


def _handle(rng: random.Random, first: str, last: str) -> str:
    form = rng.randrange(3)
    if form == 0:
        return (first[0] + last).lower()
    if form == 1:
        return f"{first}-{last}".lower()
    return f"{first.lower()}{rng.randint(1, 99)}"


_SLUG_SKIP = frozenset({"the", "a", "an", "in", "for", "on", "when", "after", "during"})


def _slug(text: str, words: int) -> str:
    """The first content words of a summary, for branch names (`fix-expired-tokens`)."""
    return "-".join([w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _SLUG_SKIP][:words])


def _version_text(rng: random.Random) -> str:
    return ".".join(map(str, vocab.version(rng)))


def _pr(rng: random.Random) -> int:
    return rng.randint(12, 4999)


# ---------------------------------------------------------------------------------------------- commit trailers

_TRAILER_ROLES = {
    "signed off": "Signed-off-by",
    "paired": "Co-authored-by",
    "reviewed": "Reviewed-by",
    "tested": "Tested-by",
    "reported": "Reported-by",
}
_TRAILER_IDENTITIES = {
    "name_email": "After the token write the person's full name, a space and their email address in angle brackets, "
    "like `Ada Lovelace <ada@example.com>`.",
    "name": "After the token write only the person's full name, exactly as given; leave the email and handle out.",
    "handle": "After the token write only the person's GitHub handle with a leading `@`, like `@ada`.",
    "email": "After the token write only the person's email address, without angle brackets.",
}


class CommitTrailer(Family):
    name = "commit_trailer"
    title = "Commit trailers"
    summary = "Writes the git trailer line that credits a person on a commit."
    output_noun = "trailer line"
    space = {"token_case": ("train", "lower"), "identity": tuple(_TRAILER_IDENTITIES)}
    requests = ("Which trailer do I add to the commit? {input}", "Trailer line for: {input}", "{input}")

    def _tokens(self, p: Params) -> dict[str, str]:
        return {role: t if p["token_case"] == "train" else t.lower() for role, t in _TRAILER_ROLES.items()}

    def rules(self, p: Params) -> list[str]:
        return [
            "Write a single trailer line: a token, a colon and a space, then the person.",
            f"The token comes from the person's role: {mapping_sentence(self._tokens(p))}.",
            _TRAILER_IDENTITIES[p["identity"]],
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        first, last = rng.choice(_PEOPLE)
        email = f"{first}.{last}@{rng.choice(vocab.DOMAINS)}".lower()
        fields = [
            ("role", rng.choice(list(_TRAILER_ROLES))),
            ("name", f"{first} {last}"),
            ("email", email),
            ("github", _handle(rng, first, last)),
        ]
        return kv_input(fields)

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        person = {
            "name_email": f"{f['name']} <{f['email']}>",
            "name": f["name"],
            "handle": "@" + f["github"],
            "email": f["email"],
        }[p["identity"]]
        return f"{self._tokens(p)[f['role']]}: {person}"


class TicketRefsTrailer(Family):
    name = "ticket_refs_trailer"
    title = "Ticket reference trailers"
    summary = "Writes the trailer that links a commit to its tracker tickets."
    output_noun = "ticket trailer"
    space = {"close_token": ("Closes", "Fixes", "Resolves"), "sep": (", ", " "), "order": ("given", "sorted")}
    requests = ("Add the ticket trailer: {input}", "What goes in the commit footer? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        sep = (
            "Separate the ticket keys with a comma and a space."
            if p["sep"] == ", "
            else "Separate the ticket keys with single spaces, no commas."
        )
        order = (
            "List the ticket keys in the order the request gives them."
            if p["order"] == "given"
            else "List the ticket keys sorted alphabetically by their project part (the letters before the hyphen), "
            "whatever order the request gives them in."
        )
        return [
            "Write a single trailer line: a token, a colon and a space, then every ticket key of the request.",
            f"If the change completes the tickets, the token is `{p['close_token']}`; if it only works toward "
            "them, the token is `Refs`.",
            order,
            sep,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        projects = rng.sample(vocab.TICKET_KEYS, rng.randint(2, 3))
        keys = [f"{project}-{rng.randint(1, 9999)}" for project in projects]
        listed = ", ".join(keys[:-1]) + " and " + keys[-1]
        lead = "completes" if rng.random() < 0.7 else "works toward"
        return f"this change {lead} {listed}"

    def answer(self, p: Params, text: str) -> str:
        token = p["close_token"] if " completes " in f" {text} " else "Refs"
        keys = _TICKET_RE.findall(text)
        if p["order"] == "sorted":
            keys.sort(key=lambda key: key.split("-")[0])
        return f"{token}: " + p["sep"].join(keys)


# ------------------------------------------------------------------------------------ merge, squash and revert


class SquashCommitSubject(Family):
    name = "squash_commit_subject"
    title = "Squash-merge commit subjects"
    summary = "Writes the subject of the commit a pull request is squash-merged into."
    output_noun = "squash commit subject"
    space = {
        "shape": ("{title} (#{pr})", "{title} [#{pr}]", "#{pr} {title}", "[#{pr}] {title}"),
        "prefix": ("keep", "strip"),
        "case": ("as_written", "capital"),
    }
    requests = ("Squash subject for {input}", "We are squash-merging {input}. What is the commit subject?", "{input}")

    def valid(self, p: Params) -> bool:
        return p["prefix"] == "strip" or p["case"] == "as_written"

    def rules(self, p: Params) -> list[str]:
        rules = [f"Shape the subject as `{placeholder(p['shape'])}`, where pr is the pull request number."]
        if p["prefix"] == "keep":
            rules.append(
                "Use the pull request title exactly as written, including a conventional-commit prefix "
                "such as `feat(api): `."
            )
        else:
            rules.append(
                "Remove the conventional-commit prefix from the start of the title: the type, the optional scope "
                "in parentheses, an optional `!` and the `: ` (so `feat(api): add x` becomes `add x`)."
            )
            rules.append(
                "Then capitalise the first letter of what remains."
                if p["case"] == "capital"
                else "Leave the first letter of what remains as written (do not capitalise it)."
            )
        return rules

    def sample_input(self, p: Params, rng: random.Random) -> str:
        kind = rng.choice(_CONVENTIONAL_TYPES)
        scope = f"({rng.choice(vocab.SCOPES)})" if rng.random() < 0.7 else ""
        return f'PR {_pr(rng)} "{kind}{scope}: {vocab.summary(rng)}"'

    def answer(self, p: Params, text: str) -> str:
        head, title = text.split(" ", 2)[1], text.split('"')[1]
        if p["prefix"] == "strip":
            title = _CONVENTIONAL_PREFIX.sub("", title)
            title = capitalize(title) if p["case"] == "capital" else title
        return p["shape"].format(title=title, pr=head)


_BRANCH_TYPES = ("feature", "fix", "chore", "hotfix", "docs")
_MERGE_STYLES = {
    "git": "Merge branch '{source}' into {target}",
    "github": "Merge pull request #{pr} from {author}/{source}",
    "gitlab": "Merge branch '{source}' into '{target}'",
    "short": "Merge {source} into {target} (#{pr})",
}


class MergeCommitSubject(Family):
    name = "merge_commit_subject"
    title = "Merge commit subjects"
    summary = "Writes the subject line of a merge commit for a pull request."
    output_noun = "merge commit subject"
    space = {"style": tuple(_MERGE_STYLES), "source": ("full", "short")}
    requests = ("Merge commit subject for {input}", "What should the merge commit say? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        template = _MERGE_STYLES[p["style"]]
        fields = ["<source> is the source branch"]
        if "{target}" in template:
            fields.append("<target> the target branch, always in full")
        if "{pr}" in template:
            fields.append("<pr> the pull request number")
        if "{author}" in template:
            fields.append("<author> the author's username")
        source = (
            "Write the source branch in full, including its type prefix such as `feature/`."
            if p["source"] == "full"
            else "Shorten the source branch by dropping everything up to and including its first `/` "
            "(`feature/login-retry` becomes `login-retry`)."
        )
        return [
            f"Write the subject as `{placeholder(template)}`, quotes exactly as shown.",
            f"In it, {', '.join(fields)}.",
            source,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        first, last = rng.choice(_PEOPLE)
        source = f"{rng.choice(_BRANCH_TYPES)}/{_slug(vocab.summary(rng), rng.randint(2, 3))}"
        target = rng.choice(("main", "develop", "release/2.4", "main", "release/11.0"))
        return f"PR {_pr(rng)} by {_handle(rng, first, last)} from {source} into {target}"

    def answer(self, p: Params, text: str) -> str:
        _, pr, _, author, _, source, _, target = text.split(" ")
        if p["source"] == "short":
            source = source.split("/", 1)[1]
        return _MERGE_STYLES[p["style"]].format(pr=pr, author=author, source=source, target=target)


class RevertCommitSubject(Family):
    name = "revert_commit_subject"
    title = "Revert commit subjects"
    summary = "Writes the subject of a commit that reverts an earlier commit."
    output_noun = "revert subject"
    space = {
        "style": ('Revert "{subject}"', "revert: {subject}", "[revert] {subject}", "Revert {subject}"),
        "hash": ("none", "parens", "brackets"),
    }
    requests = ("I'm reverting a commit: {input}", "Subject for the revert of {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        hash_rule = {
            "none": "Do not mention the commit hash.",
            "parens": "After it add a space and the first 7 characters of the reverted commit's hash in "
            "parentheses, like `(3f9c2ab)`.",
            "brackets": "After it add a space and the first 7 characters of the reverted commit's hash in "
            "square brackets, like `[3f9c2ab]`.",
        }[p["hash"]]
        return [
            f"Write `{placeholder(p['style'])}`, where subject is the reverted commit's subject exactly as given "
            "(keep its case and any prefix).",
            hash_rule,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        if rng.random() < 0.5:
            kind = rng.choice(_CONVENTIONAL_TYPES)
            subject = f"{kind}({rng.choice(vocab.SCOPES)}): {vocab.summary(rng)}"
        else:
            subject = capitalize(vocab.summary(rng))
        return f'commit {vocab.hex_string(rng, 40)} "{subject}"'

    def answer(self, p: Params, text: str) -> str:
        full_hash = text.split(" ")[1]
        subject = text.split('"', 1)[1].rsplit('"', 1)[0]
        suffix = {"none": "", "parens": f" ({full_hash[:7]})", "brackets": f" [{full_hash[:7]}]"}[p["hash"]]
        return p["style"].format(subject=subject) + suffix


# --------------------------------------------------------------------------------------------- pull requests

_THIRD_PERSON_RULE = (
    "with its first word (a verb) in the third person: add `es` after s, x, ch or sh "
    "(fix -> fixes), replace a final y after a consonant by `ies` (retry -> retries), otherwise add `s` "
    "(add -> adds)."
)


def _third_person(verb: str) -> str:
    if verb.endswith(("s", "x", "ch", "sh")):
        return verb + "es"
    if verb.endswith("y") and verb[-2:-1] not in set("aeiou"):
        return verb[:-1] + "ies"
    return verb + "s"


class PrSummaryLine(Family):
    name = "pr_summary_line"
    title = "Pull request summary lines"
    summary = "Writes the one-line summary at the top of a pull request description."
    output_noun = "summary line"
    space = {"voice": ("this_pr", "imperative"), "ticket": ("omit", "parens", "prefix"), "period": (True, False)}
    requests = ("Summary line for my PR description: {input}", "Describe this PR in one line. {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        voice = (
            "Start with `This PR ` and then the summary as given, " + _THIRD_PERSON_RULE
            if p["voice"] == "this_pr"
            else "Write the summary as given, in the imperative, with its first letter capitalised."
        )
        ticket = {
            "omit": "Leave the ticket key out.",
            "parens": "After the summary add a space and the ticket key in parentheses, like `(WEB-42)`.",
            "prefix": "Put the ticket key, a colon and a space before everything else, like `WEB-42: `.",
        }[p["ticket"]]
        period = "End the line with a period." if p["period"] else "Do not end the line with a period."
        return [voice, ticket, period]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return kv_input([("ticket", vocab.ticket(rng)), ("summary", vocab.summary(rng))])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        verb, rest = f["summary"].split(" ", 1)
        line = f"This PR {_third_person(verb)} {rest}" if p["voice"] == "this_pr" else capitalize(f["summary"])
        if p["ticket"] == "parens":
            line += f" ({f['ticket']})"
        elif p["ticket"] == "prefix":
            line = f"{f['ticket']}: {line}"
        return line + ("." if p["period"] else "")


_BACKPORT_SHAPES = ("[Backport {target}] {title}", "[{target}] {title}", "Backport to {target}: {title}")


class BackportPrTitle(Family):
    name = "backport_pr_title"
    title = "Backport pull request titles"
    summary = "Titles the pull request that backports a merged change to a release branch."
    output_noun = "backport title"
    space = {"shape": _BACKPORT_SHAPES, "target": ("branch", "version"), "pr_ref": (True, False)}
    requests = ("Title for the backport PR: {input}", "I need to {input}. What's the PR title?", "{input}")

    def rules(self, p: Params) -> list[str]:
        target = (
            "The target is the release branch name in full, like `release/2.4`."
            if p["target"] == "branch"
            else "The target is only the version part of the release branch, like `2.4` for `release/2.4`."
        )
        ref = (
            "End with a space and the original pull request number as `(#<number>)`."
            if p["pr_ref"]
            else "Do not mention the original pull request number."
        )
        return [
            f"Shape the title as `{placeholder(p['shape'])}`, with the original title exactly as written.",
            target,
            ref,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        target = f"release/{rng.choice((1, 2, 3, 4, 11))}.{rng.randint(0, 19)}"
        return f'backport PR {_pr(rng)} "{capitalize(vocab.summary(rng))}" to {target}'

    def answer(self, p: Params, text: str) -> str:
        pr = text.split(" ")[2]
        title = text.split('"')[1]
        target = text.rsplit(" ", 1)[1]
        target = target if p["target"] == "branch" else target.split("/", 1)[1]
        return p["shape"].format(target=target, title=title) + (f" (#{pr})" if p["pr_ref"] else "")


_DEPENDENCIES = (
    "lodash",
    "react",
    "requests",
    "django",
    "express",
    "pytest",
    "axios",
    "serde",
    "tokio",
    "numpy",
    "@types/node",
    "eslint",
)
_DEPENDENCY_STYLES = {
    "dependabot": "Bump {package} from {old} to {new}",
    "renovate": "Update dependency {package} to {new}",
    "conventional": "chore(deps): bump {package} from {old} to {new}",
}


class DependencyUpdatePrTitle(Family):
    name = "dependency_update_pr_title"
    title = "Dependency update pull request titles"
    summary = "Titles the pull requests that update one dependency."
    output_noun = "pull request title"
    space = {"style": tuple(_DEPENDENCY_STYLES), "directory": (True, False), "v_prefix": (False, True)}
    requests = ("Title for the dependency bump: {input}", "Open a PR for this update: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        directory = (
            "Then add ` in ` and the directory of the manifest exactly as given (`/` for the repository root)."
            if p["directory"]
            else "Do not mention the directory."
        )
        versions = (
            "Write every version with a leading `v`, like `v4.17.21`."
            if p["v_prefix"]
            else "Write versions without a leading `v`, like `4.17.21`."
        )
        return [f"Write the title as `{placeholder(_DEPENDENCY_STYLES[p['style']])}`.", directory, versions]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        major, minor, patch = vocab.version(rng)
        old = f"{major}.{minor}.{patch}"
        new = rng.choice((f"{major}.{minor}.{patch + 1}", f"{major}.{minor + 1}.0", f"{major + 1}.0.0"))
        directory = rng.choice(("/", "/web", "/services/api", "/docs", "/"))
        return f"{rng.choice(_DEPENDENCIES)} {old} -> {new} in {directory}"

    def answer(self, p: Params, text: str) -> str:
        package, old, _, new, _, directory = text.split(" ")
        v = "v" if p["v_prefix"] else ""
        title = _DEPENDENCY_STYLES[p["style"]].format(package=package, old=v + old, new=v + new)
        return title + (f" in {directory}" if p["directory"] else "")


# ----------------------------------------------------------------------------------- releases and release notes

_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_HEADING_SHAPES = ("[{version}] - {date}", "v{version} ({date})", "{version} / {date}", "Version {version}, {date}")


class ChangelogHeading(Family):
    name = "changelog_heading"
    title = "Release headings in the changelog"
    summary = "Writes the heading that opens a release's section of the changelog or release notes."
    output_noun = "release heading"
    space = {"level": (2, 3), "shape": _HEADING_SHAPES, "date": ("iso", "dotted")}
    requests = ("Changelog heading for {input}", "Start the release notes section: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        date = (
            "Write the date as year-month-day with hyphens, like `2024-03-05`."
            if p["date"] == "iso"
            else "Write the date as day.month.year with dots and two-digit day and month, like `05.03.2024`."
        )
        return [
            f"Start with `{'#' * p['level']}` and a space (a level-{p['level']} markdown heading).",
            f"Then write `{placeholder(p['shape'])}`, with the version exactly as given.",
            date,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        month = rng.randint(1, 12)
        day = rng.randint(1, _MONTH_DAYS[month - 1] - (1 if month == 2 else 0))
        return f"{_version_text(rng)} released on {rng.randint(2019, 2025)}-{month:02d}-{day:02d}"

    def answer(self, p: Params, text: str) -> str:
        version, iso = text.split(" ")[0], text.rsplit(" ", 1)[1]
        year, month, day = iso.split("-")
        date = iso if p["date"] == "iso" else f"{day}.{month}.{year}"
        return "#" * p["level"] + " " + p["shape"].format(version=version, date=date)


_CREDIT_SHAPES = ("{title} by @{user} in #{pr}", "{title} (#{pr}, @{user})", "#{pr}: {title} (thanks @{user})")


class ReleaseNotesCreditLine(Family):
    name = "release_notes_credit_line"
    title = "Release note lines with credit"
    summary = "Writes the release-notes line for a merged pull request, crediting its author."
    output_noun = "release notes line"
    space = {"shape": _CREDIT_SHAPES, "bullet": ("-", "*"), "case": ("capital", "as_written")}
    requests = ("Release notes line for {input}", "Add to What's Changed: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        case = (
            "Capitalise the first letter of the title."
            if p["case"] == "capital"
            else "Keep the title exactly as written, including a lowercase first letter."
        )
        return [
            f"Start with `{p['bullet']}` and a space.",
            f"Then write `{placeholder(p['shape'])}`, where user is the author's username and pr the pull "
            "request number.",
            case,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        first, last = rng.choice(_PEOPLE)
        return f"PR {_pr(rng)} by {_handle(rng, first, last)}: {vocab.summary(rng)}"

    def answer(self, p: Params, text: str) -> str:
        head, title = text.split(": ", 1)
        _, pr, _, user = head.split(" ")
        title = capitalize(title) if p["case"] == "capital" else title
        return f"{p['bullet']} " + p["shape"].format(title=title, user=user, pr=pr)


class HotfixBranch(Family):
    name = "hotfix_branch"
    title = "Hotfix branch names"
    summary = "Names the branch for a hotfix on top of the version running in production."
    output_noun = "hotfix branch name"
    space = {
        "prefix": ("hotfix/", "hotfix-", "hf/"),
        "content": ("version", "version_ticket", "ticket"),
        "v_prefix": (False, True),
    }
    requests = ("Branch name for this hotfix: {input}", "We need a hotfix. {input}", "{input}")

    def valid(self, p: Params) -> bool:
        return p["content"] != "ticket" or not p["v_prefix"]

    def rules(self, p: Params) -> list[str]:
        version = (
            "The hotfix version is the production version with its last number increased by one "
            "(2.4.0 -> 2.4.1)."
        )
        v = "Write the version with a leading `v`." if p["v_prefix"] else "Write the version without a leading `v`."
        content = {
            "version": [f"Name the branch `{p['prefix']}` followed by the hotfix version.", version, v],
            "version_ticket": [
                f"Name the branch `{p['prefix']}`, the hotfix version, a hyphen and the ticket key in lowercase.",
                version,
                v,
            ],
            "ticket": [
                f"Name the branch `{p['prefix']}` followed by the ticket key in lowercase; "
                "no version and no description."
            ],
        }[p["content"]]
        return content

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return f"production runs {_version_text(rng)}; hotfix for {vocab.ticket(rng)}: {vocab.summary(rng)}"

    def answer(self, p: Params, text: str) -> str:
        version = text.split(" ")[2].rstrip(";")
        ticket = text.split(" ")[5].rstrip(":").lower()
        major, minor, patch = version.split(".")
        hotfix = ("v" if p["v_prefix"] else "") + f"{major}.{minor}.{int(patch) + 1}"
        body = {"version": hotfix, "version_ticket": f"{hotfix}-{ticket}", "ticket": ticket}[p["content"]]
        return p["prefix"] + body


_RELEASE_COMMITS = (
    "chore(release): {version}",
    "Release {version}",
    "Bump version to {version}",
    "release: {package} {version}",
)


class ReleaseCommitSubject(Family):
    name = "release_commit_subject"
    title = "Release commit subjects"
    summary = "Writes the subject of the commit that sets a package's new release version."
    output_noun = "release commit subject"
    space = {"shape": _RELEASE_COMMITS, "v_prefix": (False, True), "skip_ci": (False, True)}
    requests = ("Commit subject for cutting {input}", "We are releasing {input}. Commit subject?", "{input}")

    def rules(self, p: Params) -> list[str]:
        shape = f"Write the subject as `{placeholder(p['shape'])}`."
        if "{package}" not in p["shape"]:
            shape += " The package name is not part of it."
        return [
            shape,
            "Write the version with a leading `v`." if p["v_prefix"] else "Write the version without a leading `v`.",
            "End with a space and `[skip ci]`." if p["skip_ci"] else "Do not add `[skip ci]` or any other marker.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return f"{rng.choice(vocab.PACKAGES)} {_version_text(rng)}"

    def answer(self, p: Params, text: str) -> str:
        package, version = text.split(" ")
        version = ("v" if p["v_prefix"] else "") + version
        return p["shape"].format(package=package, version=version) + (" [skip ci]" if p["skip_ci"] else "")


# (old name, replacement, what it is)
_SYMBOLS = (
    ("parse_date", "parse_datetime", "function"),
    ("--no-cache", "--cache=off", "CLI flag"),
    ("getUser", "fetchUser", "function"),
    ("LEGACY_AUTH_URL", "AUTH_URL", "environment variable"),
    ("Client.send_raw", "Client.send", "method"),
    ("/v1/export", "/v2/export", "endpoint"),
    ("max_conn", "max_connections", "config key"),
    ("useStore", "useAppStore", "hook"),
    ("--verbose-log", "--log-level=debug", "CLI flag"),
    ("db.pool_size", "database.pool.size", "config key"),
    ("APP_ENV", "DEPLOY_ENV", "environment variable"),
)


def _release_pair(rng: random.Random) -> tuple[str, str]:
    major, minor = rng.randint(1, 6), rng.randint(0, 9)
    return f"{major}.{minor}", f"{major + 1}.0"


class DeprecationNotice(Family):
    name = "deprecation_notice"
    title = "Deprecation notices"
    summary = "Writes the one-line notice that announces a deprecated API, flag or setting."
    output_noun = "deprecation notice"
    space = {
        "lead": ("Deprecated:", "DEPRECATED:", "[deprecated]"),
        "since": (True, False),
        "replacement": ("use", "replaced_by"),
    }
    requests = ("Deprecation notice for {input}", "Write the deprecation line: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        since = " (since <deprecated>)" if p["since"] else ""
        tail = "use <new> instead." if p["replacement"] == "use" else "replaced by <new>."
        return [
            f"Write `{p['lead']} <old>{since}, removed in <removal>; {tail}`.",
            "Here <old> is the old name and <new> its replacement, exactly as given, and <removal> the version "
            "that removes it" + (", and <deprecated> the version that deprecated it." if p["since"] else "."),
            "Include the version it was deprecated in, as shown."
            if p["since"]
            else "Do not mention the version it was deprecated in.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        old, new, _ = rng.choice(_SYMBOLS)
        since, removal = _release_pair(rng)
        return kv_input([("old", old), ("new", new), ("deprecated in", since), ("removed in", removal)])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        since = f" (since {f['deprecated in']})" if p["since"] else ""
        tail = f"use {f['new']} instead." if p["replacement"] == "use" else f"replaced by {f['new']}."
        return f"{p['lead']} {f['old']}{since}, removed in {f['removed in']}; {tail}"


class MigrationNote(Family):
    name = "migration_note"
    title = "Upgrade migration notes"
    summary = "Writes the one-line migration note for a breaking rename or removal in a new major version."
    output_noun = "migration note"
    space = {
        "lead": ("Migration", "Upgrade note", "BREAKING"),
        "versions": ("target", "range"),
        "form": ("imperative", "arrow"),
    }
    requests = ("Migration note for: {input}", "Add an upgrade note. {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        versions = (
            "the new version in parentheses, like `(3.0)`"
            if p["versions"] == "target"
            else "the old and new version in parentheses joined by ` -> `, like `(2.4 -> 3.0)`"
        )
        form = (
            "The instruction is `rename <old> to <new>` for a rename and `remove <old>` for a removal, "
            "with names exactly as given."
            if p["form"] == "imperative"
            else "The instruction is `<old> -> <new>` for a rename and `<old> -> removed` for a removal, "
            "with names exactly as given."
        )
        return [f"Write `{p['lead']}`, a space, {versions}, a colon, a space and the instruction.", form]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        old, new, thing = rng.choice(_SYMBOLS)
        since, target = _release_pair(rng)
        change = f"was renamed to {new}" if rng.random() < 0.6 else "was removed"
        return f"upgrading from {since} to {target}: the {thing} {old} {change}"

    def answer(self, p: Params, text: str) -> str:
        head, change = text.split(": ", 1)
        old_version, new_version = head.split(" ")[2], head.split(" ")[4]
        words = change.split(" ")
        renamed = words[-3:-1] == ["renamed", "to"]
        old = words[-5] if renamed else words[-3]
        new = words[-1] if renamed else ""
        if p["form"] == "imperative":
            step = f"rename {old} to {new}" if renamed else f"remove {old}"
        else:
            step = f"{old} -> {new if renamed else 'removed'}"
        versions = new_version if p["versions"] == "target" else f"{old_version} -> {new_version}"
        return f"{p['lead']} ({versions}): {step}"


# ------------------------------------------------------------------------------------------- labels and reviews

_ISSUE_TYPES = ("bug", "feature", "docs", "chore")
_PRIORITY_CODES = {"critical": "P0", "high": "P1", "medium": "P2", "low": "P3"}
_LABEL_SCHEMES = {
    "slash": ("kind/{type}", "area/{area}", "priority/{priority}"),
    "scoped": ("type::{type}", "area::{area}", "priority::{priority}"),
    "dash": ("type-{type}", "area-{area}", "priority-{priority}"),
}


class IssueLabels(Family):
    name = "issue_labels"
    title = "Issue triage labels"
    summary = "Turns an issue's triage fields into the tracker's labels."
    output_noun = "label list"
    space = {"scheme": tuple(_LABEL_SCHEMES), "priority": ("word", "code"), "sep": (", ", " ")}
    requests = ("Which labels does this issue get? {input}", "Label this issue: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        shapes = ", ".join(f"`{placeholder(s)}`" for s in _LABEL_SCHEMES[p["scheme"]])
        priority = (
            "Write the priority as the word given (critical, high, medium or low)."
            if p["priority"] == "word"
            else f"Write the priority as a code: {mapping_sentence(_PRIORITY_CODES)}."
        )
        sep = "Separate labels with a comma and a space." if p["sep"] == ", " else "Separate labels with single spaces."
        return [
            f"Write three labels in this order, whatever order the request uses: {shapes}.",
            "Type and area are written in lowercase exactly as given.",
            priority,
            sep,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        fields = [
            ("type", rng.choice(_ISSUE_TYPES)),
            ("area", rng.choice(vocab.SCOPES)),
            ("priority", rng.choice(list(_PRIORITY_CODES))),
        ]
        rng.shuffle(fields)
        return kv_input(fields)

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        priority = f["priority"] if p["priority"] == "word" else _PRIORITY_CODES[f["priority"]]
        values = {"type": f["type"], "area": f["area"], "priority": priority}
        return p["sep"].join(shape.format(**values) for shape in _LABEL_SCHEMES[p["scheme"]])


_SIZE_TABLES = {
    "fine": ((10, "XS"), (30, "S"), (100, "M"), (500, "L"), (1000, "XL"), (None, "XXL")),
    "coarse": ((50, "S"), (250, "M"), (1000, "L"), (None, "XL")),
}
_SIZE_WORDS = {
    "fine": "XS for fewer than 10 changed lines, S for 10 to 29, M for 30 to 99, L for 100 to 499, XL for 500 to 999 "
    "and XXL for 1000 or more",
    "coarse": "S for fewer than 50 changed lines, M for 50 to 249, L for 250 to 999 and XL for 1000 or more",
}


class PrSizeLabel(Family):
    name = "pr_size_label"
    title = "Pull request size labels"
    summary = "Labels a pull request by how many lines it changes."
    output_noun = "size label"
    space = {
        "table": tuple(_SIZE_TABLES),
        "form": ("size/{size}", "size: {size}", "{size}"),
        "case": ("upper", "lower"),
    }
    requests = ("Size label for {input}", "Which size label fits? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        case = "Write the size in uppercase, as listed." if p["case"] == "upper" else "Write the size in lowercase."
        return [
            f"Pick the size from the number of changed lines: {_SIZE_WORDS[p['table']]}.",
            f"Write the label as `{placeholder(p['form'])}`.",
            case,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        lines = rng.choice(
            (int(10 ** rng.uniform(0, 3.5)), int(10 ** rng.uniform(0, 3.5)), rng.choice((10, 30, 50, 100, 250, 500)))
        )
        return f"PR #{_pr(rng)} changes {max(lines, 1)} lines in {rng.randint(1, 40)} files"

    def answer(self, p: Params, text: str) -> str:
        lines = int(text.split(" ")[3])
        size = next(label for limit, label in _SIZE_TABLES[p["table"]] if limit is None or lines < limit)
        size = size if p["case"] == "upper" else size.lower()
        return p["form"].format(size=size)


_VERDICTS = {
    "lgtm": ("LGTM", "LGTM with nits: {n}", "Changes requested, blocking: {b}"),
    "ship": ("Ship it", "Ship it, nits: {n}", "Hold, blocking: {b}"),
    "approve": ("Approved", "Approved, nits: {n}", "Not approved, blocking: {b}"),
}


class ReviewVerdictLine(Family):
    name = "review_verdict_line"
    title = "Review verdict lines"
    summary = "Writes the one-line verdict that ends a code review."
    output_noun = "verdict line"
    space = {"words": tuple(_VERDICTS), "nits_when_blocked": (False, True), "prefix": ("", "Verdict: ", "Review: ")}
    requests = ("Verdict line for my review: {input}", "Sum up this review: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        clean, nits, blocked = (f"`{placeholder(t)}`" for t in _VERDICTS[p["words"]])
        prefix = f"Start the line with `{p['prefix'].strip()}` and a space." if p["prefix"] else "Add no prefix."
        extra = (
            "When there are blocking issues and also nits, append `; nits: <n>`; with no nits append nothing."
            if p["nits_when_blocked"]
            else "When there are blocking issues, do not mention the nits."
        )
        return [
            f"With any blocking issues (b of them) write {blocked}.",
            f"Otherwise, with nits (n of them) write {nits}.",
            f"With no blocking issues and no nits write {clean}.",
            extra,
            prefix,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        blocking = rng.choice((0, 0, 1, 1, 2, 3))
        nits = rng.choice((0, 1, 2, 3, 4, 5))
        return kv_input([("blocking issues", str(blocking)), ("nits", str(nits))])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        b, n = int(f["blocking issues"]), int(f["nits"])
        clean, nits, blocked = _VERDICTS[p["words"]]
        if b:
            line = blocked.format(b=b) + (f"; nits: {n}" if p["nits_when_blocked"] and n else "")
        else:
            line = nits.format(n=n) if n else clean
        return p["prefix"] + line


_CHECKLIST_ITEMS = (
    "tests added",
    "docs updated",
    "changelog entry",
    "no secrets committed",
    "migration reviewed",
    "feature flag in place",
    "screenshots attached",
    "linked ticket",
)


class ReviewChecklistSummary(Family):
    name = "review_checklist_summary"
    title = "Review checklist summaries"
    summary = "Sums up a pull request's review checklist in one line."
    output_noun = "checklist summary"
    space = {"count": ("slash", "of"), "missing": ("list", "omit"), "label": ("Checklist: ", "PR checklist: ", "")}
    requests = ("Summarise the checklist: {input}", "Where does this PR stand? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        count = "`<done>/<total> done`" if p["count"] == "slash" else "`<done> of <total> done`"
        label = f"Start with `{p['label'].strip()}` and a space." if p["label"] else "Add no label in front."
        missing = (
            "If some items are unchecked, append `; missing: ` and their names joined by `, `, in the order "
            "given; if all are checked, append nothing."
            if p["missing"] == "list"
            else "Do not name the unchecked items."
        )
        return [
            "`[x]` marks a checked item and `[ ]` an unchecked one.",
            label,
            f"Then write {count}, counting the checked items and all items.",
            missing,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        items = rng.sample(_CHECKLIST_ITEMS, rng.randint(3, 5))
        all_done = rng.random() < 0.2
        return "; ".join(("[x] " if all_done or rng.random() < 0.6 else "[ ] ") + item for item in items)

    def answer(self, p: Params, text: str) -> str:
        items = text.split("; ")
        done = sum(item.startswith("[x]") for item in items)
        open_items = [item[4:] for item in items if item.startswith("[ ]")]
        count = f"{done}/{len(items)} done" if p["count"] == "slash" else f"{done} of {len(items)} done"
        line = p["label"] + count
        if p["missing"] == "list" and open_items:
            line += "; missing: " + ", ".join(open_items)
        return line


# ------------------------------------------------------------------------------------ standups, incidents, on-call

_STANDUP_LABELS = {
    "letters": ("Y", "T", "B"),
    "words": ("Yesterday", "Today", "Blockers"),
    "done_next": ("Done", "Next", "Blocked"),
}
_BLOCKERS = (
    "waiting on review from the payments team",
    "staging is down",
    "need access to the prod logs",
    "flaky CI on main",
)


class StandupLine(Family):
    name = "standup_line"
    title = "Standup status lines"
    summary = "Condenses a daily standup update into one line for the team channel."
    output_noun = "standup line"
    space = {"labels": tuple(_STANDUP_LABELS), "sep": (" | ", "; ", " / "), "no_blockers": ("keep", "omit")}
    requests = ("Standup line from: {input}", "Post my standup: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        y, t, b = _STANDUP_LABELS[p["labels"]]
        none = (
            "When there are no blockers, still write the third part, with `none` as its text."
            if p["no_blockers"] == "keep"
            else "When there are no blockers, leave the third part out entirely."
        )
        return [
            f"Write three parts in this order: `{y}: ` and what was done yesterday, `{t}: ` and today's plan, "
            f"`{b}: ` and the blockers, each text exactly as given.",
            f"Join the parts with `{p['sep']}`.",
            none,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        blockers = "none" if rng.random() < 0.65 else rng.choice(_BLOCKERS)
        fields = [("yesterday", vocab.summary(rng, past=True)), ("today", vocab.summary(rng)), ("blockers", blockers)]
        return kv_input(fields)

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        y, t, b = _STANDUP_LABELS[p["labels"]]
        parts = [f"{y}: {f['yesterday']}", f"{t}: {f['today']}"]
        if f["blockers"] != "none" or p["no_blockers"] == "keep":
            parts.append(f"{b}: {f['blockers']}")
        return p["sep"].join(parts)


_INCIDENT_STATES = ("investigating", "identified", "monitoring", "resolved")
_INCIDENT_SUMMARIES = (
    "elevated 5xx errors",
    "slow page loads",
    "failed card payments",
    "delayed email delivery",
    "login timeouts",
    "missing search results",
)
_INCIDENT_LAYOUTS = {
    "pipes": "{sev} | {state} | {service} ({region}): {summary}",
    "brackets": "[{sev}][{state}] {service}/{region}: {summary}",
}


class IncidentStatusLine(Family):
    name = "incident_status_line"
    title = "Incident status lines"
    summary = "Writes the one-line status update posted during an incident."
    output_noun = "status line"
    space = {"sev": ("SEV{n}", "Sev-{n}", "S{n}"), "state_case": ("title", "upper"), "layout": tuple(_INCIDENT_LAYOUTS)}
    requests = ("Status update for the incident channel: {input}", "Post the incident status: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        state = (
            "Write the state with its first letter capitalised, like `Identified`."
            if p["state_case"] == "title"
            else "Write the state in uppercase, like `IDENTIFIED`."
        )
        return [
            f"Write `{placeholder(_INCIDENT_LAYOUTS[p['layout']])}`, with service, region and summary as given.",
            f"Write the severity as `{placeholder(p['sev'])}`, where n is the severity number.",
            state,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        fields = [
            ("severity", str(rng.randint(1, 4))),
            ("state", rng.choice(_INCIDENT_STATES)),
            ("service", rng.choice(vocab.SERVICES)),
            ("region", rng.choice(vocab.REGIONS)),
            ("summary", rng.choice(_INCIDENT_SUMMARIES)),
        ]
        return kv_input(fields)

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        state = capitalize(f["state"]) if p["state_case"] == "title" else f["state"].upper()
        sev = p["sev"].format(n=f["severity"])
        return _INCIDENT_LAYOUTS[p["layout"]].format(
            sev=sev, state=state, service=f["service"], region=f["region"], summary=f["summary"]
        )


_HANDOVER_NOTES = (
    "disk alert on db-3 is flapping",
    "cert renewal due Friday",
    "billing-api deploy paused",
    "queue lag in eu-west-1",
    "nothing unusual",
)


class OncallHandoverLine(Family):
    name = "oncall_handover_line"
    title = "On-call handover lines"
    summary = "Writes the line posted when the on-call shift passes to the next engineer."
    output_noun = "handover line"
    space = {"handles": ("at", "plain", "capital"), "direction": ("out_in", "in_from"), "note": (True, False)}
    requests = ("Handover line: {input}", "Post the on-call handover. {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        handles = {
            "at": "Write each person as their username with a leading `@`, like `@maria`.",
            "plain": "Write each person as their username exactly as given, with no `@`.",
            "capital": "Write each person as their username with its first letter capitalised, with no `@`.",
        }[p["handles"]]
        people = "<outgoing> -> <incoming>" if p["direction"] == "out_in" else "<incoming> (from <outgoing>)"
        note = " | note: <note>" if p["note"] else ""
        return [
            f"Write `Handover {people} | open: <open> | pages: <pages>{note}`.",
            "Here <open> is the number of open incidents and <pages> the number of pages"
            + (", and <note> the note exactly as given." if p["note"] else "; leave the note out."),
            handles,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        out_person, in_person = rng.sample(vocab.FIRST_NAMES, 2)
        fields = [
            ("outgoing", out_person),
            ("incoming", in_person),
            ("open incidents", str(rng.randint(0, 3))),
            ("pages", str(rng.randint(0, 9))),
            ("note", rng.choice(_HANDOVER_NOTES)),
        ]
        return kv_input(fields)

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        form = {"at": lambda s: "@" + s, "plain": lambda s: s, "capital": capitalize}[p["handles"]]
        out_person, in_person = form(f["outgoing"]), form(f["incoming"])
        head = (
            f"Handover {out_person} -> {in_person}"
            if p["direction"] == "out_in"
            else f"Handover {in_person} (from {out_person})"
        )
        line = f"{head} | open: {f['open incidents']} | pages: {f['pages']}"
        return line + (f" | note: {f['note']}" if p["note"] else "")


_ALERTS = ("HighErrorRate", "DiskAlmostFull", "PodCrashLooping", "SlowResponses", "CertExpiringSoon", "QueueBacklog")
_ALERT_LEADS = {"alert": "[ALERT] ", "severity": "[{severity}] ", "both": "[ALERT][{severity}] "}


class AlertTicketTitle(Family):
    name = "alert_ticket_title"
    title = "Alert ticket titles"
    summary = "Titles the tracker ticket opened for a firing monitoring alert."
    output_noun = "ticket title"
    space = {"lead": tuple(_ALERT_LEADS), "location": ("parens", "slash"), "alert_name": ("as_is", "words")}
    requests = ("Ticket title for this alert: {input}", "Open a ticket for {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        lead = {
            "alert": "Start with `[ALERT]` and a space.",
            "severity": "Start with the alert severity in uppercase in square brackets and a space, "
            "like `[CRITICAL] `.",
            "both": "Start with `[ALERT]`, then the alert severity in uppercase in square brackets and a space, "
            "like `[ALERT][CRITICAL] `.",
        }[p["lead"]]
        name = (
            "Then the alert name exactly as given, like `HighErrorRate`."
            if p["alert_name"] == "as_is"
            else "Then the alert name split into lowercase words with only the first letter capitalised, "
            "like `High error rate` for `HighErrorRate`."
        )
        location = (
            "Then `: `, the service and, in parentheses, the environment, a comma, a space and the region, "
            "like `checkout (prod, eu-west-1)`."
            if p["location"] == "parens"
            else "Then `: `, the service, a space and the environment and region joined by `/`, "
            "like `checkout prod/eu-west-1`."
        )
        return [lead, name, location]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        fields = [
            ("alert", rng.choice(_ALERTS)),
            ("service", rng.choice(vocab.SERVICES)),
            ("env", rng.choice(vocab.ENVIRONMENTS)),
            ("region", rng.choice(vocab.REGIONS)),
            ("severity", rng.choice(("critical", "warning", "page"))),
        ]
        return kv_input(fields)

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        lead = _ALERT_LEADS[p["lead"]].format(severity=f["severity"].upper())
        name = f["alert"] if p["alert_name"] == "as_is" else capitalize(" ".join(split_identifier(f["alert"])))
        place = (
            f"{f['service']} ({f['env']}, {f['region']})"
            if p["location"] == "parens"
            else f"{f['service']} {f['env']}/{f['region']}"
        )
        return f"{lead}{name}: {place}"


FAMILIES: list[Family] = [
    CommitTrailer(),
    TicketRefsTrailer(),
    SquashCommitSubject(),
    MergeCommitSubject(),
    RevertCommitSubject(),
    PrSummaryLine(),
    BackportPrTitle(),
    DependencyUpdatePrTitle(),
    ChangelogHeading(),
    ReleaseNotesCreditLine(),
    HotfixBranch(),
    ReleaseCommitSubject(),
    DeprecationNotice(),
    MigrationNote(),
    IssueLabels(),
    PrSizeLabel(),
    ReviewVerdictLine(),
    ReviewChecklistSummary(),
    StandupLine(),
    IncidentStatusLine(),
    OncallHandoverLine(),
    AlertTicketTitle(),
]
