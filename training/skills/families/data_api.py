"""Config and data formats and HTTP/API conventions: .env, TOML, YAML, CSV, JSON bodies, headers, URLs and events."""

from __future__ import annotations

import json
import random
import re

from .. import vocab
from ..base import Family, Params, same_json
from ..text import CASE_DESCRIPTIONS, capitalize, join_case, mapping_sentence, pluralize


def _plural_words(words: list[str]) -> list[str]:
    return words[:-1] + [pluralize(words[-1])]


_PLURAL_RULE = "add s to the last word; y after a consonant becomes ies"


def _token(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(length))


# --- .env files -------------------------------------------------------------------------------------------------

_DOTENV_VALUES = (
    ("LOG_LEVEL", ("debug", "warn", "info")),
    ("DATABASE_URL", ("postgres://app@db:5432/orders", "mysql://root@localhost/shop")),
    ("REDIS_HOST", ("cache.internal", "localhost")),
    ("SMTP_FROM", ("Acme Support <help@example.com>", "noreply@example.com")),
    ("SITE_TITLE", ("Order Portal", "Acme Store")),
    ("BRAND_COLOR", ("#ff6600", "#0a84ff")),
    ("SLACK_CHANNEL", ("#deploys", "#alerts-prod")),
    ("API_TIMEOUT", ("30", "120")),
    ("BACKUP_SCHEDULE", ("0 3 * * *", "*/15 * * * *")),
    ("ALLOWED_HOSTS", ("api.example.com,www.example.com",)),
    ("S3_BUCKET", ("acme-uploads-prod", "acme-media-staging")),
    ("WELCOME_TEXT", ("Hello and welcome", "Thanks for signing up")),
)
_DOTENV_QUOTES = {
    "when_needed": "Wrap the value in double quotes only if it contains a space or a `#`; otherwise write it bare.",
    "double": "Always wrap the value in double quotes, even when it has no spaces.",
    "single": "Always wrap the value in single quotes, even when it has no spaces.",
}


class DotenvLine(Family):
    name = "dotenv_line"
    title = ".env entries"
    summary = "Writes lines for the project's .env files."
    output_noun = ".env line"
    space = {"quote": tuple(_DOTENV_QUOTES), "export": (False, True), "prefix": ("", "APP_")}
    requests = ("Add this to the .env file: {input}", "What's the .env line? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        prefix = (
            f"Put `{p['prefix']}` in front of every key (LOG_LEVEL -> {p['prefix']}LOG_LEVEL)."
            if p["prefix"]
            else "Write the key exactly as given, with no prefix."
        )
        export = (
            "Start the line with `export` and a space, so a shell can source the file too."
            if p["export"]
            else "Do not start the line with `export`."
        )
        return [
            "Write one line: the key, `=` and the value, with no spaces around `=`.",
            prefix,
            _DOTENV_QUOTES[p["quote"]],
            export,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        key, values = rng.choice(_DOTENV_VALUES)
        value = rng.choice(values)
        return f"set {key} to {value}" if rng.random() < 0.5 else f"{key} = {value}"

    def answer(self, p: Params, text: str) -> str:
        key, value = text.removeprefix("set ").split(" to ", 1) if text.startswith("set ") else text.split(" = ", 1)
        if p["quote"] == "double" or (p["quote"] == "when_needed" and (" " in value or "#" in value)):
            value = f'"{value}"'
        elif p["quote"] == "single":
            value = f"'{value}'"
        return ("export " if p["export"] else "") + p["prefix"] + key + "=" + value


# --- TOML -------------------------------------------------------------------------------------------------------

_TOML_SETTINGS = (
    ("server", "port", ("8080", "3000")),
    ("server", "bind address", ("0.0.0.0", "127.0.0.1")),
    ("server", "request timeout", ("30", "90")),
    ("server", "base path", ("/api", "/v2")),
    ("database", "pool size", ("20", "5")),
    ("database", "url", ("postgres://db/app",)),
    ("database", "ssl mode", ("require", "disable")),
    ("database", "max idle time", ("5m", "30s")),
    ("logging", "level", ("info", "debug")),
    ("logging", "log format", ("json", "text")),
    ("logging", "include caller", ("true", "false")),
    ("cache", "default ttl", ("10m", "1h")),
    ("cache", "max entries", ("5000",)),
    ("cache", "enabled", ("true", "false")),
    ("smtp", "from address", ("noreply@example.com",)),
    ("smtp", "use tls", ("true",)),
)


class TomlSetting(Family):
    name = "toml_setting"
    title = "TOML settings"
    summary = "Writes one setting of the service's config.toml on a single line."
    output_noun = "TOML line"
    space = {"table": ("dotted", "inline"), "quotes": ("double", "single"), "key_case": ("snake", "kebab")}
    requests = ("Add to config.toml: {input}", "TOML line for: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        table = (
            "Write the setting as a dotted key: `<section>.<key> = <value>`."
            if p["table"] == "dotted"
            else "Write the setting as an inline table: `<section> = { <key> = <value> }`, "
            "with one space inside each brace."
        )
        key = (
            "Write the key in snake_case (`pool size` -> `pool_size`)."
            if p["key_case"] == "snake"
            else "Write the key in kebab-case (`pool size` -> `pool-size`)."
        )
        quotes = (
            'Write strings as basic strings in double quotes (`"json"`).'
            if p["quotes"] == "double"
            else "Write strings as literal strings in single quotes (`'json'`)."
        )
        return [
            table,
            key,
            "Whole numbers and `true`/`false` are written bare; every other value is a string.",
            quotes,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        section, key, values = rng.choice(_TOML_SETTINGS)
        value = rng.choice(values)
        return f"set {key} in [{section}] to {value}" if rng.random() < 0.5 else f"[{section}] {key} = {value}"

    def answer(self, p: Params, text: str) -> str:
        if text.startswith("["):
            section, rest = text[1:].split("] ", 1)
            key, value = rest.split(" = ", 1)
        else:
            match = re.fullmatch(r"set (.+) in \[(\w+)\] to (.+)", text)
            assert match, text
            key, section, value = match.groups()
        if not (value.isdigit() or value in ("true", "false")):
            value = f'"{value}"' if p["quotes"] == "double" else f"'{value}'"
        key = join_case(key.split(" "), p["key_case"])
        if p["table"] == "dotted":
            return f"{section}.{key} = {value}"
        return f"{section} = {{ {key} = {value} }}"


# --- YAML -------------------------------------------------------------------------------------------------------

_YAML_VALUES = (
    ("country", ("DE", "SE", "FR")),
    ("version", ("1.10", "3.0", "v2.4.1")),
    ("zip_code", ("01234", "75008")),
    ("title", ("Release notes: v2", "Weekly report")),
    ("color", ("#ff6600", "teal")),
    ("pattern", ("*.log", "logs/app")),
    ("region", ("eu-west-1", "us-east-2")),
    ("image", ("nginx", "redis:7")),
    ("default", ("null", "none", "true")),
    ("tag", ("!important", "latest")),
)
# Values a YAML 1.1 parser reads as booleans (the "Norway problem"); YAML 1.2 reads them as strings.
_YAML_NORWAY = (
    ("country", ("NO",)),
    ("answer", ("yes", "no", "Yes")),
    ("feature", ("on", "off")),
    ("confirm", ("y", "n")),
)
_YAML11_WORDS = ("yes", "no", "on", "off", "y", "n", "true", "false", "null", "~")
_YAML12_WORDS = ("true", "false", "null", "~")


def _yaml_words(words: tuple[str, ...]) -> str:
    return ", ".join(f"`{w}`" for w in words[:-1]) + f" or `{words[-1]}`"


class YamlStringValue(Family):
    name = "yaml_string_value"
    title = "String values in YAML"
    summary = "Writes YAML entries whose value must stay a string."
    output_noun = "YAML entry"
    space = {"policy": ("yaml11", "yaml12", "always"), "quote": ("double", "single"), "form": ("block", "flow")}
    requests = ("Write this as YAML: {input}", "How do I put this in the YAML file? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        tail = (
            "when it is only digits with at most one dot, when it contains `: `, "
            "or when it starts with `#`, `*`, `&` or `!`"
        )
        policy = {
            "yaml11": "Quote the value only when a YAML 1.1 parser would not read it as a string: when it is "
            f"{_yaml_words(_YAML11_WORDS)} in any letter case, {tail}. Otherwise write it bare.",
            "yaml12": "Quote the value only when a YAML 1.2 parser would not read it as a string: when it is "
            f"{_yaml_words(_YAML12_WORDS)} in any letter case, {tail}. Otherwise write it bare "
            "(words such as `yes`, `no`, `on` and `off` stay bare).",
            "always": "Always quote the value, whatever it looks like.",
        }[p["policy"]]
        quote = (
            "Quote with double quotes (`\"...\"`)." if p["quote"] == "double" else "Quote with single quotes (`'...'`)."
        )
        form = (
            "Write the entry as `<key>: <value>`."
            if p["form"] == "block"
            else "Write the entry as a one-line flow mapping: `{<key>: <value>}`."
        )
        return [form, "The key stays exactly as given.", policy, quote]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        key, values = rng.choice(_YAML_NORWAY if rng.random() < 0.5 else _YAML_VALUES)
        return f"string value for {key}: {rng.choice(values)}"

    def answer(self, p: Params, text: str) -> str:
        key, value = text.removeprefix("string value for ").split(": ", 1)
        words = _YAML11_WORDS if p["policy"] == "yaml11" else _YAML12_WORDS
        needs = (
            value.lower() in words
            or re.fullmatch(r"\d+(\.\d+)?", value) is not None
            or ": " in value
            or value[:1] in "#*&!"
        )
        if p["policy"] == "always" or needs:
            value = f'"{value}"' if p["quote"] == "double" else f"'{value}'"
        return f"{key}: {value}" if p["form"] == "block" else f"{{{key}: {value}}}"


# --- CSV --------------------------------------------------------------------------------------------------------

_CSV_COLUMNS = (
    ("id", lambda rng: str(rng.randint(1, 9999))),
    ("name", lambda rng: rng.choice(("Smith, John", "Ana Lima", "Lee, Min-jun", "Chen Wei", "Pat O'Neil"))),
    (
        "product",
        lambda rng: rng.choice(('27" monitor', 'the "Pro" plan', "USB-C cable", "Desk lamp; large", '3.5" drive')),
    ),
    ("amount", lambda rng: rng.choice(("19.99", "120", "4.5", "1299.00"))),
    ("note", lambda rng: rng.choice(('said "urgent"', "gift wrap", "leave at door; ring twice", "none"))),
)


class CsvRow(Family):
    name = "csv_row"
    title = "CSV export rows"
    summary = "Writes one data row of the CSV exports, quoted and escaped the team's way."
    output_noun = "CSV row"
    space = {"delimiter": (",", ";"), "quoting": ("minimal", "all", "nonnumeric"), "escape": ("double", "backslash")}
    requests = ("CSV row for these fields: {input}", "Write this as a CSV line: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        quoting = {
            "minimal": f"Quote a field only when it contains `{p['delimiter']}` or a double quote `\"`.",
            "all": 'Quote every field with double quotes `"`.',
            "nonnumeric": "Quote every field that is not a number (a number is only digits with at most one dot); "
            "leave numbers bare.",
        }[p["quoting"]]
        escape = (
            'Inside a quoted field, write each `"` twice: `""`.'
            if p["escape"] == "double"
            else 'Inside a quoted field, write each `"` as `\\"`.'
        )
        return [
            "The input lists the fields in order, separated by ` | `.",
            f"Join the fields with `{p['delimiter']}` and no spaces around it.",
            quoting + " Quotes are double quotes.",
            escape,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        columns = [c for c in _CSV_COLUMNS if c[0] == "id" or rng.random() < 0.7]
        fields = [make(rng) for _, make in columns]
        if not any('"' in f for f in fields) and rng.random() < 0.6:
            fields.append(rng.choice(('27" monitor', 'said "urgent"', 'the "Pro" plan')))
        return " | ".join(fields)

    def answer(self, p: Params, text: str) -> str:
        out = []
        for field in text.split(" | "):
            numeric = re.fullmatch(r"\d+(\.\d+)?", field) is not None
            quote = {
                "minimal": p["delimiter"] in field or '"' in field,
                "all": True,
                "nonnumeric": not numeric,
            }[p["quoting"]]
            if quote:
                field = '"' + field.replace('"', '""' if p["escape"] == "double" else '\\"') + '"'
            out.append(field)
        return p["delimiter"].join(out)


# --- Query strings ----------------------------------------------------------------------------------------------

_QUERY_LISTS = {"tag": ("new", "sale", "summer"), "status": ("open", "pending", "closed"), "ids": (3, 17, 42, 8)}
_QUERY_FLAGS = ("archived", "include_deleted", "expand", "dry_run", "verbose")
_QUERY_SCALARS = {"page": (1, 2, 5), "per_page": (20, 50), "sort": ("price", "-created"), "lang": ("en", "de")}
_QUERY_NULLABLE = ("cursor", "since", "owner", "region")
_ARRAY_RULES = {
    "repeat": "A list becomes one pair per item, all with the same key (`tag=a&tag=b`).",
    "brackets": "A list becomes one pair per item with `[]` after the key (`tag[]=a&tag[]=b`).",
    "indexed": "A list becomes one pair per item with the item's position, from 0, in brackets after the key "
    "(`tag[0]=a&tag[1]=b`).",
    "comma": "A list becomes a single pair with its items joined by `,` (`tag=a,b`).",
}


class QueryString(Family):
    name = "query_string"
    title = "Encoding query parameters"
    summary = "Serializes a parameter object with lists, booleans and nulls into the API's query string."
    output_noun = "query string"
    space = {"arrays": tuple(_ARRAY_RULES), "booleans": ("words", "digits"), "nulls": ("omit", "empty")}
    requests = ("Query string for these params: {input}", "Encode {input} as a query string", "{input}")

    def rules(self, p: Params) -> list[str]:
        booleans = (
            "Write booleans as `true` and `false`."
            if p["booleans"] == "words"
            else "Write booleans as `1` (true) and `0` (false)."
        )
        nulls = (
            "Leave out keys whose value is null."
            if p["nulls"] == "omit"
            else "Keep keys whose value is null, with an empty value (`cursor=`)."
        )
        return [
            "Start with `?` and join the `key=value` pairs with `&`, keys in the order given.",
            _ARRAY_RULES[p["arrays"]],
            booleans,
            nulls,
            "Write brackets and commas as they are, without percent-encoding.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        list_key = rng.choice(list(_QUERY_LISTS))
        pairs = [
            (list_key, rng.sample(list(_QUERY_LISTS[list_key]), rng.randint(2, 3))),
            (rng.choice(_QUERY_FLAGS), rng.random() < 0.5),
        ]
        pairs += [(k, rng.choice(_QUERY_SCALARS[k])) for k in rng.sample(list(_QUERY_SCALARS), rng.randint(0, 2))]
        if rng.random() < 0.65:
            pairs.append((rng.choice(_QUERY_NULLABLE), None))
        rng.shuffle(pairs)
        return json.dumps(dict(pairs))

    def answer(self, p: Params, text: str) -> str:
        pairs = []
        for key, value in json.loads(text).items():
            if isinstance(value, list):
                if p["arrays"] == "comma":
                    pairs.append((key, ",".join(map(str, value))))
                else:
                    suffix = {"repeat": lambda i: "", "brackets": lambda i: "[]", "indexed": lambda i: f"[{i}]"}
                    pairs += [(key + suffix[p["arrays"]](i), str(v)) for i, v in enumerate(value)]
            elif isinstance(value, bool):
                pairs.append((key, ("true" if value else "false") if p["booleans"] == "words" else str(int(value))))
            elif value is None:
                if p["nulls"] == "empty":
                    pairs.append((key, ""))
            else:
                pairs.append((key, str(value)))
        return "?" + "&".join(f"{k}={v}" for k, v in pairs)


# --- HTTP request lines -----------------------------------------------------------------------------------------

_REQUEST_HOSTS = ("https://api.example.com", "http://localhost:8080", "https://shop.example.org:8443")
_REQUEST_PATHS = ("/v1/orders", "/v1/orders/42", "/users/me", "/search", "", "/v2/invoices/881/pdf", "/health")
_REQUEST_QUERIES = ("", "", "?page=2", "?q=shoes&limit=10", "?dry_run=true")


class HttpRequestLine(Family):
    name = "http_request_line"
    title = "HTTP request lines"
    summary = "Writes the request line of an HTTP request for docs, tests and debugging notes."
    output_noun = "request line"
    space = {"protocol": ("HTTP/1.1", "HTTP/2", "HTTP/1.0"), "target": ("origin", "absolute"), "marker": ("", "> ")}
    requests = ("Request line for: {input}", "What does the request line look like? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        target = (
            "The request target is only the path and query of the URL (scheme and host dropped); "
            "an empty path is `/`."
            if p["target"] == "origin"
            else "The request target is the full URL with scheme, host and port (the form sent to a proxy); "
            "an empty path is written as `/`."
        )
        marker = (
            "Start the line with `>` and a space, as `curl -v` prints it."
            if p["marker"]
            else "Start the line directly with the method."
        )
        return [
            marker,
            f"Write the method in uppercase, a space, the request target, a space and `{p['protocol']}`.",
            target,
            "Drop any `#fragment`; it is never sent.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        method = rng.choice(("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"))
        method = method.lower() if rng.random() < 0.4 else method
        path = rng.choice(_REQUEST_PATHS)
        query = rng.choice(_REQUEST_QUERIES)
        fragment = rng.choice(("", "", "", "#top", "#section-2"))
        return f"{method} {rng.choice(_REQUEST_HOSTS)}{path}{query}{fragment}"

    def answer(self, p: Params, text: str) -> str:
        method, url = text.split(" ", 1)
        url = url.split("#", 1)[0]
        scheme, rest = url.split("://", 1)
        cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
        host, tail = rest[:cut], rest[cut:]
        if not tail.startswith("/"):
            tail = "/" + tail
        target = tail if p["target"] == "origin" else f"{scheme}://{host}{tail}"
        return f"{p['marker']}{method.upper()} {target} {p['protocol']}"


# --- Cache-Control ----------------------------------------------------------------------------------------------

_LIFETIMES = ("30 seconds", "5 minutes", "10 minutes", "1 hour", "2 hours", "1 day", "7 days")
_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_SECONDS_RULE = "1 minute = 60, 1 hour = 3600, 1 day = 86400"


def _to_seconds(amount: str) -> int:
    number, unit = amount.split(" ")
    return int(number) * _SECONDS[unit.removesuffix("s")]


class CacheControlHeader(Family):
    name = "cache_control_header"
    title = "Cache-Control headers"
    summary = "Writes the Cache-Control header for an API or web response."
    output_noun = "Cache-Control header"
    space = {"header": (True, False), "public": ("explicit", "implicit"), "revalidate": (False, True)}
    requests = ("Cache-Control for this response: {input}", "Which caching header do we send? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        header = (
            "Write the whole header line, starting with `Cache-Control:` and a space."
            if p["header"]
            else "Write only the header value, without the `Cache-Control:` name."
        )
        audience = (
            "A response for everyone starts with `public`; a response for a signed-in user starts with `private`."
            if p["public"] == "explicit"
            else "A response for a signed-in user starts with `private`; a response for everyone gets no audience "
            "directive at all (leave `public` out)."
        )
        revalidate = (
            "End every cacheable response with `must-revalidate`."
            if p["revalidate"]
            else "Do not add `must-revalidate`."
        )
        return [
            header,
            "Join the directives with `, `.",
            audience,
            f"Then `max-age=<seconds>`, with the lifetime converted to seconds ({_SECONDS_RULE}).",
            revalidate,
            "A response with no caching is only `no-store`, whatever its audience.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        lifetime = "no caching" if rng.random() < 0.15 else rng.choice(_LIFETIMES)
        audience = "everyone" if rng.random() < 0.7 else "signed-in user"
        return f"audience: {audience}; lifetime: {lifetime}"

    def answer(self, p: Params, text: str) -> str:
        audience, lifetime = (part.split(": ", 1)[1] for part in text.split("; "))
        if lifetime == "no caching":
            directives = ["no-store"]
        else:
            directives = ["private"] if audience != "everyone" else ["public"] if p["public"] == "explicit" else []
            directives.append(f"max-age={_to_seconds(lifetime)}")
            if p["revalidate"]:
                directives.append("must-revalidate")
        value = ", ".join(directives)
        return f"Cache-Control: {value}" if p["header"] else value


# --- Content-Type -----------------------------------------------------------------------------------------------

_MIME_TYPES = {
    "html": "text/html",
    "css": "text/css",
    "csv": "text/csv",
    "txt": "text/plain",
    "json": "application/json",
    "js": "text/javascript",
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
}
_TEXTUAL = ("html", "css", "csv", "txt", "json", "js")
_FILE_STEMS = ("report", "index", "export-2024", "styles", "app", "logo", "invoice-881", "notes", "data", "README")


class ContentTypeHeader(Family):
    name = "content_type_header"
    title = "Content-Type headers"
    summary = "Writes the Content-Type header for a file the server sends."
    output_noun = "Content-Type header"
    space = {"charset": ("utf-8", "UTF-8", "none"), "sep": ("; ", ";"), "header": (True, False)}
    requests = ("Content-Type for {input}", "What Content-Type do we serve {input} with?", "{input}")

    def valid(self, params: Params) -> bool:
        return params["charset"] != "none" or params["sep"] == "; "

    def rules(self, p: Params) -> list[str]:
        table = ", ".join(f".{ext} -> `{mime}`" for ext, mime in _MIME_TYPES.items())
        if p["charset"] == "none":
            charset = "Never add a charset parameter."
        else:
            gap = "" if p["sep"] == ";" else " (a space after the semicolon)"
            charset = (
                f"Append `{p['sep']}charset={p['charset']}`{gap} to `text/*` types and to `application/json`; "
                "other types get no charset."
            )
        header = (
            "Write the whole header line, starting with `Content-Type:` and a space."
            if p["header"]
            else "Write only the header value, without the `Content-Type:` name."
        )
        return [
            f"Pick the media type from the file extension, ignoring letter case: {table}; "
            "any other extension -> `application/octet-stream`.",
            charset,
            header,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        ext = rng.choice(_TEXTUAL) if rng.random() < 0.7 else rng.choice(("svg", "png", "pdf", "zip", "parquet"))
        return f"{rng.choice(_FILE_STEMS)}.{ext.upper() if rng.random() < 0.15 else ext}"

    def answer(self, p: Params, text: str) -> str:
        ext = text.rsplit(".", 1)[1].lower()
        value = _MIME_TYPES.get(ext, "application/octet-stream")
        if p["charset"] != "none" and (value.startswith("text/") or value == "application/json"):
            value += f"{p['sep']}charset={p['charset']}"
        return f"Content-Type: {value}" if p["header"] else value


# --- Accept (content negotiation) -------------------------------------------------------------------------------

_FORMATS = {
    "JSON": "application/json",
    "XML": "application/xml",
    "CSV": "text/csv",
    "HTML": "text/html",
    "plain text": "text/plain",
    "YAML": "application/yaml",
}
_Q_VALUES = {"0.1": ("0.9", "0.8", "0.7"), "0.2": ("0.8", "0.6", "0.4")}


class AcceptHeader(Family):
    name = "accept_header"
    title = "Accept headers"
    summary = "Writes the Accept header a client sends to negotiate the response format."
    output_noun = "Accept header"
    space = {"step": tuple(_Q_VALUES), "q_space": (False, True), "header": (True, False)}
    requests = ("Accept header for a client that wants: {input}", "Negotiate this: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        formats = mapping_sentence({**_FORMATS, "anything": "*/*"})
        q_form = (
            "Write a q value as `; q=<value>` after the type, with a space after the semicolon."
            if p["q_space"]
            else "Write a q value as `;q=<value>` right after the type, with no space."
        )
        header = (
            "Start with `Accept:` and a space." if p["header"] else "Write only the value, without the `Accept:` name."
        )
        return [
            f"Map each format to its media type: {formats}.",
            "List the types in order of preference, joined with `, `.",
            "The first type gets no q value; the next ones get q values "
            f"{', '.join(_Q_VALUES[p['step']][:2])} and {_Q_VALUES[p['step']][2]} in turn.",
            q_form,
            header,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        names = rng.sample(list(_FORMATS), rng.randint(1, 3))
        if len(names) == 1 or rng.random() < 0.5:
            names.append("anything")
        return "prefer " + ", then ".join(names)

    def answer(self, p: Params, text: str) -> str:
        names = text.removeprefix("prefer ").split(", then ")
        q_sep = "; q=" if p["q_space"] else ";q="
        types = [
            ({**_FORMATS, "anything": "*/*"}[name] + (q_sep + _Q_VALUES[p["step"]][i - 1] if i else ""))
            for i, name in enumerate(names)
        ]
        value = ", ".join(types)
        return f"Accept: {value}" if p["header"] else value


# --- Authorization ----------------------------------------------------------------------------------------------

_AUTH_FORMS = {
    "bearer": ("Authorization: Bearer <token>", "Authorization: Bearer {}"),
    "token": ("Authorization: Token <token>", "Authorization: Token {}"),
    "api_key": ("X-API-Key: <token>", "X-API-Key: {}"),
}
_TOKEN_PREFIXES = ("ghp_", "sk_live_", "tok_", "pat_", "")
_TOKEN_TEMPLATES = ("{}", "CI bot token: {}", "access token for the billing API: {}", "use the key {}")


class AuthorizationHeader(Family):
    name = "authorization_header"
    title = "Auth headers in examples"
    summary = "Writes the credential header for API examples, tickets and runbooks."
    output_noun = "auth header"
    space = {"scheme": tuple(_AUTH_FORMS), "redact": ("none", "last4", "first4")}
    requests = ("Auth header for {input}", "How do I send this credential? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        redact = {
            "none": "Write the token in full.",
            "last4": "Mask the token: write `****` followed by only its last 4 characters.",
            "first4": "Mask the token: write only its first 4 characters followed by `****`.",
        }[p["redact"]]
        return [
            "The token is the last word of the request.",
            f"Send it as `{_AUTH_FORMS[p['scheme']][0]}`.",
            redact,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        token = rng.choice(_TOKEN_PREFIXES) + _token(rng, rng.randint(12, 20))
        return rng.choice(_TOKEN_TEMPLATES).format(token)

    def answer(self, p: Params, text: str) -> str:
        token = text.split(" ")[-1]
        token = {"none": token, "last4": "****" + token[-4:], "first4": token[:4] + "****"}[p["redact"]]
        return _AUTH_FORMS[p["scheme"]][1].format(token)


# --- Custom headers ---------------------------------------------------------------------------------------------

_CUSTOM_HEADERS = (
    ("request id", lambda rng: vocab.hex_string(rng, 8)),
    ("tenant id", lambda rng: rng.choice(("acme-co", "globex", "initech"))),
    ("client version", lambda rng: ".".join(map(str, vocab.version(rng)))),
    ("api key", lambda rng: "k_" + vocab.hex_string(rng, 8)),
    ("trace id", lambda rng: vocab.hex_string(rng, 16)),
    ("user ip", lambda rng: f"203.0.113.{rng.randint(1, 254)}"),
    ("callback url", lambda rng: rng.choice(("https://hooks.example.com/in", "https://ci.example.org/done"))),
    ("idempotency key", lambda rng: vocab.hex_string(rng, 12)),
    ("dry run", lambda rng: rng.choice(("true", "false"))),
    ("device id", lambda rng: vocab.hex_string(rng, 10)),
    ("source app", lambda rng: rng.choice(("ios", "web", "android"))),
)
_ACRONYMS = ("id", "api", "ip", "url")


class CustomHeader(Family):
    name = "custom_header"
    title = "Custom HTTP headers"
    summary = "Names and writes the service's own HTTP headers."
    output_noun = "header line"
    space = {"prefix": ("X-", "X-Acme-", ""), "case": ("train", "lower"), "acronyms": ("capitalize", "upper")}
    requests = ("Header line for this: {input}", "How do we send this as a header? {input}", "{input}")

    def valid(self, params: Params) -> bool:
        return params["case"] == "train" or params["acronyms"] == "capitalize"

    def rules(self, p: Params) -> list[str]:
        prefix = (
            f"Start the header name with `{p['prefix']}`."
            if p["prefix"]
            else "Use no prefix at all (no `X-`): the name is just the words."
        )
        case = (
            "Join the words with `-` and capitalise the first letter of each (`Client-Version`)."
            if p["case"] == "train"
            else "Join the words with `-` and write the whole name, prefix included, in lowercase "
            "(`client-version`), as HTTP/2 sends it."
        )
        rules = [prefix, case]
        if p["case"] == "train":
            rules.append(
                "Write the words id, api, ip and url fully in uppercase (`ID`, `API`, `IP`, `URL`)."
                if p["acronyms"] == "upper"
                else "Treat id, api, ip and url like any other word (`Id`, `Api`, `Ip`, `Url`)."
            )
        rules.append("Then `:`, a space and the value exactly as given.")
        return rules

    def sample_input(self, p: Params, rng: random.Random) -> str:
        words, make = rng.choice(_CUSTOM_HEADERS)
        return f"send the {words} as a header: {make(rng)}"

    def answer(self, p: Params, text: str) -> str:
        words, value = text.removeprefix("send the ").split(" as a header: ", 1)
        if p["case"] == "lower":
            name = (p["prefix"] + "-".join(words.split(" "))).lower()
        else:
            parts = [w.upper() if p["acronyms"] == "upper" and w in _ACRONYMS else capitalize(w) for w in words.split()]
            name = p["prefix"] + "-".join(parts)
        return f"{name}: {value}"


# --- Pagination Link header -------------------------------------------------------------------------------------

_LINK_PATHS = ("/v1/orders", "/v1/users", "/repos/acme/api/issues", "/api/invoices", "/v2/products")
_LINK_RELS = {
    "next": "Give only the `next` link (page + 1).",
    "prev_next": "Give the `prev` link (page - 1), then the `next` link (page + 1); on page 1 leave `prev` out.",
    "all": "Give the `first` (page 1), `prev` (page - 1), `next` (page + 1) and `last` (the last page) links, "
    "in that order; on page 1 leave `first` and `prev` out.",
}


class PaginationLinkHeader(Family):
    name = "pagination_link_header"
    title = "Pagination Link headers"
    summary = "Writes the Link header that list endpoints return for pagination."
    output_noun = "Link header value"
    space = {"rels": tuple(_LINK_RELS), "quote": (True, False), "param": ("page", "page[number]")}
    requests = ("Link header for {input}", "Pagination links for: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        rel = 'rel="next"' if p["quote"] else "rel=next"
        quoting = "in double quotes" if p["quote"] else "without quotes"
        return [
            f"Each link is the path with `?{p['param']}=<n>` appended, in angle brackets, then `; ` and the relation "
            f"{quoting}, like `</v1/orders?{p['param']}=4>; {rel}`.",
            _LINK_RELS[p["rels"]],
            "Join the links with `, `. Write only the header value.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        total = rng.randint(2, 12)
        page = 1 if rng.random() < 0.2 else rng.randint(1, total - 1)
        return f"{rng.choice(_LINK_PATHS)}, page {page} of {total}"

    def answer(self, p: Params, text: str) -> str:
        path, rest = text.split(", page ")
        page, total = (int(n) for n in rest.split(" of "))
        wanted = {"next": ["next"], "prev_next": ["prev", "next"], "all": ["first", "prev", "next", "last"]}[p["rels"]]
        targets = {"first": 1, "prev": page - 1, "next": page + 1, "last": total}
        links = []
        for rel in wanted:
            if page == 1 and rel in ("first", "prev"):
                continue
            name = f'"{rel}"' if p["quote"] else rel
            links.append(f"<{path}?{p['param']}={targets[rel]}>; rel={name}")
        return ", ".join(links)


# --- API versioning ---------------------------------------------------------------------------------------------

_VERSION_FORMS = {
    "vnd": "Select the version through a vendor media type: `Accept: application/vnd.acme.<version>+json`.",
    "param": "Select the version with a media-type parameter: `Accept: application/json; version=<version>`.",
    "header": "Select the version with a dedicated header: `Api-Version: <version>`.",
}
_VERSION_TEMPLATES = (
    "client built against API {}",
    "target API version {}",
    "requests from the SDK pinned to API {}",
    "mobile app using API {}",
)


class ApiVersionHeader(Family):
    name = "api_version_header"
    title = "API version headers"
    summary = "Writes the header a client sends to pick the API version."
    output_noun = "version header"
    space = {"form": tuple(_VERSION_FORMS), "precision": ("major", "minor"), "v_prefix": (True, False)}
    requests = ("Version header for: {input}", "Which header selects the version? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        precision = (
            "The version is the major number only (2.3.1 -> 2)."
            if p["precision"] == "major"
            else "The version is major.minor (2.3.1 -> 2.3)."
        )
        v_prefix = (
            "Put a `v` in front of the version number (`v2`)."
            if p["v_prefix"]
            else "Write the bare version number, with no `v` in front."
        )
        return [_VERSION_FORMS[p["form"]], precision, v_prefix]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return rng.choice(_VERSION_TEMPLATES).format(".".join(map(str, vocab.version(rng))))

    def answer(self, p: Params, text: str) -> str:
        match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
        assert match, text
        version = match[1] if p["precision"] == "major" else f"{match[1]}.{match[2]}"
        version = ("v" if p["v_prefix"] else "") + version
        return {
            "vnd": f"Accept: application/vnd.acme.{version}+json",
            "param": f"Accept: application/json; version={version}",
            "header": f"Api-Version: {version}",
        }[p["form"]]


# --- REST custom actions ----------------------------------------------------------------------------------------

_RESOURCE_ACTIONS = {
    "order": ("cancel", "archive", "mark as paid", "send reminder"),
    "invoice": ("send reminder", "mark as paid", "void"),
    "user": ("resend invite", "reset password", "deactivate"),
    "subscription": ("cancel", "pause billing", "resume"),
    "payment method": ("set as default", "verify"),
    "webhook endpoint": ("retry delivery", "rotate secret"),
    "blog post": ("publish", "schedule release"),
    "delivery": ("mark delivered", "reschedule"),
}
_ACTION_STYLES = {
    "subpath": ("Append the action as one more path segment: `/<collection>/<id>/<action>`.", "{}/{}/{}"),
    "colon": ("Append the action after a colon, as a custom method: `/<collection>/<id>:<action>`.", "{}/{}:{}"),
    "actions": (
        "Append the action under an `actions` segment: `/<collection>/<id>/actions/<action>`.",
        "{}/{}/actions/{}",
    ),
}


class RestActionRoute(Family):
    name = "rest_action_route"
    title = "Routes for custom actions"
    summary = "Writes the REST route for an action on one record that is not plain CRUD."
    output_noun = "route"
    space = {"style": tuple(_ACTION_STYLES), "case": ("kebab", "snake", "camel")}
    requests = ("Route for this action: {input}", "Which endpoint should {input} use?", "{input}")

    def rules(self, p: Params) -> list[str]:
        return [
            "The method is always `POST`: write `POST`, a space and the path.",
            f"The path starts with `/` and the collection: the resource name in the plural ({_PLURAL_RULE}).",
            _ACTION_STYLES[p["style"]][0],
            f"Write multi-word resource and action names in {CASE_DESCRIPTIONS[p['case']]}.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        resource = rng.choice(list(_RESOURCE_ACTIONS))
        return f"{rng.choice(_RESOURCE_ACTIONS[resource])} for {resource} {rng.randint(1, 9999)}"

    def answer(self, p: Params, text: str) -> str:
        action, target = text.rsplit(" for ", 1)
        resource, record_id = target.rsplit(" ", 1)
        collection = "/" + join_case(_plural_words(resource.split(" ")), p["case"])
        path = _ACTION_STYLES[p["style"]][1].format(collection, record_id, join_case(action.split(" "), p["case"]))
        return f"POST {path}"


# --- GraphQL ----------------------------------------------------------------------------------------------------

_GRAPHQL_OPERATIONS = {
    "query": (
        "list open orders",
        "get current user",
        "search products by name",
        "fetch invoice details",
        "list team members",
        "get order history",
        "count unread messages",
        "load dashboard stats",
    ),
    "mutation": (
        "cancel subscription",
        "update shipping address",
        "add item to cart",
        "revoke api token",
        "create support ticket",
        "mark notification read",
        "delete saved card",
    ),
    "subscription": ("watch order status", "stream chat messages", "follow build logs", "listen for price changes"),
}


class GraphqlOperationName(Family):
    name = "graphql_operation_name"
    title = "GraphQL operation names"
    summary = "Names GraphQL operations in client code."
    output_noun = "operation header"
    space = {"case": ("pascal", "camel"), "suffix": (False, True), "keyword": (True, False)}
    requests = ("Name this GraphQL operation: {input}", "Operation name for {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        keyword = (
            "Start with the operation type keyword (`query`, `mutation` or `subscription`) and a space."
            if p["keyword"]
            else "Write the operation name alone, without the `query`/`mutation`/`subscription` keyword."
        )
        suffix = (
            "End the name with the operation type capitalised: `Query`, `Mutation` or `Subscription`."
            if p["suffix"]
            else "Do not add the operation type to the name."
        )
        return [
            keyword,
            f"The name is every word of the description, in order, in {CASE_DESCRIPTIONS[p['case']]}.",
            suffix,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        kind = rng.choice(list(_GRAPHQL_OPERATIONS))
        return f"{kind}: {rng.choice(_GRAPHQL_OPERATIONS[kind])}"

    def answer(self, p: Params, text: str) -> str:
        kind, description = text.split(": ", 1)
        name = join_case(description.split(" "), p["case"]) + (capitalize(kind) if p["suffix"] else "")
        return f"{kind} {name}" if p["keyword"] else name


# --- Webhook events ---------------------------------------------------------------------------------------------

_EVENTS = {
    "invoice": ("created", "paid", "voided", "finalized"),
    "payment intent": ("succeeded", "failed", "canceled", "created"),
    "checkout session": ("completed", "expired"),
    "charge dispute": ("created", "closed", "updated"),
    "customer subscription": ("created", "updated", "deleted", "paused"),
    "pull request": ("opened", "closed", "merged"),
    "order": ("created", "shipped", "refunded"),
    "payout": ("paid", "failed"),
    "billing portal session": ("created",),
    "api key": ("rotated", "revoked"),
}


class WebhookEventName(Family):
    name = "webhook_event_name"
    title = "Webhook event names"
    summary = "Names the events the platform sends to webhook subscribers."
    output_noun = "event name"
    space = {"sep": (".", ":"), "case": ("snake", "kebab", "camel"), "namespace": (False, True)}
    requests = ("Event name for: {input}", "What do we call this webhook event? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        namespace = (
            f"Start with the namespace `acme` and `{p['sep']}`."
            if p["namespace"]
            else "Do not add a namespace in front."
        )
        return [
            namespace,
            f"Then the resource in {CASE_DESCRIPTIONS[p['case']]}.",
            f"Then `{p['sep']}` and the action, which is the last word of the request, in lowercase.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        resource = rng.choice(list(_EVENTS))
        event = f"{resource} {rng.choice(_EVENTS[resource])}"
        return f"event: {event}" if rng.random() < 0.3 else event

    def answer(self, p: Params, text: str) -> str:
        *resource, action = text.removeprefix("event: ").split(" ")
        parts = (["acme"] if p["namespace"] else []) + [join_case(resource, p["case"]), action.lower()]
        return p["sep"].join(parts)


# --- Status code messages ---------------------------------------------------------------------------------------

_STATUS_MESSAGES = {
    "friendly": {
        400: "Something in the request looks wrong",
        401: "Please sign in to continue",
        403: "You don't have access to this",
        404: "We couldn't find that",
        409: "Someone else changed this first",
        429: "Too many requests, please slow down",
        500: "Something went wrong on our side",
        503: "We're down for maintenance",
    },
    "terse": {
        400: "Bad request",
        401: "Sign-in required",
        403: "Access denied",
        404: "Not found",
        409: "Edit conflict",
        429: "Rate limited",
        500: "Server error",
        503: "Service unavailable",
    },
}
_STATUS_FALLBACK = {
    "friendly": ("The request could not be completed", "Something went wrong on our side"),
    "terse": ("Request failed", "Server error"),
}
_STATUS_PLACEMENT = {
    "prefix": ("Put the code, a colon and a space before the message: `<code>: <message>`.", "{code}: {message}"),
    "suffix": ("Put the code in parentheses after the message: `<message> (<code>)`.", "{message} ({code})"),
    "bracket": ("Put the code in square brackets before the message: `[<code>] <message>`.", "[{code}] {message}"),
    "none": ("Show the message alone, without the code.", "{message}"),
}
_STATUS_TEMPLATES = ("status {code}", "the API answered {code}", "{method} /{resource} returned {code}")


class StatusCodeMessage(Family):
    name = "status_code_message"
    title = "Messages for API errors"
    summary = "Turns an HTTP error status into the message the app shows to users."
    output_noun = "error message"
    space = {"tone": tuple(_STATUS_MESSAGES), "placement": tuple(_STATUS_PLACEMENT)}
    requests = ("What do we show the user? {input}", "Message for {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        table = ", ".join(f"{code} -> `{text}`" for code, text in _STATUS_MESSAGES[p["tone"]].items())
        client, server = _STATUS_FALLBACK[p["tone"]]
        return [
            f"Pick the message from this table: {table}.",
            f"Any other 4xx code -> `{client}`; any other 5xx code -> `{server}`.",
            _STATUS_PLACEMENT[p["placement"]][0],
            "Add no period at the end.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        code = rng.choice((*_STATUS_MESSAGES["terse"], 405, 410, 422, 502, 504))
        method = rng.choice(("GET", "POST", "DELETE"))
        resource = rng.choice(("orders", "users/me", "invoices", "cart/items"))
        return rng.choice(_STATUS_TEMPLATES).format(code=code, method=method, resource=resource)

    def answer(self, p: Params, text: str) -> str:
        match = re.search(r"\b([45]\d\d)\b", text)
        assert match, text
        code = int(match[1])
        message = _STATUS_MESSAGES[p["tone"]].get(code) or _STATUS_FALLBACK[p["tone"]][code >= 500]
        return _STATUS_PLACEMENT[p["placement"]][1].format(code=code, message=message)


# --- Rate limits ------------------------------------------------------------------------------------------------


class RateLimitHeaders(Family):
    name = "rate_limit_headers"
    title = "Rate-limit headers"
    summary = "Writes the rate-limit headers the API gateway sends with each response."
    output_noun = "rate-limit headers"
    space = {
        "prefix": ("X-RateLimit-", "RateLimit-", "X-Rate-Limit-"),
        "fields": ("all", "remaining_reset"),
        "policy": (False, True),
    }
    requests = ("Rate-limit headers for: {input}", "Which rate-limit headers go out? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        x = p["prefix"]
        fields = (
            f"Send `{x}Limit` (the request limit), `{x}Remaining` (requests left) and `{x}Reset` "
            "(seconds until the window resets), in that order."
            if p["fields"] == "all"
            else f"Send `{x}Remaining` (requests left) and then `{x}Reset` (seconds until the window resets); "
            "do not send the limit itself."
        )
        policy = (
            "After them add `RateLimit-Policy: <limit>;w=<window in seconds>` "
            "(a second = 1, a minute = 60, an hour = 3600)."
            if p["policy"]
            else "Do not send a policy header."
        )
        return [fields, policy, "Write each header as `Name: value`, all on one line, separated by `, `."]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        limit = rng.choice((60, 100, 500, 1000, 5000))
        window = rng.choice(("second", "minute", "hour")) if limit <= 100 else rng.choice(("minute", "hour"))
        left = rng.randint(0, limit - 1)
        reset = rng.randint(1, 59 if window != "hour" else 3599) if window != "second" else 1
        return f"{limit} requests per {window}, {left} left, resets in {reset} seconds"

    def answer(self, p: Params, text: str) -> str:
        match = re.fullmatch(r"(\d+) requests per (\w+), (\d+) left, resets in (\d+) seconds", text)
        assert match, text
        limit, window, left, reset = match.groups()
        x = p["prefix"]
        headers = ([f"{x}Limit: {limit}"] if p["fields"] == "all" else []) + [
            f"{x}Remaining: {left}",
            f"{x}Reset: {reset}",
        ]
        if p["policy"]:
            headers.append(f"RateLimit-Policy: {limit};w={_SECONDS[window]}")
        return ", ".join(headers)


# --- JSON:API resource objects ----------------------------------------------------------------------------------

_JSONAPI_RECORDS = {
    "order": {"status": ("paid", "pending"), "total": (19.99, 120)},
    "payment method": {"brand": ("visa", "mastercard"), "last4": ("4242", "0005")},
    "line item": {"sku": ("AB-12", "ZX-9"), "quantity": (1, 3)},
    "user profile": {"display_name": ("Ana", "Min-jun"), "locale": ("pt-BR", "ko-KR")},
    "shipping address": {"city": ("Lyon", "Osaka"), "country": ("FR", "JP")},
    "blog post": {"title": ("Hello world", "Release notes"), "published": (True, False)},
    "invoice": {"number": ("INV-0042", "INV-0107"), "amount_due": (0, 250.5)},
    "api key": {"label": ("ci", "staging bot"), "revoked": (False, True)},
}


class JsonapiResource(Family):
    name = "jsonapi_resource"
    title = "JSON:API resource objects"
    summary = "Turns a flat database record into the API's JSON:API resource object."
    output_noun = "resource object"
    space = {"plural": (True, False), "case": ("kebab", "snake", "camel"), "wrap": (True, False)}
    requests = ("Resource object for {input}", "Serialize this record: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        number = f"in the plural ({_PLURAL_RULE})" if p["plural"] else "in the singular, as given"
        wrap = (
            "Wrap the resource object as the value of a top-level `data` key."
            if p["wrap"]
            else "The resource object is the whole answer, with no `data` wrapper."
        )
        return [
            "The input is the resource name, a colon and the record.",
            "Build an object with the keys `type`, `id` and `attributes`, in that order.",
            f"`type` is the resource name {number}, in {CASE_DESCRIPTIONS[p['case']]}.",
            'The `id` is the record\'s id as a JSON string (`"42"`).',
            "`attributes` holds every other field of the record in its original order, keys and values unchanged.",
            wrap,
            "Answer with the JSON on one line.",
        ]

    def check(self, params: Params, text: str, output: str) -> bool:
        return same_json(output, self.answer(params, text))

    def sample_input(self, p: Params, rng: random.Random) -> str:
        resource = rng.choice(list(_JSONAPI_RECORDS))
        record = {"id": rng.randint(1, 9999)}
        record |= {key: rng.choice(values) for key, values in _JSONAPI_RECORDS[resource].items()}
        return f"{resource}: {json.dumps(record)}"

    def answer(self, p: Params, text: str) -> str:
        resource, body = text.split(": ", 1)
        record = json.loads(body)
        words = resource.split(" ")
        kind = join_case(_plural_words(words) if p["plural"] else words, p["case"])
        obj = {"type": kind, "id": str(record.pop("id")), "attributes": record}
        return json.dumps({"data": obj} if p["wrap"] else obj)


# --- Sparse fieldsets -------------------------------------------------------------------------------------------

_SPARSE_RECORDS = (
    {"id": (7, 88, 1203), "status": ("paid", "shipped"), "total": (12.5, 99), "currency": ("EUR", "USD")},
    {"id": (3, 451), "name": ("Ana Lima", "Chen Wei"), "email": ("ana@example.com",), "role": ("admin", "viewer")},
    {"id": (19, 640), "sku": ("AB-12", "KL-7"), "name": ("Desk lamp",), "price": (24.0, 8.75), "stock": (0, 31)},
)
_SPARSE_MISSING = ("discount", "notes", "tags", "avatar_url")


class SparseFieldset(Family):
    name = "sparse_fieldset"
    title = "Sparse fieldsets"
    summary = "Applies a `fields=` request parameter to a JSON record before it is returned."
    output_noun = "JSON response"
    space = {"order": ("requested", "record"), "always_id": (True, False), "missing": ("omit", "null")}
    requests = ("Apply the field selection: {input}", "What does the API return for {input}?", "{input}")

    def rules(self, p: Params) -> list[str]:
        missing_tail = " Missing fields come last, in the order requested." if p["missing"] == "null" else ""
        order = (
            "List the fields in the order the `fields=` parameter names them."
            if p["order"] == "requested"
            else "List the fields in the order they have in the record." + missing_tail
        )
        always_id = (
            "Always include `id`, as the first key, even when it is not requested."
            if p["always_id"]
            else "Include `id` only when it is requested, like any other field."
        )
        missing = (
            "Skip requested fields that the record does not have."
            if p["missing"] == "omit"
            else "A requested field the record does not have appears with the value `null`."
        )
        return [
            "Keep only the fields named in `fields=` (comma-separated); values stay unchanged.",
            always_id,
            order,
            missing,
            "Answer with the JSON on one line.",
        ]

    def check(self, params: Params, text: str, output: str) -> bool:
        return same_json(output, self.answer(params, text))

    def sample_input(self, p: Params, rng: random.Random) -> str:
        pools = rng.choice(_SPARSE_RECORDS)
        record = {key: rng.choice(values) for key, values in pools.items()}
        others = [k for k in record if k != "id"]
        fields = rng.sample(others, rng.randint(2, min(3, len(others))))
        if rng.random() < 0.25:
            fields.insert(rng.randint(0, len(fields)), "id")
        if rng.random() < 0.6:
            fields.insert(rng.randint(0, len(fields)), rng.choice(_SPARSE_MISSING))
        if [f for f in record if f in fields] == fields:
            fields.reverse()
        return f"fields={','.join(fields)} on {json.dumps(record)}"

    def answer(self, p: Params, text: str) -> str:
        spec, body = text.removeprefix("fields=").split(" on ", 1)
        record, fields = json.loads(body), spec.split(",")
        if p["always_id"]:
            fields = ["id"] + [f for f in fields if f != "id"]
        if p["order"] == "record":
            present = [f for f in record if f in fields]
            if p["always_id"]:
                present = ["id"] + [f for f in present if f != "id"]
            fields = present + [f for f in fields if f not in record]
        out = {f: record.get(f) for f in fields if f in record or p["missing"] == "null"}
        return json.dumps(out)


# --- Pagination metadata ----------------------------------------------------------------------------------------

_PAGE_EXTRAS = {
    "total_pages": "the number of pages",
    "has_more": "`true` when the page is before the last page, else `false`",
    "next_page": "the page number plus 1, or `null` on the last page",
}


class PaginationMeta(Family):
    name = "pagination_meta"
    title = "Pagination metadata"
    summary = "Builds the pagination block of list responses."
    output_noun = "pagination JSON"
    space = {"case": ("snake", "camel"), "wrapper": ("meta", "pagination", "none"), "extra": tuple(_PAGE_EXTRAS)}
    requests = ("Pagination block for {input}", "What pagination metadata goes out? {input}", "{input}")

    def _key(self, p: Params, key: str) -> str:
        return join_case(key.split("_"), p["case"])

    def rules(self, p: Params) -> list[str]:
        wrapper = (
            f"Put the object under a top-level `{p['wrapper']}` key."
            if p["wrapper"] != "none"
            else "The object is the whole answer, with no wrapper key."
        )
        keys = ", ".join(f"`{self._key(p, k)}`" for k in ("page", "per_page", "total"))
        return [
            f"Use the keys {keys} and `{self._key(p, p['extra'])}`, in that order.",
            f"`{self._key(p, 'per_page')}` is the page size and `total` the number of items; "
            f"`{self._key(p, p['extra'])}` is {_PAGE_EXTRAS[p['extra']]}.",
            "Every value is a JSON number, boolean or null.",
            wrapper,
            "Answer with the JSON on one line.",
        ]

    def check(self, params: Params, text: str, output: str) -> bool:
        return same_json(output, self.answer(params, text))

    def sample_input(self, p: Params, rng: random.Random) -> str:
        pages, per_page = rng.randint(1, 12), rng.choice((10, 20, 25, 50, 100))
        total = rng.randint((pages - 1) * per_page + 1, pages * per_page)
        page = pages if rng.random() < 0.25 else rng.randint(1, pages)
        return f"page {page} of {pages}, {per_page} per page, {total} items"

    def answer(self, p: Params, text: str) -> str:
        match = re.fullmatch(r"page (\d+) of (\d+), (\d+) per page, (\d+) items", text)
        assert match, text
        page, pages, per_page, total = (int(n) for n in match.groups())
        extra = {"total_pages": pages, "has_more": page < pages, "next_page": page + 1 if page < pages else None}
        obj = {
            self._key(p, "page"): page,
            self._key(p, "per_page"): per_page,
            "total": total,
            self._key(p, p["extra"]): extra[p["extra"]],
        }
        return json.dumps({p["wrapper"]: obj} if p["wrapper"] != "none" else obj)


# --- Set-Cookie -------------------------------------------------------------------------------------------------

_COOKIES = (
    ("sid", lambda rng: vocab.hex_string(rng, 16)),
    ("theme", lambda rng: rng.choice(("dark", "light"))),
    ("csrf_token", lambda rng: vocab.hex_string(rng, 12)),
    ("locale", lambda rng: rng.choice(("de-DE", "en-GB", "ja-JP"))),
    ("cart_id", lambda rng: vocab.hex_string(rng, 10)),
)
_COOKIE_LIFETIMES = ("30 minutes", "2 hours", "12 hours", "1 day", "30 days", "session only")


class SetCookieHeader(Family):
    name = "set_cookie_header"
    title = "Set-Cookie headers"
    summary = "Writes the Set-Cookie header for cookies the web app sets."
    output_noun = "Set-Cookie header"
    space = {"samesite": ("Lax", "Strict", "None"), "httponly": (True, False), "host_prefix": (False, True)}
    requests = ("Set-Cookie header for {input}", "How do we set this cookie? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        name = (
            "Put `__Host-` in front of the cookie name." if p["host_prefix"] else "Keep the cookie name as given."
        )
        httponly = (
            "Then `HttpOnly`." if p["httponly"] else "Do not add `HttpOnly` (our scripts read these cookies)."
        )
        return [
            "Write `Set-Cookie:`, a space and `<name>=<value>`, then the attributes, each after `; `, "
            "in the order below.",
            name,
            f"First `Max-Age=<seconds>` if the cookie has a lifetime ({_SECONDS_RULE}); "
            "a session-only cookie gets no `Max-Age`.",
            "Then `Path=/` and `Secure`, always.",
            httponly,
            f"End with `SameSite={p['samesite']}`.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        name, make = rng.choice(_COOKIES)
        lifetime = rng.choice(_COOKIE_LIFETIMES)
        life = "session only" if lifetime == "session only" else f"expires after {lifetime}"
        return f"{name}={make(rng)}, {life}"

    def answer(self, p: Params, text: str) -> str:
        pair, life = text.split(", ", 1)
        parts = [("__Host-" if p["host_prefix"] else "") + pair]
        if life != "session only":
            parts.append(f"Max-Age={_to_seconds(life.removeprefix('expires after '))}")
        parts += ["Path=/", "Secure"] + (["HttpOnly"] if p["httponly"] else []) + [f"SameSite={p['samesite']}"]
        return "Set-Cookie: " + "; ".join(parts)


FAMILIES: list[Family] = [
    DotenvLine(),
    TomlSetting(),
    YamlStringValue(),
    CsvRow(),
    QueryString(),
    HttpRequestLine(),
    CacheControlHeader(),
    ContentTypeHeader(),
    AcceptHeader(),
    AuthorizationHeader(),
    CustomHeader(),
    PaginationLinkHeader(),
    ApiVersionHeader(),
    RestActionRoute(),
    GraphqlOperationName(),
    WebhookEventName(),
    StatusCodeMessage(),
    RateLimitHeaders(),
    JsonapiResource(),
    SparseFieldset(),
    PaginationMeta(),
    SetCookieHeader(),
]
