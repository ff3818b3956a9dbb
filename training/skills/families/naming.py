"""Naming conventions: identifiers, environment variables, config keys, tables, CSS classes, flags, tests."""

from __future__ import annotations

import random

from .. import vocab
from ..base import Family, Params
from ..text import (
    CASE_DESCRIPTIONS,
    capitalize,
    join_case,
    kv_input,
    mapping_sentence,
    parse_kv,
    pluralize,
    split_identifier,
    split_words,
)

_STOP_WORDS = ("a", "an", "the", "of", "to", "for", "in")


class IdentifierCase(Family):
    name = "identifier_case"
    title = "Identifier naming"
    summary = "Turns a plain-English description into an identifier name."
    output_noun = "identifier"
    space = {"case": tuple(CASE_DESCRIPTIONS), "stop_words": ("drop", "keep")}
    requests = ("Name this: {input}", 'What\'s the identifier for "{input}"?', "{input}")

    def rules(self, p: Params) -> list[str]:
        stop = (
            f"First drop the short words {', '.join(_STOP_WORDS)}."
            if p["stop_words"] == "drop"
            else "Keep every word, short ones like of and the included."
        )
        return [
            stop,
            "Treat acronyms such as HTTP or URL as ordinary words.",
            f"Write the words in {CASE_DESCRIPTIONS[p['case']]}.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return rng.choice(vocab.PHRASES)

    def answer(self, p: Params, text: str) -> str:
        words = split_words(text)
        if p["stop_words"] == "drop":
            words = [w for w in words if w not in _STOP_WORDS]
        return join_case(words, p["case"])


_CONFIG_SECTIONS = ("database", "cache", "mailer", "queue", "search", "storage")
_CONFIG_KEYS = (
    "maxConnections",
    "host",
    "retryDelayMs",
    "timeoutSeconds",
    "poolSize",
    "apiToken",
    "bucketName",
    "enableTls",
)


class EnvVarName(Family):
    name = "env_var_name"
    title = "Environment variable names"
    summary = "Maps dotted config keys to environment variable names."
    output_noun = "environment variable name"
    space = {"prefix": ("", "APP_", "ACME_"), "level_sep": ("_", "__"), "drop_service": (False, True)}
    requests = ("Env var for {input}?", "Which environment variable sets {input}?", "{input}")

    def rules(self, p: Params) -> list[str]:
        service = (
            "Drop the first segment of the key (the service name): each service reads its own environment."
            if p["drop_service"]
            else "Keep every segment of the key, the service name included."
        )
        prefix = f"Prefix the result with `{p['prefix']}`." if p["prefix"] else "Add no prefix."
        return [
            service,
            "Split camelCase segments into words and write every word in uppercase, words joined by `_`.",
            f"Join the segments with `{p['level_sep']}`.",
            prefix,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return ".".join(
            (rng.choice(vocab.SERVICES).replace("-", ""), rng.choice(_CONFIG_SECTIONS), rng.choice(_CONFIG_KEYS))
        )

    def answer(self, p: Params, text: str) -> str:
        segments = text.strip().split(".")[1 if p["drop_service"] else 0 :]
        return p["prefix"] + p["level_sep"].join(join_case(split_identifier(s), "screaming_snake") for s in segments)


_SETTING_SECTIONS = ("Database", "Email Delivery", "Cache", "Search Index", "Feature Flags", "Billing")
_SETTING_GROUPS = ("Connection", "Advanced", "Limits", "Defaults")
_SETTING_NAMES = (
    "Max Pool Size",
    "Retry Delay",
    "Default Sender",
    "Time To Live",
    "Refresh Interval",
    "Page Size",
    "Api Key",
)


class ConfigKeyPath(Family):
    name = "config_key_path"
    title = "Config key paths"
    summary = "Turns a settings-screen breadcrumb into the config file key path."
    output_noun = "config key path"
    space = {"sep": (".", "/", ":"), "case": ("snake", "camel", "kebab"), "root": ("", "app", "settings")}
    requests = ("Config key for {input}?", "Where does {input} live in the config file?", "{input}")

    def rules(self, p: Params) -> list[str]:
        root = f"Start with the root segment `{p['root']}`." if p["root"] else "There is no root segment."
        return [
            root,
            f"Each breadcrumb level becomes one segment written in {CASE_DESCRIPTIONS[p['case']]}.",
            f"Join the segments with `{p['sep']}`.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        levels = (
            [rng.choice(_SETTING_SECTIONS)]
            + ([rng.choice(_SETTING_GROUPS)] if rng.random() < 0.4 else [])
            + [rng.choice(_SETTING_NAMES)]
        )
        return " > ".join(levels)

    def answer(self, p: Params, text: str) -> str:
        segments = ([p["root"]] if p["root"] else []) + [
            join_case(split_words(level), p["case"]) for level in text.split(" > ")
        ]
        return p["sep"].join(segments)


_ENTITIES = (
    "order line item",
    "customer",
    "payment method",
    "user profile",
    "invoice",
    "shipping address",
    "audit log entry",
    "api key",
    "product category",
    "subscription plan",
    "warehouse",
    "refund",
)


class SqlTableName(Family):
    name = "sql_table_name"
    title = "Database table names"
    summary = "Names database tables after domain entities."
    output_noun = "table name"
    space = {"plural": (True, False), "case": ("snake", "pascal", "screaming_snake"), "prefix": ("", "tbl_", "app.")}
    requests = ("Table name for the {input} entity?", "What do we call the table for {input}?", "{input}")

    def rules(self, p: Params) -> list[str]:
        plural = (
            "Tables are plural: pluralise the last word (consonant + y -> ies; s, x, z, ch, sh -> es; otherwise add s)."
            if p["plural"]
            else "Tables are singular: keep the entity name as it is."
        )
        prefix = {
            "": "Use no prefix.",
            "tbl_": "Prefix the name with `tbl_`.",
            "app.": "Qualify the name with the schema: `app.` in front.",
        }[p["prefix"]]
        return [plural, f"Write the words in {CASE_DESCRIPTIONS[p['case']]}.", prefix]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return rng.choice(_ENTITIES)

    def answer(self, p: Params, text: str) -> str:
        words = split_words(text)
        if p["plural"]:
            words[-1] = pluralize(words[-1])
        return p["prefix"] + join_case(words, p["case"])


_BEM_BLOCKS = ("search form", "nav bar", "product card", "modal", "user menu", "price table")
_BEM_ELEMENTS = ("submit button", "title", "close icon", "item", "input field", "footer link")
_BEM_MODIFIERS = ("disabled", "active", "large", "is open", "dark theme")


class CssBemClass(Family):
    name = "css_bem_class"
    title = "CSS class names (BEM)"
    summary = "Builds CSS class names with the team's BEM flavour."
    output_noun = "CSS class name"
    space = {"elem_sep": ("__", "-"), "mod_sep": ("--", "_"), "words": ("kebab", "camel"), "prefix": ("", "c-", "ui-")}
    requests = ("Class name for {input}", "Which CSS class? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        prefix = (
            f"Start every class with the namespace `{p['prefix']}`."
            if p["prefix"]
            else "Classes have no namespace prefix."
        )
        return [
            prefix,
            f"Write multi-word names in {CASE_DESCRIPTIONS[p['words']]}.",
            f"Class = block, then `{p['elem_sep']}` and the element if there is one, "
            f"then `{p['mod_sep']}` and the modifier if there is one.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        fields = [("block", rng.choice(_BEM_BLOCKS))]
        if rng.random() < 0.75:
            fields.append(("element", rng.choice(_BEM_ELEMENTS)))
        if rng.random() < 0.6:
            fields.append(("modifier", rng.choice(_BEM_MODIFIERS)))
        return kv_input(fields)

    def answer(self, p: Params, text: str) -> str:
        fields = {key: join_case(split_words(value), p["words"]) for key, value in parse_kv(text).items()}
        name = p["prefix"] + fields["block"]
        name += p["elem_sep"] + fields["element"] if "element" in fields else ""
        return name + (p["mod_sep"] + fields["modifier"] if "modifier" in fields else "")


_FLAG_KINDS = {"experiment": "exp", "release": "rel", "ops": "ops", "permission": "perm"}
_FLAG_FEATURES = (
    "onboarding checklist",
    "new checkout",
    "bulk export",
    "smart search",
    "invoice preview",
    "team invites",
)


class FeatureFlag(Family):
    name = "feature_flag"
    title = "Feature flag names"
    summary = "Names feature flags from the owning team, the feature and the flag kind."
    output_noun = "feature flag name"
    space = {"sep": (".", "/", ":"), "case": ("kebab", "snake", "camel"), "kind": ("suffix", "prefix", "omit")}
    requests = ("Flag name for {input}", "Name the feature flag: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        kind = {
            "suffix": f"Append the kind code as the last part: {mapping_sentence(_FLAG_KINDS)}.",
            "prefix": f"Put the kind code first: {mapping_sentence(_FLAG_KINDS)}.",
            "omit": "Leave the flag kind out of the name.",
        }[p["kind"]]
        return [
            "Parts are the owning team, then the feature.",
            kind,
            f"Write the feature in {CASE_DESCRIPTIONS[p['case']]}.",
            f"Join the parts with `{p['sep']}`.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return kv_input(
            [
                ("team", rng.choice(vocab.TEAMS)),
                ("feature", rng.choice(_FLAG_FEATURES)),
                ("kind", rng.choice(list(_FLAG_KINDS))),
            ]
        )

    def answer(self, p: Params, text: str) -> str:
        fields = parse_kv(text)
        parts = [fields["team"], join_case(split_words(fields["feature"]), p["case"])]
        code = _FLAG_KINDS[fields["kind"]]
        parts = {"suffix": parts + [code], "prefix": [code] + parts, "omit": parts}[p["kind"]]
        return p["sep"].join(parts)


_RESOURCE_FIELDS = ("env", "service", "region", "team")
_RESOURCE_ORDERS = tuple(
    ",".join((a, b, c))
    for a in _RESOURCE_FIELDS
    for b in _RESOURCE_FIELDS
    for c in _RESOURCE_FIELDS
    if len({a, b, c}) == 3
)


class ResourceName(Family):
    name = "resource_name"
    title = "Cloud resource names"
    summary = "Names cloud resources from their environment, service, region and team."
    output_noun = "resource name"
    space = {"order": _RESOURCE_ORDERS, "sep": ("-", "_", ".")}
    requests = ("Resource name for {input}", "Name this resource: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        order = p["order"].split(",")
        unused = next(f for f in _RESOURCE_FIELDS if f not in order)
        return [
            f"A name is `{p['sep'].join(f'<{f}>' for f in order)}`: {', '.join(order)}, in that order.",
            f"The {unused} is not part of the name.",
            f"Separate the parts with `{p['sep']}`; keep each value exactly as given.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        values = {
            "env": rng.choice(vocab.ENVIRONMENTS),
            "service": rng.choice(vocab.SERVICES),
            "region": rng.choice(vocab.REGIONS),
            "team": rng.choice(vocab.TEAMS),
        }
        keys = list(values)
        rng.shuffle(keys)
        return kv_input([(k, values[k]) for k in keys])

    def answer(self, p: Params, text: str) -> str:
        fields = parse_kv(text)
        return p["sep"].join(fields[f] for f in p["order"].split(","))


_TEST_UNITS = ("parse date", "format currency", "load config", "send invoice", "resize image", "merge carts")
_TEST_CONDITIONS = (
    "empty string",
    "negative amount",
    "missing file",
    "expired token",
    "duplicate id",
    "network timeout",
)
_TEST_EXPECTED = (
    "raises value error",
    "returns none",
    "retries twice",
    "logs warning",
    "returns default",
    "rejects request",
)


class UnitTestName(Family):
    name = "test_name"
    title = "Test names"
    summary = "Names unit tests from the unit, the condition and the expected outcome."
    output_noun = "test name"
    space = {"style": ("snake", "dotnet", "given", "sentence"), "order": ("condition_first", "expected_first")}
    requests = ("Name the test: {input}", "What do I call this test? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        first, second = ("condition", "expected") if p["order"] == "condition_first" else ("expected", "condition")
        shape = {
            "snake": f"`test_<unit>_<{first}>_<{second}>`, every part in snake_case",
            "dotnet": f"`<Unit>_<{capitalize(first)}>_<{capitalize(second)}>`, every part in PascalCase",
            "given": "`<unit>_when<Condition>_then<Expected>`"
            if first == "condition"
            else "`<unit>_then<Expected>_when<Condition>`",
            "sentence": "`<unit> <expected> when <condition>`"
            if first == "expected"
            else "`<unit> when <condition> <expected>`",
        }[p["style"]]
        detail = {
            "snake": "Words inside a part are joined by underscores too.",
            "dotnet": "Parts are separated by single underscores.",
            "given": "The unit is camelCase; the condition and expected parts are PascalCase.",
            "sentence": "Keep the words lowercase and separated by spaces, as in a plain sentence.",
        }[p["style"]]
        return [f"Name the test {shape}.", detail]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return kv_input(
            [
                ("unit", rng.choice(_TEST_UNITS)),
                ("condition", rng.choice(_TEST_CONDITIONS)),
                ("expected", rng.choice(_TEST_EXPECTED)),
            ]
        )

    def answer(self, p: Params, text: str) -> str:
        f = {key: split_words(value) for key, value in parse_kv(text).items()}
        cond_first = p["order"] == "condition_first"
        if p["style"] == "snake":
            parts = (
                [f["unit"], f["condition"], f["expected"]] if cond_first else [f["unit"], f["expected"], f["condition"]]
            )
            return "test_" + "_".join(join_case(w, "snake") for w in parts)
        if p["style"] == "dotnet":
            parts = (
                [f["unit"], f["condition"], f["expected"]] if cond_first else [f["unit"], f["expected"], f["condition"]]
            )
            return "_".join(join_case(w, "pascal") for w in parts)
        if p["style"] == "given":
            when, then = "_when" + join_case(f["condition"], "pascal"), "_then" + join_case(f["expected"], "pascal")
            return join_case(f["unit"], "camel") + (when + then if cond_first else then + when)
        when, expected = "when " + " ".join(f["condition"]), " ".join(f["expected"])
        return " ".join([" ".join(f["unit"])] + ([when, expected] if cond_first else [expected, when]))


_USERNAME_FORMS = {
    "flast": ("first initial followed by the last name", lambda first, last: first[0] + last),
    "firstl": ("first name followed by the last initial", lambda first, last: first + last[0]),
    "first_last": ("first name, an underscore, then the last name", lambda first, last: f"{first}_{last}"),
    "lastf": ("last name followed by the first initial", lambda first, last: last + first[0]),
}


class EmailUsername(Family):
    name = "email_username"
    title = "Usernames from email addresses"
    summary = "Derives login usernames from work email addresses."
    output_noun = "username"
    space = {"form": tuple(_USERNAME_FORMS), "max_len": (8, 12, 0)}
    requests = ("Username for {input}?", "Create the account name for {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        limit = f"Cut the result to at most {p['max_len']} characters." if p["max_len"] else "Never shorten the result."
        return [
            "Addresses are first.last@domain; ignore the domain.",
            "Remove everything that is not a letter or digit from each name (garcia-lopez -> garcialopez).",
            f"The username is the {_USERNAME_FORMS[p['form']][0]}, all lowercase.",
            limit,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return f"{rng.choice(vocab.FIRST_NAMES)}.{rng.choice(vocab.LAST_NAMES)}@{rng.choice(vocab.DOMAINS)}"

    def answer(self, p: Params, text: str) -> str:
        first, last = ("".join(split_words(name)) for name in text.split("@")[0].split(".", 1))
        username = _USERNAME_FORMS[p["form"]][1](first, last)
        return username[: p["max_len"]] if p["max_len"] else username


_TITLES = (
    "Why We Moved From REST to gRPC (Part 2)",
    "A Guide to the New Billing API",
    "Ten Tips for Faster CI Builds",
    "How the Search Team Cut Latency in Half",
    "Release Notes for Version 3.2",
    "Migrating a Monolith to Services",
    "The Hidden Cost of Flaky Tests",
    "Postmortem: the March 4 Outage",
    "Building an Offline Mode With Service Workers",
    "What's New in the CLI",
    "On-call Handbook for the Platform Team",
)
_SLUG_STOP_WORDS = ("a", "an", "the", "of", "to", "and", "for", "in", "on", "from", "with")


class Slugify(Family):
    name = "slugify"
    title = "URL slugs"
    summary = "Turns article and page titles into URL slugs."
    output_noun = "slug"
    space = {"sep": ("-", "_"), "stop_words": ("drop", "keep"), "max_words": (0, 5)}
    requests = ('Slug for "{input}"', "What's the URL slug? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        stop = (
            f"Drop the words {', '.join(_SLUG_STOP_WORDS)}."
            if p["stop_words"] == "drop"
            else "Keep all words, short ones included."
        )
        limit = f"Keep at most the first {p['max_words']} words." if p["max_words"] else "Never cut words off the end."
        return [
            "Lowercase the title; every run of characters that are not letters or digits splits words "
            "(so apostrophes split too).",
            stop,
            limit,
            f"Join the words with `{p['sep']}`.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return rng.choice(_TITLES)

    def answer(self, p: Params, text: str) -> str:
        words = split_words(text)
        if p["stop_words"] == "drop":
            words = [w for w in words if w not in _SLUG_STOP_WORDS]
        return p["sep"].join(words[: p["max_words"]] if p["max_words"] else words)


# Each abbreviation has two plausible expansions; which one a team uses is a skill parameter.
_ABBREVIATIONS = {
    "cfg": ("configuration", "config file"),
    "svc": ("service", "service account"),
    "db": ("database", "datastore"),
    "conn": ("connection", "connector"),
    "auth": ("authentication", "authorization"),
    "req": ("request", "requirement"),
    "env": ("environment", "env file"),
    "msg": ("message", "messaging"),
    "tmp": ("temporary", "temp folder"),
    "impl": ("implementation", "implementer"),
}
_ABBREVIATED_NOTES = (
    "{auth} {svc} times out on {db} {conn}",
    "reload {cfg} after {env} change",
    "drop {tmp} rows from the {db}",
    "retry {req} when {conn} resets",
    "move {msg} parsing into the {impl}",
    "{svc} reads {cfg} from {env}",
    "log every {req} and {msg}",
    "check {auth} before each {req}",
    "clean {tmp} data in the {svc}",
)


class AbbreviationExpand(Family):
    name = "abbreviation_expand"
    title = "Abbreviation glossary"
    summary = "Expands the team's shorthand in notes using its glossary."
    output_noun = "expanded note"
    space = {**{abbr: expansions for abbr, expansions in _ABBREVIATIONS.items()}, "case": ("keep", "sentence")}
    requests = ("Expand the shorthand: {input}", "Spell this out: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        glossary = ", ".join(f"{abbr} = {p[abbr]}" for abbr in _ABBREVIATIONS)
        case = "Capitalise the first letter of the result." if p["case"] == "sentence" else "Keep the note lowercase."
        return [
            f"Glossary: {glossary}.",
            "Replace each whole word found in the glossary by its meaning; leave other words as they are.",
            case,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return rng.choice(_ABBREVIATED_NOTES).format(**{abbr: abbr for abbr in _ABBREVIATIONS})

    def answer(self, p: Params, text: str) -> str:
        expanded = " ".join(p[w] if w in _ABBREVIATIONS else w for w in text.split(" "))
        return capitalize(expanded) if p["case"] == "sentence" else expanded


_API_RESOURCES = ("order", "order line item", "payment method", "user profile", "invoice", "api key", "webhook")
_API_ACTIONS = {"list": "GET", "get": "GET", "create": "POST", "update": "PATCH", "delete": "DELETE"}


class ApiEndpoint(Family):
    name = "api_endpoint"
    title = "REST endpoint paths"
    summary = "Writes the REST route for an operation on a resource."
    output_noun = "endpoint"
    space = {
        "prefix": ("/api/v1", "/v1", "/api"),
        "plural": (True, False),
        "case": ("kebab", "snake", "camel"),
        "method": (True, False),
    }
    requests = ("Route for: {input}", "Which endpoint do I call to {input}?", "{input}")

    def rules(self, p: Params) -> list[str]:
        plural = "Resource segments are plural (add s, y -> ies)." if p["plural"] else "Resource segments are singular."
        method = (
            f"Start with the HTTP method and a space: {mapping_sentence(_API_ACTIONS)}."
            if p["method"]
            else "Write the path only, without the HTTP method."
        )
        return [
            f"Paths start with `{p['prefix']}`, then `/` and the resource.",
            plural,
            f"Multi-word resources are written in {CASE_DESCRIPTIONS[p['case']]}.",
            "Operations on one record (get, update, delete) end with `/` and its id.",
            method,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        action, resource = rng.choice(list(_API_ACTIONS)), rng.choice(_API_RESOURCES)
        if action == "list":
            return f"list every {resource}"
        if action == "create":
            return f"create a new {resource}"
        return f"{action} {resource} {rng.randint(1, 9999)}"

    def answer(self, p: Params, text: str) -> str:
        action, *words = text.split(" ")
        words = [w for w in words if w not in ("every", "a", "new")]
        record_id = words.pop() if words[-1].isdigit() else None
        if p["plural"]:
            words[-1] = pluralize(words[-1])
        path = f"{p['prefix']}/{join_case(words, p['case'])}" + (f"/{record_id}" if record_id else "")
        return f"{_API_ACTIONS[action]} {path}" if p["method"] else path


FAMILIES: tuple[Family, ...] = (
    IdentifierCase(),
    EnvVarName(),
    ConfigKeyPath(),
    SqlTableName(),
    CssBemClass(),
    FeatureFlag(),
    ResourceName(),
    UnitTestName(),
    EmailUsername(),
    Slugify(),
    AbbreviationExpand(),
    ApiEndpoint(),
)
