"""Source-code and service conventions: imports, comments, license headers, errors, HTTP, image tags."""

from __future__ import annotations

import json
import random
from http import HTTPStatus

from .. import vocab
from ..base import Family, Params, clean_output, same_json
from ..text import capitalize, kv_input, lower_first, mapping_sentence, parse_kv, placeholder

_STDLIB = ("os", "sys", "re", "json", "time", "typing", "pathlib", "logging", "itertools", "collections")
_THIRD_PARTY = ("numpy", "requests", "Flask", "yaml", "click", "Django", "pandas", "pytest")
_LOCAL = (".utils", ".models", "..config", ".api")
_GROUP_ORDERS = {
    "none": (),
    "std_first": (_STDLIB, _THIRD_PARTY, _LOCAL),
    "local_first": (_LOCAL, _THIRD_PARTY, _STDLIB),
}


class ImportSorting(Family):
    name = "import_sorting"
    title = "Import order"
    summary = "Orders the modules of a Python import block."
    output_noun = "sorted import list"
    space = {"grouping": tuple(_GROUP_ORDERS), "case": ("insensitive", "ascii"), "sep": (", ", " ")}
    requests = ("Sort these imports: {input}", "In which order do these go? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        grouping = {
            "none": "Sort everything as one list; do not group by origin.",
            "std_first": "Group the modules: standard library first, then third-party packages, then local modules "
            "(names starting with a dot); sort inside each group.",
            "local_first": "Group the modules: local modules (names starting with a dot) first, "
            "then third-party packages, then the standard library; sort inside each group.",
        }[p["grouping"]]
        case = (
            "Compare names ignoring letter case."
            if p["case"] == "insensitive"
            else "Compare names by character code: `.` before uppercase letters, uppercase before lowercase."
        )
        sep = (
            "List the result on one line, separated by commas."
            if p["sep"] == ", "
            else "List the result on one line, separated by single spaces."
        )
        return [grouping, case, sep]

    def check(self, params: Params, text: str, output: str) -> bool:
        # Spacing around the commas is harmless; the separator kind and the order are the rule.
        cleaned = clean_output(output)
        if params["sep"] == ", ":
            names = [name.strip() for name in cleaned.split(",")]
        elif "," in cleaned:
            return False
        else:
            names = cleaned.split(" ")
        return names == self.answer(params, text).split(params["sep"])

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return ", ".join(rng.sample(_STDLIB + _THIRD_PARTY + _LOCAL, rng.randint(4, 7)))

    def answer(self, p: Params, text: str) -> str:
        names = text.split(", ")
        key = (lambda n: (n.lower(), n)) if p["case"] == "insensitive" else None
        groups = _GROUP_ORDERS[p["grouping"]] or (tuple(names),)
        ordered = [name for group in groups for name in sorted((n for n in names if n in group), key=key)]
        return p["sep"].join(ordered)


_COMMENT_MARKERS = {"python": "#", "typescript": "//", "go": "//", "sql": "--", "shell": "#", "html": "<!-- -->"}
_EXTENSION_MARKERS = {
    ".py": "#",
    ".sh": "#",
    ".rs": "//",
    ".go": "//",
    ".ts": "//",
    ".java": "//",
    ".sql": "--",
    ".css": "/* */",
}


def comment(text: str, marker: str) -> str:
    """One-line comment; a two-part marker such as `/* */` wraps the text."""
    opening, _, closing = marker.partition(" ")
    return f"{opening} {text} {closing}" if closing else f"{marker} {text}"


def markers_sentence(markers: dict[str, str]) -> str:
    return mapping_sentence({key: marker.replace(" ", " ... ") for key, marker in markers.items()})


_TODO_NOTES = (
    "remove legacy retry once v2 ships",
    "replace polling with webhooks",
    "drop the feature flag",
    "handle leap years",
    "cache this lookup",
)


class TodoComment(Family):
    name = "todo_comment"
    title = "TODO comments"
    summary = "Writes TODO comments that point at a ticket."
    output_noun = "TODO comment"
    space = {
        "tag": ("TODO", "FIXME"),
        "format": ("{tag}({ticket}): {note}", "{tag} [{ticket}] {note}", "{tag}: {note} ({ticket})"),
        "case": ("lower", "capital"),
    }
    requests = ("Write the TODO: {input}", "Leave a TODO for this: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        case = (
            "Start the note with a capital letter."
            if p["case"] == "capital"
            else "Start the note with a lowercase letter."
        )
        return [
            f"Comment syntax by language: {markers_sentence(_COMMENT_MARKERS)}; one space between marker and text.",
            f"The comment text is `{placeholder(p['format']).replace('<tag>', p['tag'])}`.",
            case,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return kv_input(
            [
                ("language", rng.choice(list(_COMMENT_MARKERS))),
                ("ticket", vocab.ticket(rng)),
                ("note", rng.choice(_TODO_NOTES)),
            ]
        )

    def answer(self, p: Params, text: str) -> str:
        fields = parse_kv(text)
        note = capitalize(fields["note"]) if p["case"] == "capital" else lower_first(fields["note"])
        return comment(
            p["format"].format(tag=p["tag"], ticket=fields["ticket"], note=note), _COMMENT_MARKERS[fields["language"]]
        )


_LICENSE_FILES = (
    "src/app.rs",
    "cmd/server/main.go",
    "scripts/deploy.sh",
    "web/src/index.ts",
    "db/schema.sql",
    "styles/site.css",
    "lib/parser.py",
)
_LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "MPL-2.0")
_HOLDERS = ("Acme Corp", "Example Labs", "Widgets Inc")


class LicenseHeader(Family):
    name = "license_header"
    title = "License headers"
    summary = "Writes the one-line license header at the top of source files."
    output_noun = "license header"
    space = {"form": ("spdx", "copyright", "both"), "years": ("range", "current"), "symbol": ("(c)", "©")}
    requests = ("Header line for {input}", "License header please: {input}", "{input}")

    def valid(self, params: Params) -> bool:
        # The SPDX-only form shows no years and no symbol: keep one canonical combination of the unused parameters.
        return params["form"] != "spdx" or (params["years"] == "range" and params["symbol"] == "(c)")

    def rules(self, p: Params) -> list[str]:
        notice = f"Copyright {p['symbol']} <years> <holder>"
        form = {
            "spdx": "The header is only `SPDX-License-Identifier: <license>`.",
            "copyright": f"The header is `{notice}` with no license identifier.",
            "both": f"The header is `{notice}. SPDX-License-Identifier: <license>`.",
        }[p["form"]]
        rules = [
            f"Comment syntax by file extension: {markers_sentence(_EXTENSION_MARKERS)}; "
            "one space between marker and text.",
            form,
        ]
        if p["form"] != "spdx":
            rules.append(
                "<years> is `<first year>-<current year>`, or just the year when both are the same."
                if p["years"] == "range"
                else "<years> is the current year only."
            )
        return rules

    def sample_input(self, p: Params, rng: random.Random) -> str:
        year = rng.randint(2019, 2025)
        fields = [
            ("file", rng.choice(_LICENSE_FILES)),
            ("holder", rng.choice(_HOLDERS)),
            ("license", rng.choice(_LICENSES)),
        ]
        return kv_input(fields + [("first year", str(rng.randint(2012, year))), ("current year", str(year))])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        first, current = f["first year"], f["current year"]
        years = f"{first}-{current}" if p["years"] == "range" and first != current else current
        notice = f"Copyright {p['symbol']} {years} {f['holder']}"
        spdx = f"SPDX-License-Identifier: {f['license']}"
        body = {"spdx": spdx, "copyright": notice, "both": f"{notice}. {spdx}"}[p["form"]]
        extension = "." + f["file"].rsplit(".", 1)[1]
        return comment(body, _EXTENSION_MARKERS[extension])


_ERROR_COMPONENTS = ("payment", "auth", "storage", "search", "mailer")
_ERROR_DETAILS = (
    "card declined by issuer",
    "token signature invalid",
    "bucket quota exceeded",
    "index not ready",
    "smtp relay refused",
)


class ErrorMessage(Family):
    name = "error_message"
    title = "Error messages"
    summary = "Formats user-visible error messages from an error code and detail."
    output_noun = "error message"
    space = {
        "format": (
            "[{COMPONENT}] {code}: {detail}",
            "{code} ({component}): {detail}",
            "{component} error {code} - {detail}",
        ),
        "capital": (True, False),
        "period": (True, False),
    }
    requests = ("Error message for: {input}", "Format this error: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        case = "the component in uppercase" if "{COMPONENT}" in p["format"] else "the component in lowercase"
        detail = "Capitalise the first letter of the detail." if p["capital"] else "Keep the detail lowercase."
        period = "End the message with a period." if p["period"] else "No period at the end."
        return [f"Write `{placeholder(p['format'])}`, with {case}.", detail, period]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        code = f"E{rng.randint(1000, 9999)}"
        return kv_input(
            [("code", code), ("component", rng.choice(_ERROR_COMPONENTS)), ("detail", rng.choice(_ERROR_DETAILS))]
        )

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        detail = (capitalize(f["detail"]) if p["capital"] else f["detail"]) + ("." if p["period"] else "")
        return p["format"].format(
            code=f["code"], component=f["component"], COMPONENT=f["component"].upper(), detail=detail
        )


_BODY_KEYS = {
    "status/message": ("status", "message"),
    "code/error": ("code", "error"),
    "statusCode/detail": ("statusCode", "detail"),
}
_ERROR_TEXTS = (
    "order not found",
    "token expired",
    "rate limit exceeded",
    "invalid email address",
    "upstream unavailable",
)


class HttpErrorBody(Family):
    name = "http_error_body"
    title = "API error bodies"
    summary = "Builds the JSON body the API returns with an error response."
    output_noun = "JSON error body"
    space = {"keys": tuple(_BODY_KEYS), "envelope": ("flat", "nested"), "order": ("status_first", "message_first")}
    requests = ("Error body for: {input}", "What JSON do we return? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        status_key, message_key = _BODY_KEYS[p["keys"]]
        order = (
            "status key first, then the message key"
            if p["order"] == "status_first"
            else "message key first, then the status key"
        )
        envelope = (
            "Wrap that object as the value of a top-level `error` key."
            if p["envelope"] == "nested"
            else "The object is the whole body, with no wrapper."
        )
        return [
            f"The status code goes under `{status_key}` as a JSON number; "
            f"the message under `{message_key}` as a string.",
            f"Key order: {order}.",
            envelope,
            "Answer with the JSON on one line.",
        ]

    def check(self, params: Params, text: str, output: str) -> bool:
        return same_json(output, self.answer(params, text))

    def sample_input(self, p: Params, rng: random.Random) -> str:
        code = rng.choice((400, 401, 403, 404, 409, 422, 429, 500, 503))
        return kv_input([("status", str(code)), ("message", rng.choice(_ERROR_TEXTS))])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        status_key, message_key = _BODY_KEYS[p["keys"]]
        pairs = [(status_key, int(f["status"])), (message_key, f["message"])]
        body = dict(pairs if p["order"] == "status_first" else pairs[::-1])
        return json.dumps({"error": body} if p["envelope"] == "nested" else body)


_STATUS_CODES = (200, 201, 204, 301, 304, 400, 401, 403, 404, 409, 429, 500, 502, 503)


class HttpStatusLine(Family):
    name = "http_status_line"
    title = "HTTP status lines"
    summary = "Writes HTTP status lines for mock servers and documentation."
    output_noun = "status line"
    space = {"protocol": ("HTTP/1.1", "HTTP/1.0"), "reason": ("title", "upper", "omit"), "marker": ("", "< ")}
    requests = ("Status line for {input}", "Write the response line for a {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        reason = {
            "title": "Then the standard reason phrase as the RFC spells it (404 -> Not Found).",
            "upper": "Then the standard reason phrase in uppercase (404 -> NOT FOUND).",
            "omit": "Leave the reason phrase out.",
        }[p["reason"]]
        marker = (
            f"Start the line with `{p['marker'].strip()}` and a space, as curl prints it."
            if p["marker"]
            else "Start the line with the protocol."
        )
        return [marker, f"Write the protocol `{p['protocol']}`, a space and the status code.", reason]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return str(rng.choice(_STATUS_CODES))

    def answer(self, p: Params, text: str) -> str:
        code = int(text)
        phrase = HTTPStatus(code).phrase
        reason = {"title": " " + phrase, "upper": " " + phrase.upper(), "omit": ""}[p["reason"]]
        return f"{p['marker']}{p['protocol']} {code}{reason}"


class DockerImageTag(Family):
    name = "docker_image_tag"
    title = "Container image references"
    summary = "Writes the full container image reference that CI pushes for a build."
    output_noun = "image reference"
    space = {
        "tag": ("{version}", "v{version}", "{version}-{sha}", "{branch}-{sha}"),
        "registry": ("ghcr.io/acme", "registry.example.com/platform", ""),
        "sha_len": (7, 8),
    }
    requests = ("Image reference for this build: {input}", "Which image does CI push? {input}", "{input}")

    def valid(self, params: Params) -> bool:
        return "{sha}" in params["tag"] or params["sha_len"] == 7  # the hash length only matters for tags with a hash

    def rules(self, p: Params) -> list[str]:
        registry = (
            f"Images live under `{p['registry']}/`, followed by the service name."
            if p["registry"]
            else "Write the bare service name, with no registry."
        )
        rules = [registry, f"The tag, after a `:`, is `{placeholder(p['tag'])}`."]
        if "{sha}" in p["tag"]:
            rules.append(f"<sha> is the first {p['sha_len']} characters of the commit hash.")
        if "{branch}" in p["tag"]:
            rules.append("In the branch name, replace `/` with `-`.")
        return rules

    def sample_input(self, p: Params, rng: random.Random) -> str:
        fields = [
            ("service", rng.choice(vocab.SERVICES)),
            ("version", ".".join(map(str, vocab.version(rng)))),
            ("commit", vocab.hex_string(rng, 40)),
            ("branch", rng.choice(vocab.BRANCHES)),
        ]
        return kv_input(fields)

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        tag = p["tag"].format(
            version=f["version"], sha=f["commit"][: p["sha_len"]], branch=f["branch"].replace("/", "-")
        )
        return (f"{p['registry']}/" if p["registry"] else "") + f"{f['service']}:{tag}"


FAMILIES: tuple[Family, ...] = (
    ImportSorting(),
    TodoComment(),
    LicenseHeader(),
    ErrorMessage(),
    HttpErrorBody(),
    HttpStatusLine(),
    DockerImageTag(),
)
