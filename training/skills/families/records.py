"""Structured records: log lines, JSON logs, log levels, CSV rows and JSON payload keys."""

from __future__ import annotations

import json
import random

from .. import vocab
from ..base import Family, Params, same_json
from ..text import CASE_DESCRIPTIONS, join_and, join_case, split_identifier

_LOG_FIELDS = ("timestamp", "level", "service", "req", "status", "latency", "path")
_LOG_PATHS = ("/v1/orders", "/v1/users/me", "/health", "/v2/search", "/v1/invoices/77", "/login")


class LogField(Family):
    name = "log_field"
    title = "Reading access logs"
    summary = "Pulls one field out of the gateway's access log lines."
    output_noun = "field value"
    space = {"field": _LOG_FIELDS, "form": ("value", "key=value")}
    requests = ("From this log line: {input}", "Extract it from: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        form = "Answer with the bare value." if p["form"] == "value" else f"Answer as `{p['field']}=<value>`."
        return [
            "Lines look like `<timestamp> <level> <service> key=value ...`; "
            "the key=value pairs (req, status, latency, path) come in any order.",
            f"The field to report is `{p['field']}`.",
            form,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        pairs = [
            f"req={vocab.hex_string(rng, 6)}",
            f"status={rng.choice((200, 201, 204, 301, 400, 401, 404, 429, 500, 502, 503))}",
            f"latency={rng.randint(1, 4000)}ms",
            f"path={rng.choice(_LOG_PATHS)}",
        ]
        rng.shuffle(pairs)
        stamp = vocab.instant(rng).strftime("%Y-%m-%dT%H:%M:%SZ")
        return " ".join([stamp, rng.choice(("INFO", "WARN", "ERROR", "DEBUG")), rng.choice(vocab.SERVICES)] + pairs)

    def answer(self, p: Params, text: str) -> str:
        timestamp, level, service, *pairs = text.split(" ")
        fields = {"timestamp": timestamp, "level": level, "service": service}
        fields.update(pair.split("=", 1) for pair in pairs)
        value = fields[p["field"]]
        return value if p["form"] == "value" else f"{p['field']}={value}"


_JSON_KEYS = ("user.id", "http.status", "http.method", "trace_id", "error.code", "msg")


def nested_get(record: dict, path: str) -> object | None:
    for key in path.split("."):
        if not isinstance(record, dict) or key not in record:
            return None
        record = record[key]
    return record


class LogJsonKey(Family):
    name = "log_json_key"
    title = "Reading JSON logs"
    summary = "Reads one value from structured JSON log records."
    output_noun = "value"
    space = {"key": _JSON_KEYS, "missing": ("-", "null", "n/a")}
    requests = ("Read it from this record: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        return [
            f"Report the value at the key path `{p['key']}` (dots step into nested objects).",
            "Write strings without quotes and numbers as they are.",
            f"If the path is missing, answer `{p['missing']}`.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        record: dict[str, object] = {
            "ts": vocab.instant(rng).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "level": rng.choice(("info", "warn", "error")),
        }
        record["msg"] = rng.choice(("request done", "cache miss", "retrying upstream", "payment declined"))
        if rng.random() < 0.8:
            record["user"] = {"id": rng.randint(1, 99999), "plan": rng.choice(("free", "pro"))}
        if rng.random() < 0.8:
            record["http"] = {"method": rng.choice(("GET", "POST", "DELETE")), "status": rng.choice((200, 404, 500))}
        if rng.random() < 0.6:
            record["trace_id"] = vocab.hex_string(rng, 16)
        if rng.random() < 0.4:
            record["error"] = {"code": rng.choice(("E_TIMEOUT", "E_DENIED", "E_LIMIT"))}
        keys = list(record)
        rng.shuffle(keys)
        return json.dumps({k: record[k] for k in keys})

    def answer(self, p: Params, text: str) -> str:
        value = nested_get(json.loads(text), p["key"])
        return p["missing"] if value is None else str(value)


_LEVEL_SOURCES = {
    "debug": ("TRACE", "DEBUG"),
    "info": ("INFO", "NOTICE"),
    "warning": ("WARN", "WARNING"),
    "error": ("ERROR", "ERR"),
    "critical": ("FATAL", "CRITICAL", "PANIC"),
}
_LEVEL_SCHEMES = {
    "syslog": ("7", "6", "4", "3", "2"),
    "python": ("10", "20", "30", "40", "50"),
    "letters": ("D", "I", "W", "E", "C"),
    "tiers": ("low", "low", "medium", "high", "high"),
}
_LOG_MESSAGES = (
    "disk usage at 91%",
    "user login ok",
    "upstream timed out",
    "config reloaded",
    "queue depth 1200",
    "out of memory",
)


class LogLevelMap(Family):
    name = "log_level_map"
    title = "Log level mapping"
    summary = "Maps log levels from any of our services onto the alerting system's levels."
    output_noun = "level"
    space = {"scheme": tuple(_LEVEL_SCHEMES), "form": ("{level}", "[{level}]", "level={level}")}
    requests = ("Which level is this? {input}", "Map the level: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        sources = "; ".join(f"{join_and(list(words))} count as {level}" for level, words in _LEVEL_SOURCES.items())
        targets = ", ".join(f"{level} -> `{code}`" for level, code in zip(_LEVEL_SOURCES, _LEVEL_SCHEMES[p["scheme"]]))
        return [
            f"Read the level word of the line (any case): {sources}.",
            f"Map it: {targets}.",
            f"Answer as `{p['form'].replace('{level}', '<level>')}`.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        word = rng.choice([w for words in _LEVEL_SOURCES.values() for w in words])
        word = rng.choice((word, word.lower(), word.capitalize()))
        return f"{vocab.instant(rng):%H:%M:%S} {word} {rng.choice(_LOG_MESSAGES)}"

    def answer(self, p: Params, text: str) -> str:
        word = text.split(" ")[1].upper()
        index = next(i for i, words in enumerate(_LEVEL_SOURCES.values()) if word in words)
        return p["form"].format(level=_LEVEL_SCHEMES[p["scheme"]][index])


_CSV_COLUMNS = ("id", "name", "email", "city", "plan", "age")
_CSV_PAIRS = tuple(f"{a},{b}" for a in _CSV_COLUMNS for b in _CSV_COLUMNS if a != b)


class CsvSelect(Family):
    name = "csv_select"
    title = "Picking CSV columns"
    summary = "Extracts the columns the support team needs from customer CSV exports."
    output_noun = "extracted row"
    space = {"columns": _CSV_PAIRS, "sep": (",", ";", " | ")}
    requests = ("Extract from this export:\n{input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        first, second = p["columns"].split(",")
        return [
            "Exports have a header line, then one data line; "
            "column order differs between exports, so find columns by header name.",
            f"Output the `{first}` value, then the `{second}` value.",
            f"Separate them with `{p['sep']}`.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
        row = {
            "id": str(rng.randint(100, 99999)),
            "name": f"{first.capitalize()} {last.capitalize()}",
            "email": f"{first}.{last}@{rng.choice(vocab.DOMAINS)}",
            "city": rng.choice(("Lagos", "Oslo", "Lima", "Pune", "Osaka")),
            "plan": rng.choice(("free", "pro", "team")),
            "age": str(rng.randint(18, 80)),
        }
        header = list(_CSV_COLUMNS)
        rng.shuffle(header)
        return ",".join(header) + "\n" + ",".join(row[c] for c in header)

    def answer(self, p: Params, text: str) -> str:
        header, values = (line.split(",") for line in text.strip().split("\n"))
        row = dict(zip(header, values))
        return p["sep"].join(row[c] for c in p["columns"].split(","))


_PAYLOAD_VALUES: dict[str, tuple[object, ...]] = {
    "user id": (17, 4051, 98213),
    "created at": ("2024-05-01", "2023-11-30"),
    "display name": ("Ada", "Grace Hopper"),
    "is active": (True, False),
    "retry count": (0, 3, 12),
    "last login ip": ("10.0.0.7", "192.168.1.20"),
    "plan name": ("free", "pro"),
    "team id": (3, 77),
}


class JsonKeyCase(Family):
    name = "json_key_case"
    title = "JSON key conventions"
    summary = "Rewrites JSON payload keys to the public API's convention."
    output_noun = "JSON object"
    space = {"case": ("snake", "camel", "kebab", "pascal"), "drop_nulls": (False, True), "sort_keys": (False, True)}
    requests = ("Convert this payload: {input}", "Rewrite the keys of {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        nulls = "Remove keys whose value is null." if p["drop_nulls"] else "Keep keys whose value is null."
        order = (
            "Sort the keys alphabetically after renaming."
            if p["sort_keys"]
            else "Keep the keys in their original order."
        )
        return [
            f"Rename every key to {CASE_DESCRIPTIONS[p['case']]}; values stay exactly the same.",
            nulls,
            order,
            "Answer with the object on one line.",
        ]

    def check(self, params: Params, text: str, output: str) -> bool:
        return same_json(output, self.answer(params, text))

    def sample_input(self, p: Params, rng: random.Random) -> str:
        case = rng.choice(("snake", "camel"))
        keys = rng.sample(list(_PAYLOAD_VALUES), rng.randint(2, 4))
        record = {
            join_case(k.split(" "), case): None if rng.random() < 0.25 else rng.choice(_PAYLOAD_VALUES[k]) for k in keys
        }
        return json.dumps(record)

    def answer(self, p: Params, text: str) -> str:
        record = {join_case(split_identifier(k), p["case"]): v for k, v in json.loads(text).items()}
        if p["drop_nulls"]:
            record = {k: v for k, v in record.items() if v is not None}
        return json.dumps(dict(sorted(record.items())) if p["sort_keys"] else record)


FAMILIES: tuple[Family, ...] = (LogField(), LogJsonKey(), LogLevelMap(), CsvSelect(), JsonKeyCase())
