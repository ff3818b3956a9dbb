"""Code one-liners: SQL statements and clauses, regexes, globs, URLs, shell and git command lines, imports, tests."""

from __future__ import annotations

import posixpath
import random

from .. import vocab
from ..base import Family, Params
from ..text import capitalize, kv_input, mapping_sentence, parse_kv

# ---------------------------------------------------------------------------------------------------------------------
# SQL
# ---------------------------------------------------------------------------------------------------------------------

_SQL_TABLES: dict[str, tuple[str, ...]] = {
    "orders": ("id", "customer_id", "total", "status", "created_at"),
    "users": ("id", "email", "name", "role", "last_login"),
    "invoices": ("id", "number", "amount", "due_date", "paid"),
    "sessions": ("id", "user_id", "device_id", "expires_at", "ip"),
    "payments": ("id", "order_id", "amount", "currency", "state"),
    "audit_log": ("id", "actor", "action", "target", "logged_at"),
}


def _sql_columns(rng: random.Random, table: str, low: int, high: int) -> list[str]:
    columns = list(_SQL_TABLES[table][1:])
    return rng.sample(columns, rng.randint(low, min(high, len(columns))))


def _keywords(text: str, case: str) -> str:
    return text.upper() if case == "upper" else text.lower()


def _keyword_rule(case: str, examples: str) -> str:
    return (
        f"Write every SQL keyword ({examples}) in uppercase; table and column names stay as given."
        if case == "upper"
        else f"Write every SQL keyword ({examples.lower()}) in lowercase; table and column names stay as given."
    )


_QUOTES = {"none": "{}", "double": '"{}"', "backtick": "`{}`"}
_QUOTE_RULES = {
    "none": "Write table and column names bare, without quotes.",
    "double": 'Wrap every table and column name in double quotes, as in `"id"`.',
    "backtick": "Wrap every table and column name in backtick characters (the MySQL style).",
}


def _quote(name: str, style: str) -> str:
    return _QUOTES[style].format(name)


_PLACEHOLDER_RULES = {
    "?": "Every placeholder is a bare `?`.",
    "$n": "Placeholders are numbered `$1`, `$2`, `$3`, ... in the order they appear in the statement.",
    ":name": "Each placeholder is a colon followed by its column name, as in `:email`; it is never quoted.",
}


def _placeholder(style: str, column: str, index: int) -> str:
    return {"?": "?", "$n": f"${index}", ":name": f":{column}"}[style]


class SqlSelectQuery(Family):
    name = "sql_select_query"
    title = "SELECT one-liners"
    summary = "Writes single-line SELECT queries with a row limit in the team's SQL style."
    output_noun = "SQL query"
    space = {
        "keywords": ("upper", "lower"),
        "quote": ("none", "double", "backtick"),
        "limit": ("limit", "fetch", "top"),
    }
    requests = ("Write the query: {input}", "SQL for this please. {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        limit = {
            "limit": "Cap the rows with `LIMIT <n>` at the end of the query.",
            "fetch": "Cap the rows with `FETCH FIRST <n> ROWS ONLY` at the end of the query.",
            "top": "Cap the rows with `TOP <n>` directly after `SELECT`, before the columns.",
        }[p["limit"]]
        return [
            "Write `SELECT <columns> FROM <table>` on one line, the columns in the order given, separated by `, `.",
            limit,
            _keyword_rule(p["keywords"], "SELECT, FROM and the row-limit words"),
            _QUOTE_RULES[p["quote"]],
            "Do not end the query with a semicolon.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        table = rng.choice(list(_SQL_TABLES))
        columns = _sql_columns(rng, table, 2, 4)
        if rng.random() < 0.4:
            columns.insert(0, "id")
        rows = str(rng.choice((1, 10, 20, 50, 100)))
        return kv_input([("table", table), ("columns", ", ".join(columns)), ("max rows", rows)])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        columns = ", ".join(_quote(c, p["quote"]) for c in f["columns"].split(", "))
        table, n, kw = _quote(f["table"], p["quote"]), f["max rows"], p["keywords"]
        select, from_ = _keywords("SELECT", kw), _keywords("FROM", kw)
        if p["limit"] == "top":
            return f"{select} {_keywords('TOP', kw)} {n} {columns} {from_} {table}"
        tail = f"{_keywords('LIMIT', kw)} {n}" if p["limit"] == "limit" else _keywords(f"FETCH FIRST {n} ROWS ONLY", kw)
        return f"{select} {columns} {from_} {table} {tail}"


class SqlInsertStatement(Family):
    name = "sql_insert_statement"
    title = "INSERT statements"
    summary = "Writes parameterised single-line INSERT statements for the data-access layer."
    output_noun = "INSERT statement"
    space = {"placeholder": ("?", "$n", ":name"), "keywords": ("upper", "lower"), "returning": (False, True)}
    requests = ("INSERT statement for: {input}", "Write the insert. {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        returning = (
            "Finish with `RETURNING id` so the new row's id comes back."
            if p["returning"]
            else "Do not add a RETURNING clause."
        )
        return [
            "Write `INSERT INTO <table> (<columns>) VALUES (<placeholders>)`: the columns in the order given, "
            "separated by `, `, and one placeholder per column in the same order, also separated by `, `.",
            _PLACEHOLDER_RULES[p["placeholder"]],
            returning,
            _keyword_rule(p["keywords"], "INSERT INTO, VALUES, RETURNING"),
            "Do not end the statement with a semicolon.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        table = rng.choice(list(_SQL_TABLES))
        return kv_input([("table", table), ("columns", ", ".join(_sql_columns(rng, table, 2, 3)))])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        columns = f["columns"].split(", ")
        values = ", ".join(_placeholder(p["placeholder"], c, i) for i, c in enumerate(columns, 1))
        kw = p["keywords"]
        sql = f"{_keywords('INSERT INTO', kw)} {f['table']} ({', '.join(columns)}) {_keywords('VALUES', kw)} ({values})"
        return sql + (f" {_keywords('RETURNING', kw)} id" if p["returning"] else "")


class SqlUpdateStatement(Family):
    name = "sql_update_statement"
    title = "UPDATE statements"
    summary = "Writes parameterised single-line UPDATE statements."
    output_noun = "UPDATE statement"
    space = {"placeholder": ("?", "$n", ":name"), "quote": ("none", "double"), "semicolon": (False, True)}
    requests = ("UPDATE for: {input}", "Write the update statement. {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        return [
            "Write `UPDATE <table> SET <column> = <placeholder>, ... WHERE <key> = <placeholder>` with uppercase "
            "keywords: the SET columns in the order given, separated by `, `; several WHERE keys joined by ` AND `.",
            _PLACEHOLDER_RULES[p["placeholder"]],
            _QUOTE_RULES[p["quote"]],
            "End the statement with `;`." if p["semicolon"] else "Do not end the statement with a semicolon.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        table = rng.choice(list(_SQL_TABLES))
        columns = _SQL_TABLES[table]
        sets = rng.sample(columns[2:], rng.randint(1, 2))
        keys = ["id"] if rng.random() < 0.6 else [columns[1], "id"]
        return kv_input([("table", table), ("set", ", ".join(sets)), ("where", ", ".join(keys))])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        sets, keys = f["set"].split(", "), f["where"].split(", ")
        q, ph = (lambda c: _quote(c, p["quote"])), p["placeholder"]
        set_sql = ", ".join(f"{q(c)} = {_placeholder(ph, c, i)}" for i, c in enumerate(sets, 1))
        where = " AND ".join(f"{q(c)} = {_placeholder(ph, c, i)}" for i, c in enumerate(keys, len(sets) + 1))
        return f"UPDATE {q(f['table'])} SET {set_sql} WHERE {where}" + (";" if p["semicolon"] else "")


class SqlDeleteStatement(Family):
    name = "sql_delete_statement"
    title = "Deleting rows"
    summary = "Writes the single-line statement that deletes matching rows, hard or soft."
    output_noun = "delete statement"
    space = {"mode": ("hard", "soft"), "placeholder": ("?", "$n", ":name"), "keywords": ("upper", "lower")}
    requests = ("Delete statement for: {input}", "How do we delete these rows? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        mode = (
            "Delete rows for real: `DELETE FROM <table> WHERE <conditions>`."
            if p["mode"] == "hard"
            else "We never delete rows; soft-delete them instead: "
            "`UPDATE <table> SET deleted_at = NOW() WHERE <conditions>`."
        )
        return [
            mode,
            "Each condition is `<column> = <placeholder>`, in the order given, joined by ` AND `.",
            _PLACEHOLDER_RULES[p["placeholder"]],
            _keyword_rule(p["keywords"], "DELETE FROM, UPDATE, SET, NOW, WHERE, AND"),
            "Do not end the statement with a semicolon.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        table = rng.choice(list(_SQL_TABLES))
        return kv_input([("table", table), ("match", ", ".join(_sql_columns(rng, table, 1, 2)))])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        kw = p["keywords"]
        conditions = f" {_keywords('AND', kw)} ".join(
            f"{c} = {_placeholder(p['placeholder'], c, i)}" for i, c in enumerate(f["match"].split(", "), 1)
        )
        head = (
            f"{_keywords('DELETE FROM', kw)} {f['table']}"
            if p["mode"] == "hard"
            else f"{_keywords('UPDATE', kw)} {f['table']} {_keywords('SET', kw)} deleted_at = {_keywords('NOW()', kw)}"
        )
        return f"{head} {_keywords('WHERE', kw)} {conditions}"


# (column, ascending phrase, descending phrase)
_SORT_KEYS = (
    ("created_at", "oldest first", "newest first"),
    ("updated_at", "oldest first", "newest first"),
    ("due_date", "oldest first", "newest first"),
    ("last_name", "A to Z", "Z to A"),
    ("email", "A to Z", "Z to A"),
    ("title", "A to Z", "Z to A"),
    ("total", "lowest first", "highest first"),
    ("score", "lowest first", "highest first"),
    ("priority", "lowest first", "highest first"),
)
_DESCENDING = ("newest first", "Z to A", "highest first")


class SqlOrderBy(Family):
    name = "sql_order_by"
    title = "ORDER BY clauses"
    summary = "Turns a described sort order into an SQL ORDER BY clause."
    output_noun = "ORDER BY clause"
    space = {"keywords": ("upper", "lower"), "asc": ("explicit", "implicit"), "nulls": ("none", "last", "first")}
    requests = ("ORDER BY clause for: {input}", "Sort like this: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        asc = (
            "Follow every key with its direction: `DESC` or `ASC`."
            if p["asc"] == "explicit"
            else "Follow a descending key with `DESC`; leave an ascending key bare, without `ASC`."
        )
        nulls = {
            "none": "Do not add a NULLS clause.",
            "last": "Put `NULLS LAST` after every key, after its direction if it has one.",
            "first": "Put `NULLS FIRST` after every key, after its direction if it has one.",
        }[p["nulls"]]
        return [
            "Write `ORDER BY` and then the sort keys in the order given, separated by `, `.",
            "Newest first, highest first and Z to A are descending; oldest first, lowest first and A to Z ascending.",
            asc,
            nulls,
            _keyword_rule(p["keywords"], "ORDER BY, ASC, DESC, NULLS LAST, NULLS FIRST"),
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        keys = rng.sample(_SORT_KEYS, rng.randint(1, 3))
        parts = [f"{column} {rng.choice((up, down))}" for column, up, down in keys]
        return ", then ".join(parts)

    def answer(self, p: Params, text: str) -> str:
        kw = p["keywords"]
        keys = []
        for part in text.split(", then "):
            column, phrase = part.split(" ", 1)
            descending = phrase in _DESCENDING
            words = [column]
            if descending or p["asc"] == "explicit":
                words.append(_keywords("DESC" if descending else "ASC", kw))
            if p["nulls"] != "none":
                words.append(_keywords(f"NULLS {p['nulls']}", kw))
            keys.append(" ".join(words))
        return f"{_keywords('ORDER BY', kw)} " + ", ".join(keys)


_CONDITION_OPS = {"is not": "<>", "is": "=", "over": ">", "under": "<", "at least": ">=", "at most": "<="}
_TEXT_FILTERS = (("status", ("active", "pending", "failed")), ("plan", ("free", "pro")), ("region", ("eu", "us")))
_NUMBER_FILTERS = (("retries", (0, 3, 5)), ("age", (18, 21)), ("amount", (100, 250)), ("score", (50, 80)))


class SqlWhereClause(Family):
    name = "sql_where_clause"
    title = "WHERE clauses"
    summary = "Builds the WHERE clause of a query from plain-language conditions."
    output_noun = "WHERE clause"
    space = {"values": ("inline", "qmark", "named"), "keywords": ("upper", "lower"), "lead": (True, False)}
    requests = ("WHERE clause for: {input}", "Filter condition for {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        values = {
            "inline": "Write values inline: text in single quotes (`'active'`), numbers bare.",
            "qmark": "Never inline a value: write `?` in its place.",
            "named": "Never inline a value: write a colon and the column name in its place (`:status`).",
        }[p["values"]]
        lead = (
            "Start the clause with the `WHERE` keyword."
            if p["lead"]
            else "Leave out the `WHERE` keyword: the query builder adds it."
        )
        return [
            f"Each condition becomes `<column> <operator> <value>`; operators: {mapping_sentence(_CONDITION_OPS)}.",
            "Keep the conditions in the order given and join them with `AND`, one space on either side.",
            values,
            lead,
            _keyword_rule(p["keywords"], "WHERE, AND"),
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        conditions = []
        pool = [("text", c) for c in _TEXT_FILTERS] + [("number", c) for c in _NUMBER_FILTERS]
        for kind, (column, values) in rng.sample(pool, rng.randint(2, 3)):
            ops = ("is", "is not") if kind == "text" else ("over", "under", "at least", "at most", "is")
            conditions.append(f"{column} {rng.choice(ops)} {rng.choice(values)}")
        return ", ".join(conditions)

    def answer(self, p: Params, text: str) -> str:
        parts = []
        for condition in text.split(", "):
            column, rest = condition.split(" ", 1)
            phrase, value = rest.rsplit(" ", 1)
            if p["values"] == "inline":
                value = value if value.isdigit() else f"'{value}'"
            else:
                value = "?" if p["values"] == "qmark" else f":{column}"
            parts.append(f"{column} {_CONDITION_OPS[phrase]} {value}")
        clause = f" {_keywords('AND', p['keywords'])} ".join(parts)
        return f"{_keywords('WHERE', p['keywords'])} {clause}" if p["lead"] else clause


# ---------------------------------------------------------------------------------------------------------------------
# Regexes and globs
# ---------------------------------------------------------------------------------------------------------------------

_REGEX_SPECIAL = ".*+?(){}|$"
_REGEX_LITERALS = (
    "api.example.com",
    "v2.1.0",
    "price (USD)",
    "*.log",
    "a+b",
    "what?",
    "$HOME/bin",
    "cache|redis",
    "user.id",
    "/api/v1/users/{id}",
    "{id}",
    "1+1=2",
    "C++ (GCC)",
    "docs/index.html",
)


class RegexLiteralMatch(Family):
    name = "regex_literal_match"
    title = "Regexes for literal text"
    summary = "Writes a regular expression that matches a piece of literal text."
    output_noun = "regex"
    space = {"escape": ("backslash", "class"), "anchors": ("none", "line", "word"), "delimiters": ("bare", "slashes")}
    requests = ("Regex that matches {input}", "I need a pattern for the literal text: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        escape = (
            "Escape each special character with a backslash in front (`.` -> `\\.`)."
            if p["escape"] == "backslash"
            else "Escape each special character by putting it alone in square brackets (`.` -> `[.]`)."
        )
        anchors = {
            "none": "Add no anchors: the pattern may match anywhere.",
            "line": "Anchor the pattern: `^` at the start and `$` at the end.",
            "word": "Put `\\b` at the start and at the end of the pattern.",
        }[p["anchors"]]
        delimiters = (
            "Write the bare pattern, without delimiters."
            if p["delimiters"] == "bare"
            else "Write it as a JavaScript regex literal between `/` and `/`, and write every `/` of the text as `\\/`."
        )
        return [
            f"The special characters are `{' '.join(_REGEX_SPECIAL)}`; every other character stays as it is.",
            escape,
            anchors,
            delimiters,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return rng.choice(_REGEX_LITERALS)

    def answer(self, p: Params, text: str) -> str:
        out = []
        for char in text:
            if char in _REGEX_SPECIAL:
                out.append("\\" + char if p["escape"] == "backslash" else f"[{char}]")
            elif char == "/" and p["delimiters"] == "slashes":
                out.append("\\/")
            else:
                out.append(char)
        pattern = "".join(out)
        pattern = {"none": "{}", "line": "^{}$", "word": "\\b{}\\b"}[p["anchors"]].format(pattern)
        return f"/{pattern}/" if p["delimiters"] == "slashes" else pattern


_ID_PREFIXES = ("INV-", "PAY-", "ORD-", "build.", "rel_", "user.", "TKT", "job-")


class RegexIdPattern(Family):
    name = "regex_id_pattern"
    title = "ID validation patterns"
    summary = "Writes the regex that validates an identifier made of a fixed prefix and digits."
    output_noun = "regex"
    space = {"digit": ("\\d", "[0-9]"), "anchors": ("line", "string", "none"), "case": ("exact", "insensitive")}
    requests = ("Validation regex for IDs like this: {input}", "Pattern for {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        anchors = {
            "line": "Anchor the pattern with `^` at the start and `$` at the end.",
            "string": "Anchor the pattern with `\\A` at the start and `\\Z` at the end.",
            "none": "Add no anchors: the code calls fullmatch.",
        }[p["anchors"]]
        case = (
            "The prefix is case-sensitive; add no flags."
            if p["case"] == "exact"
            else "The prefix is case-insensitive: begin the whole pattern with `(?i)`, before any anchor."
        )
        return [
            "Write the prefix literally, escaping a `.` as `\\.`; no other prefix character needs escaping.",
            f"Then one digit token `{p['digit']}` with a count: `{{n}}` for exactly n digits, "
            "`{m,n}` for m to n digits.",
            anchors,
            case,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        low = rng.randint(1, 4)
        count = str(rng.randint(4, 8)) if rng.random() < 0.5 else f"{low} to {low + rng.randint(2, 6)}"
        return f"prefix {rng.choice(_ID_PREFIXES)} then {count} digits"

    def answer(self, p: Params, text: str) -> str:
        prefix, count = text.removeprefix("prefix ").removesuffix(" digits").split(" then ")
        quantifier = "{" + count.replace(" to ", ",") + "}"
        body = prefix.replace(".", "\\.") + p["digit"] + quantifier
        body = {"line": "^{}$", "string": "\\A{}\\Z", "none": "{}"}[p["anchors"]].format(body)
        return ("(?i)" if p["case"] == "insensitive" else "") + body


_GLOB_FOLDERS = ("config", "src", "src/components", "docs", "assets/img", "migrations", "test/fixtures")
_GLOB_EXTENSIONS = (("yml", "yaml"), ("ts", "tsx"), ("js", "mjs", "cjs"), ("png", "jpg", "svg"), ("md", "mdx"))


class GlobPattern(Family):
    name = "glob_pattern"
    title = "Glob patterns"
    summary = "Writes the glob pattern that selects files by folder and extension."
    output_noun = "glob"
    space = {"braces": (True, False), "root": ("", "./", "/"), "sep": (" ", ", ")}
    requests = ("Glob for {input}", "Which pattern selects these files? {input}", "{input}")

    def valid(self, params: Params) -> bool:
        return not params["braces"] or params["sep"] == " "  # one brace pattern has nothing to separate

    def rules(self, p: Params) -> list[str]:
        root = {
            "": "Write the folder path as given, with nothing in front.",
            "./": "Start each pattern with `./` before the folder path.",
            "/": "Start each pattern with `/` before the folder path.",
        }[p["root"]]
        if p["braces"]:
            exts = "Write one pattern ending in `*.{<ext>,<ext>}`: the extensions in the order given, comma-separated."
        else:
            joiner = "single spaces" if p["sep"] == " " else "`, ` (comma and space)"
            exts = f"Write one pattern per extension, ending in `*.<ext>`, in the order given, separated by {joiner}."
        return [
            root,
            "After the folder put `/**/` when subfolders are included, or just `/` when they are not.",
            exts,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return kv_input(
            [
                ("folder", rng.choice(_GLOB_FOLDERS)),
                ("extensions", ", ".join(rng.choice(_GLOB_EXTENSIONS))),
                ("subfolders", rng.choice(("yes", "no"))),
            ]
        )

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        base = p["root"] + f["folder"] + ("/**/" if f["subfolders"] == "yes" else "/")
        exts = f["extensions"].split(", ")
        if p["braces"]:
            return base + "*.{" + ",".join(exts) + "}"
        return p["sep"].join(f"{base}*.{ext}" for ext in exts)


# ---------------------------------------------------------------------------------------------------------------------
# URLs
# ---------------------------------------------------------------------------------------------------------------------

_URL_BASES = (
    "https://api.example.com",
    "https://api.example.com/v2/",
    "https://example.io/api/",
    "http://localhost:8080",
)
_URL_PATHS = ("/users/42/orders", "search", "/invoices", "reports/weekly", "/teams/7/members", "items/")
_URL_TEXT_PARAMS = (("q", ("red shoes", "late fee", "new york")), ("name", ("Ana Lima", "Jo Kim")))
_URL_PARAMS = (("page", ("2", "10")), ("status", ("open", "paid")), ("limit", ("20", "50")), ("sort", ("date", "name")))


class UrlJoinQuery(Family):
    name = "url_join_query"
    title = "Building request URLs"
    summary = "Builds a full request URL from a base URL, a path and query parameters."
    output_noun = "URL"
    space = {"trailing": ("none", "slash"), "order": ("given", "sorted"), "space": ("%20", "+")}
    requests = ("Build the URL: {input}", "What URL do I call? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        trailing = (
            "The path never ends with `/`: drop a trailing slash."
            if p["trailing"] == "none"
            else "The path always ends with `/`, just before the `?`: add one if it is missing."
        )
        order = (
            "Keep the query parameters in the order given."
            if p["order"] == "given"
            else "Sort the query parameters alphabetically by name."
        )
        return [
            "Join the base URL and the path with exactly one `/` between them.",
            trailing,
            "Then `?` and the parameters as `name=value`, joined with `&`.",
            order,
            f"Write each space inside a value as `{p['space']}`; nothing else is encoded.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        name, values = rng.choice(_URL_TEXT_PARAMS)
        others = rng.sample(_URL_PARAMS, rng.randint(1, 2))
        params = [(name, rng.choice(values))] + [(k, rng.choice(v)) for k, v in others]
        rng.shuffle(params)
        query = ", ".join(f"{k}={v}" for k, v in params)
        return kv_input([("base", rng.choice(_URL_BASES)), ("path", rng.choice(_URL_PATHS)), ("params", query)])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        path = f["path"].strip("/") + ("/" if p["trailing"] == "slash" else "")
        pairs = [pair.split("=", 1) for pair in f["params"].split(", ")]
        if p["order"] == "sorted":
            pairs.sort(key=lambda pair: pair[0])
        query = "&".join(f"{k}={v.replace(' ', p['space'])}" for k, v in pairs)
        return f"{f['base'].rstrip('/')}/{path}?{query}"


_PERCENT_CODES = {
    " ": "20",
    "&": "26",
    "=": "3D",
    "?": "3F",
    "/": "2F",
    "#": "23",
    "%": "25",
    "+": "2B",
    ":": "3A",
    "@": "40",
    ",": "2C",
}
_PERCENT_TEXTS = (
    "docs/getting started",
    "a/b testing & rollout",
    "q&a: 50% off",
    "reports/2024 q1",
    "team@example.com/inbox",
    "size=10/20",
    "C# / .NET tips",
    "north/south, east+west",
    "is it live? see /status",
    "release notes/v2 #final",
    "cats & dogs/photos",
)


class PercentEncodeValue(Family):
    name = "percent_encode_value"
    title = "Percent-encoding values"
    summary = "Percent-encodes a text so it can go into a URL as a path segment or query value."
    output_noun = "encoded value"
    space = {"space": ("%20", "+"), "hex": ("upper", "lower"), "slash": ("encode", "keep")}
    requests = ("Percent-encode: {input}", "URL-encode this value: {input}", "{input}")

    def _code(self, p: Params, char: str) -> str:
        if char == " " and p["space"] == "+":
            return "+"
        if char == "/" and p["slash"] == "keep":
            return "/"
        code = _PERCENT_CODES[char]
        return "%" + (code if p["hex"] == "upper" else code.lower())

    def rules(self, p: Params) -> list[str]:
        table = {c: self._code({**p, "space": "%20", "slash": "encode"}, c) for c in _PERCENT_CODES if c != " "}
        listing = ", ".join(f"`{c}` -> `{code}`" for c, code in table.items())
        hex_rule = "uppercase" if p["hex"] == "upper" else "lowercase"
        return [
            "Keep letters, digits, `-`, `.`, `_` and `~` as they are.",
            f"Encode the other characters with these codes, hex digits in {hex_rule}: {listing}.",
            "Write a space as `+`." if p["space"] == "+" else f"Write a space as `{self._code(p, ' ')}`.",
            "Exception: keep `/` as it is." if p["slash"] == "keep" else "Encode `/` too, like any other character.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return rng.choice(_PERCENT_TEXTS)

    def answer(self, p: Params, text: str) -> str:
        return "".join(self._code(p, c) if c in _PERCENT_CODES else c for c in text)


# ---------------------------------------------------------------------------------------------------------------------
# Shell and git command lines
# ---------------------------------------------------------------------------------------------------------------------

_CLI_COMMANDS = ("deploy", "backup", "sync-assets", "./manage migrate", "loadgen", "tool export")
_CLI_VALUE_OPTIONS = (
    ("region", tuple(vocab.REGIONS)),
    ("replicas", ("2", "3", "5")),
    ("env", tuple(vocab.ENVIRONMENTS)),
    ("timeout", ("30s", "5m")),
    ("output", ("json", "table")),
    ("workers", ("4", "8")),
)
_CLI_FLAGS = ("dry-run", "verbose", "force", "no-cache", "wait")


class CliInvocation(Family):
    name = "cli_invocation"
    title = "Command invocations in runbooks"
    summary = "Writes the full command line that runs a tool with the given option values and switches."
    output_noun = "command line"
    space = {"order": ("given", "sorted", "switches_last"), "switches": ("bare", "explicit"), "join": ("=", " ")}
    requests = ("Command line for: {input}", "How do I run this? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        join = (
            "An option with a value is `--<name>=<value>`."
            if p["join"] == "="
            else "An option with a value is `--<name> <value>`, with a space."
        )
        switches = (
            "A switch (an option without a value) is just `--<name>`."
            if p["switches"] == "bare"
            else "A switch (an option without a value) is spelled out as `--<name>=true`, always with `=`."
        )
        order = {
            "given": "Keep all options in the order given.",
            "sorted": "Sort all options alphabetically by name, switches and options with values mixed.",
            "switches_last": "Options with a value come first, then the switches, each group in the order given.",
        }[p["order"]]
        return ["Write the command first, then the options, separated by single spaces.", join, switches, order]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        options = [f"{name} {rng.choice(values)}" for name, values in rng.sample(_CLI_VALUE_OPTIONS, rng.randint(1, 3))]
        options += rng.sample(_CLI_FLAGS, rng.randint(1, 2))
        rng.shuffle(options)
        return kv_input([("command", rng.choice(_CLI_COMMANDS)), ("options", ", ".join(options))])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        options = [o.split(" ", 1) for o in f["options"].split(", ")]
        if p["order"] == "sorted":
            options.sort(key=lambda o: o[0])
        elif p["order"] == "switches_last":
            options.sort(key=lambda o: len(o) == 1)
        switch = "" if p["switches"] == "bare" else "=true"
        parts = [f"--{o[0]}" + (p["join"] + o[1] if len(o) > 1 else switch) for o in options]
        return " ".join([f["command"]] + parts)


# command -> (options, plain operands, operands that need quoting)
_QUOTE_COMMANDS = {
    "grep": (("-rn", "-i", "-l"), ("TODO", "src", "README.md"), ("TODO list", "it's broken", "error: timeout")),
    "cp": (("-r", "-v"), ("notes.txt", "backup/", "dist"), ("my notes.txt", "Q1 report.pdf", "it's final.doc")),
    "mv": (("-n", "-v"), ("archive/", "notes.txt"), ("old notes.txt", "Mike's notes.md", "$OUT_DIR")),
    "rm": (("-f", "-v"), ("build.log", "tmp/cache"), ("old build.log", "tmp/*.bak", "John's draft.md")),
}
_SHELL_SPECIAL = " '\"$*&;|"


class ShellArgQuoting(Family):
    name = "shell_arg_quoting"
    title = "Quoting shell arguments"
    summary = "Writes shell command lines with arguments quoted the way the team's scripts do."
    output_noun = "command line"
    space = {"style": ("single", "double"), "scope": ("needed", "operands"), "dashdash": (False, True)}
    requests = ("Shell command for: {input}", "Quote this properly: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        style = (
            "Quote with single quotes; write an apostrophe inside the argument as `'\\''`."
            if p["style"] == "single"
            else "Quote with double quotes; put a backslash before any `$`, `\"` or backslash inside the argument."
        )
        scope = (
            "Quote an argument only when it contains a space, `'`, `\"`, `$`, `*`, `&`, `;` or `|`; "
            "never quote options (arguments starting with `-`)."
            if p["scope"] == "needed"
            else "Quote every argument that does not start with `-`; never quote options."
        )
        dashdash = (
            "Put `--` after the last option (an argument starting with `-`), before the first other argument."
            if p["dashdash"]
            else "Do not add `--` anywhere."
        )
        return [
            "Write the command, then the arguments (given in brackets) in the order given, separated by single spaces.",
            scope,
            style,
            dashdash,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        command = rng.choice(list(_QUOTE_COMMANDS))
        options, plain, special = _QUOTE_COMMANDS[command]
        operands = [rng.choice(special)] + rng.sample(plain, rng.randint(0, 1))
        rng.shuffle(operands)
        args = rng.sample(options, rng.randint(1, 2)) + operands
        return f"{command} " + " ".join(f"[{a}]" for a in args)

    def _quote(self, p: Params, arg: str) -> str:
        if arg.startswith("-"):
            return arg
        if p["scope"] == "needed" and not any(c in _SHELL_SPECIAL for c in arg):
            return arg
        if p["style"] == "single":
            return "'" + arg.replace("'", "'\\''") + "'"
        return '"' + "".join("\\" + c if c in '$"\\' else c for c in arg) + '"'

    def answer(self, p: Params, text: str) -> str:
        command, rest = text.split(" ", 1)
        args = rest[1:-1].split("] [")
        words = [command]
        for i, arg in enumerate(args):
            if p["dashdash"] and not arg.startswith("-") and (i == 0 or args[i - 1].startswith("-")):
                words.append("--")
            words.append(self._quote(p, arg))
        return " ".join(words)


_ENV_COMMANDS = ("npm test", "pytest -q", "node server.js", "go test ./...", "make build", "yarn start")
_ENV_VARS = (
    ("NODE_ENV", ("test", "production")),
    ("CI", ("true", "1")),
    ("LOG_LEVEL", ("debug", "warn")),
    ("PORT", ("3000", "8080")),
    ("APP_NAME", ("billing api", "demo app")),
    ("TZ", ("UTC", "Europe/Berlin")),
    ("GREETING", ("hello world", "hi there")),
)


class EnvVarPrefix(Family):
    name = "env_var_prefix"
    title = "Environment variables on the command line"
    summary = "Writes a command line that runs a command with extra environment variables."
    output_noun = "command line"
    space = {
        "form": ("inline", "env", "cross-env", "export"),
        "order": ("given", "sorted"),
        "quote": ("needed", "always"),
    }
    requests = ("Run it like this: {input}", "Command line with these env vars: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        form = {
            "inline": "Write the assignments in front of the command: `<assignments> <command>`.",
            "env": "Run it through env: `env <assignments> <command>`.",
            "cross-env": "Run it through cross-env so it works on Windows: `npx cross-env <assignments> <command>`.",
            "export": "Export first, then run: `export <assignments> && <command>`.",
        }[p["form"]]
        order = (
            "Keep the variables in the order given."
            if p["order"] == "given"
            else "Sort the variables alphabetically by name."
        )
        quote = (
            "Wrap a value in double quotes only when it contains a space."
            if p["quote"] == "needed"
            else "Wrap every value in double quotes."
        )
        return [form, "The assignments are `NAME=value` pairs separated by single spaces.", order, quote]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        pairs = [f"{name}={rng.choice(values)}" for name, values in rng.sample(_ENV_VARS, rng.randint(2, 3))]
        return kv_input([("command", rng.choice(_ENV_COMMANDS)), ("env", ", ".join(pairs))])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        pairs = [pair.split("=", 1) for pair in f["env"].split(", ")]
        if p["order"] == "sorted":
            pairs.sort(key=lambda pair: pair[0])
        quoted = lambda v: f'"{v}"' if p["quote"] == "always" or " " in v else v  # noqa: E731
        assignments = " ".join(f"{k}={quoted(v)}" for k, v in pairs)
        return {
            "inline": "{a} {c}",
            "env": "env {a} {c}",
            "cross-env": "npx cross-env {a} {c}",
            "export": "export {a} && {c}",
        }[p["form"]].format(a=assignments, c=f["command"])


_COMMIT_FLAGS = (("stage tracked files", "a", "all"), ("sign off", "s", "signoff"), ("skip hooks", "n", "no-verify"))


class GitCommitCommand(Family):
    name = "git_commit_command"
    title = "git commit command lines"
    summary = "Writes the git commit command line for a described commit, as our docs and runbooks show it."
    output_noun = "git command"
    space = {"flags": ("short", "bundled", "long"), "quote": ("double", "single"), "prompt": ("", "$ ")}
    requests = ("git command for: {input}", "How do I commit this? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        options = {
            "short": "Use short options, each on its own: `-a` stage tracked files, `-s` sign off, `-n` skip hooks, "
            "`-m <message>` the message.",
            "bundled": "Use short options bundled into one group that ends with `m`, followed by the message: "
            "`a` stage tracked files, `s` sign off, `n` skip hooks (so `-asm <message>`, or `-m <message>` alone).",
            "long": "Use long options: `--all` stage tracked files, `--signoff` sign off, `--no-verify` skip hooks, "
            "`--message <message>` the message.",
        }[p["flags"]]
        quote = "Wrap the message in double quotes." if p["quote"] == "double" else "Wrap the message in single quotes."
        prompt = (
            "Start the line with the shell prompt `$` and a space."
            if p["prompt"]
            else "Start the line with `git`, with no shell prompt."
        )
        return [
            "Write `git commit`, then the options for the answers that are yes, in the order stage, sign off, "
            "skip hooks, and the message option last.",
            options,
            quote,
            prompt,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        answers = [(label, rng.choice(("yes", "no"))) for label, _, _ in _COMMIT_FLAGS]
        if all(value == "no" for _, value in answers):
            i = rng.randrange(3)
            answers[i] = (answers[i][0], "yes")
        return kv_input([("message", vocab.summary(rng))] + answers)

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        chosen = [(short, long) for label, short, long in _COMMIT_FLAGS if f[label] == "yes"]
        q = '"' if p["quote"] == "double" else "'"
        message = f"{q}{f['message']}{q}"
        if p["flags"] == "short":
            options = [f"-{s}" for s, _ in chosen] + [f"-m {message}"]
        elif p["flags"] == "bundled":
            options = ["-" + "".join(s for s, _ in chosen) + f"m {message}"]
        else:
            options = [f"--{long}" for _, long in chosen] + [f"--message {message}"]
        return p["prompt"] + "git commit " + " ".join(options)


_SCRIPT_ACTIONS = ("test", "lint", "build", "start", "check")
_SCRIPT_TARGETS = ("unit", "api", "web", "docs", "e2e", "styles")
_SCRIPT_VARIANTS = ("none", "none", "watch", "ci", "fix", "prod")
_RUNNERS = ("npm run", "yarn", "pnpm", "make")


class ScriptRunCommand(Family):
    name = "script_run_command"
    title = "Running project scripts"
    summary = "Names a project script (package.json or Makefile) and gives the command that runs it."
    output_noun = "command"
    space = {"runner": _RUNNERS, "sep": (":", "-"), "order": ("action_first", "target_first")}
    requests = ("Which command runs this? {input}", "Script command for: {input}", "{input}")

    def valid(self, params: Params) -> bool:
        return not (params["runner"] == "make" and params["sep"] == ":")  # a colon cannot appear in a make target

    def rules(self, p: Params) -> list[str]:
        order = (
            "The script name is the action, then the target"
            if p["order"] == "action_first"
            else "The script name is the target, then the action"
        )
        runner = f"Run scripts with `{p['runner']} <script>`."
        return [
            f"{order}, then the variant if there is one (none means no variant), joined with `{p['sep']}`.",
            runner,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return kv_input(
            [
                ("action", rng.choice(_SCRIPT_ACTIONS)),
                ("target", rng.choice(_SCRIPT_TARGETS)),
                ("variant", rng.choice(_SCRIPT_VARIANTS)),
            ]
        )

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        words = [f["action"], f["target"]] if p["order"] == "action_first" else [f["target"], f["action"]]
        if f["variant"] != "none":
            words.append(f["variant"])
        return f"{p['runner']} {p['sep'].join(words)}"


_CURL_URLS = (
    "https://api.acme.dev/orders",
    "https://api.acme.dev/v1/users/42",
    "https://acme.io/invoices?status=open",
    "http://localhost:8080/health",
    "https://search.acme.dev/query",
)
_CURL_HEADERS = (
    "Accept: application/json",
    "Content-Type: application/json",
    "Authorization: Bearer $TOKEN",
    "X-Request-Id: 7f3a9c",
)


class CurlCommandLine(Family):
    name = "curl_command_line"
    title = "curl commands in docs"
    summary = "Writes the curl command line that reproduces an HTTP request in docs and tickets."
    output_noun = "curl command"
    space = {"flags": ("short", "long"), "quote": ("single", "double"), "order": ("method_first", "url_first")}
    requests = ("curl command for: {input}", "How do I call this with curl? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        flags = (
            "Use short options: `-X <method>` and `-H <header>`."
            if p["flags"] == "short"
            else "Use long options: `--request <method>` and `--header <header>`."
        )
        order = (
            "Write `curl`, the method option, the header option, then the URL last."
            if p["order"] == "method_first"
            else "Write `curl`, the URL right after it, then the method option and the header option."
        )
        quote = "single quotes" if p["quote"] == "single" else "double quotes"
        return [
            order,
            flags,
            "Always give the method, even for GET.",
            f"Wrap the URL and the header in {quote}; the method stays bare.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        method = rng.choice(("GET", "POST", "PUT", "DELETE", "PATCH"))
        return kv_input([("method", method), ("url", rng.choice(_CURL_URLS)), ("header", rng.choice(_CURL_HEADERS))])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        q = "'" if p["quote"] == "single" else '"'
        method_flag, header_flag = ("-X", "-H") if p["flags"] == "short" else ("--request", "--header")
        options = f"{method_flag} {f['method']} {header_flag} {q}{f['header']}{q}"
        url = f"{q}{f['url']}{q}"
        return f"curl {options} {url}" if p["order"] == "method_first" else f"curl {url} {options}"


# ---------------------------------------------------------------------------------------------------------------------
# Code lines: imports, signatures, assertions, docstrings, logging
# ---------------------------------------------------------------------------------------------------------------------

_TS_MODULES = (
    ("src/utils/dates.ts", ("parseDate", "formatDate")),
    ("src/api/client.ts", ("apiClient", "ApiError")),
    ("src/components/Button.tsx", ("Button",)),
    ("src/hooks/useAuth.ts", ("useAuth",)),
    ("src/lib/money.ts", ("formatPrice", "toCents")),
    ("src/store/cart.ts", ("addItem", "CartState")),
)
_TS_FILES = (
    "src/api/orders.ts",
    "src/pages/checkout/Summary.tsx",
    "src/components/Header.tsx",
    "src/utils/format.ts",
    "src/features/billing/InvoiceList.tsx",
    "src/index.ts",
)


class TsImportLine(Family):
    name = "ts_import_line"
    title = "TypeScript imports"
    summary = "Writes the import line a TypeScript file needs for names from another module."
    output_noun = "import statement"
    space = {
        "path": ("relative", "alias"),
        "quote": ("double", "single"),
        "semicolon": (True, False),
        "braces": ("spaced", "tight"),
    }
    requests = ("Import line for: {input}", "How do I import this? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        path = (
            "The module path is relative to the importing file's folder and starts with `./` or `../`."
            if p["path"] == "relative"
            else "The module path uses the `@/` alias: replace the leading `src/` of the module's path with `@/`."
        )
        braces = (
            "`{ a, b }`, with a space inside each brace"
            if p["braces"] == "spaced"
            else "`{a, b}`, with no space inside the braces"
        )
        quote = "double quotes" if p["quote"] == "double" else "single quotes"
        return [
            f"Write `import {{ <names> }} from <path>` with the names in the order given, written as {braces}.",
            path,
            "Drop the `.ts` or `.tsx` extension from the module path.",
            f"Wrap the path in {quote}.",
            "End the statement with `;`." if p["semicolon"] else "Do not end the statement with a semicolon.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        module, names = rng.choice(_TS_MODULES)
        importer = rng.choice([f for f in _TS_FILES if f != module])
        chosen = list(names) if rng.random() < 0.5 else [rng.choice(names)]
        return f"{', '.join(chosen)} from {module} into {importer}"

    def answer(self, p: Params, text: str) -> str:
        names, rest = text.split(" from ")
        module, importer = rest.split(" into ")
        stem = posixpath.splitext(module)[0]
        if p["path"] == "alias":
            path = "@/" + stem.removeprefix("src/")
        else:
            path = posixpath.relpath(stem, posixpath.dirname(importer))
            path = path if path.startswith("../") else "./" + path
        q = '"' if p["quote"] == "double" else "'"
        braces = f"{{ {names} }}" if p["braces"] == "spaced" else f"{{{names}}}"
        return f"import {braces} from {q}{path}{q}" + (";" if p["semicolon"] else "")


_SIG_NAMES = ("fetch_orders", "find_users", "load_report", "send_digest", "list_invoices", "search_items")
_SIG_REQUIRED = (
    ("customer_id", "int"),
    ("user", "User"),
    ("path", "Path"),
    ("query", "str"),
    ("items", "list of Item"),
)
_SIG_DEFAULTS = (
    ("limit", "int", "20"),
    ("timeout", "float", "5.0"),
    ("retries", "int", "3"),
    ("strict", "bool", "False"),
)
_SIG_OPTIONAL = (("status", "str"), ("since", "datetime"), ("tags", "list of str"), ("parent", "Node"))
_SIG_RETURNS = ("list of Order", "dict of str to int", "optional User", "list of str", "optional Report")


class PythonSignature(Family):
    name = "python_signature"
    title = "Typed function signatures"
    summary = "Writes the `def` line of a Python function with type hints in the house style."
    output_noun = "function signature"
    space = {"optional": ("union", "Optional"), "generics": ("builtin", "typing"), "kwonly": (False, True)}
    requests = ("Signature for: {input}", "Write the def line. {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        generics = (
            "Write `list of X` as `list[X]` and `dict of K to V` as `dict[K, V]`."
            if p["generics"] == "builtin"
            else "Write `list of X` as `List[X]` and `dict of K to V` as `Dict[K, V]` (from typing)."
        )
        optional = (
            "Write an optional type X as `X | None`."
            if p["optional"] == "union"
            else "Write an optional type X as `Optional[X]`."
        )
        kwonly = (
            "Put a bare `*` before the first argument that has a default, so those are keyword-only."
            if p["kwonly"]
            else "Do not add a bare `*`; every argument may be passed by position."
        )
        return [
            "Write `def <name>(<arg>: <type>, ...) -> <return type>:` on one line, the arguments in the order given.",
            "An argument with a default is `<arg>: <type> = <default>`; an optional argument defaults to `None`.",
            generics,
            optional,
            kwonly,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        args = [f"{n} {t}" for n, t in rng.sample(_SIG_REQUIRED, 1)]
        args += [f"{n} {t} default {d}" for n, t, d in rng.sample(_SIG_DEFAULTS, rng.randint(0, 1))]
        args += [f"{n} optional {t}" for n, t in rng.sample(_SIG_OPTIONAL, 1)]
        fields = [("name", rng.choice(_SIG_NAMES)), ("args", ", ".join(args)), ("returns", rng.choice(_SIG_RETURNS))]
        return kv_input(fields)

    def _type(self, p: Params, text: str) -> str:
        if text.startswith("optional "):
            inner = self._type(p, text.removeprefix("optional "))
            return f"{inner} | None" if p["optional"] == "union" else f"Optional[{inner}]"
        typing = p["generics"] == "typing"
        if text.startswith("list of "):
            return f"{'List' if typing else 'list'}[{self._type(p, text.removeprefix('list of '))}]"
        if text.startswith("dict of "):
            key, value = text.removeprefix("dict of ").split(" to ")
            return f"{'Dict' if typing else 'dict'}[{key}, {value}]"
        return text

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        args, star_done = [], False
        for spec in f["args"].split(", "):
            name, rest = spec.split(" ", 1)
            default = None
            if " default " in rest:
                rest, default = rest.split(" default ")
            elif rest.startswith("optional "):
                default = "None"
            if default is not None and p["kwonly"] and not star_done:
                args.append("*")
                star_done = True
            args.append(f"{name}: {self._type(p, rest)}" + (f" = {default}" if default is not None else ""))
        return f"def {f['name']}({', '.join(args)}) -> {self._type(p, f['returns'])}:"


_ASSERT_FORMS = {
    "pytest": {
        "equal": "assert {a} == {e}{m}",
        "not equal": "assert {a} != {e}{m}",
        "contains": "assert {e} in {a}{m}",
        "true": "assert {a}{m}",
    },
    "unittest": {
        "equal": "self.assertEqual({a}, {e}{m})",
        "not equal": "self.assertNotEqual({a}, {e}{m})",
        "contains": "self.assertIn({e}, {a}{m})",
        "true": "self.assertTrue({a}{m})",
    },
    "testify": {
        "equal": "assert.Equal(t, {e}, {a}{m})",
        "not equal": "assert.NotEqual(t, {e}, {a}{m})",
        "contains": "assert.Contains(t, {a}, {e}{m})",
        "true": "assert.True(t, {a}{m})",
    },
    "jest": {
        "equal": "expect({a}).toBe({e})",
        "not equal": "expect({a}).not.toBe({e})",
        "contains": "expect({a}).toContain({e})",
        "true": "expect({a}).toBeTruthy()",
    },
    "chai": {
        "equal": "expect({a}{m}).to.equal({e})",
        "not equal": "expect({a}{m}).to.not.equal({e})",
        "contains": "expect({a}{m}).to.include({e})",
        "true": "expect({a}{m}).to.be.true",
    },
}
_ASSERT_CASES = {
    "equal": (("total", "42"), ("count", "0"), ("user.role", "expected"), ("resp.status", "200")),
    "not equal": (("token", "old_token"), ("total", "0"), ("next_id", "last_id")),
    "contains": (("names", "name"), ("errors", "message"), ("ids", "order_id")),
    "true": (("ok", ""), ("user.active", ""), ("found", "")),
}
_ASSERT_MESSAGES = ("wrong total", "unexpected status", "token was not rotated", "missing entry", "user inactive")


class AssertionLine(Family):
    name = "test_assertion_line"
    title = "Assertions in tests"
    summary = "Writes one assertion line in the test framework the project uses."
    output_noun = "assertion"
    space = {"framework": tuple(_ASSERT_FORMS), "message": ("omit", "include")}
    requests = ("Assertion for: {input}", "Write the assert line. {input}", "{input}")

    def valid(self, params: Params) -> bool:
        return not (params["framework"] == "jest" and params["message"] == "include")  # jest takes no message

    def rules(self, p: Params) -> list[str]:
        forms = _ASSERT_FORMS[p["framework"]]
        shapes = "; ".join(f"{check} -> `{form.replace('{m}', '')}`" for check, form in forms.items())
        shapes = shapes.replace("{a}", "<actual>").replace("{e}", "<expected>")
        message = (
            "Leave out the failure message."
            if p["message"] == "omit"
            else "Include the failure message in double quotes"
            + (
                ", as an extra argument right after `<actual>` inside `expect(...)`."
                if p["framework"] == "chai"
                else (" after a comma at the end." if p["framework"] == "pytest" else ", as the last argument.")
            )
        )
        return [f"Write the check with the framework's form: {shapes}.", message]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        check = rng.choice(list(_ASSERT_CASES))
        actual, expected = rng.choice(_ASSERT_CASES[check])
        fields = [("check", check), ("actual", actual)] + ([("expected", expected)] if expected else [])
        return kv_input(fields + [("message", rng.choice(_ASSERT_MESSAGES))])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        m = f', "{f["message"]}"' if p["message"] == "include" else ""
        return _ASSERT_FORMS[p["framework"]][f["check"]].format(a=f["actual"], e=f.get("expected", ""), m=m)


_DOC_SUMMARIES = (
    "returns the active sessions of a user",
    "builds the cache key for a request",
    "parses a duration string such as 5m",
    "checks whether the token has expired",
    "loads the settings from disk",
    "counts the failed jobs in a queue",
    "sends the weekly digest email",
    "converts cents to a decimal amount",
    "validates the webhook signature",
    "formats a price for display",
    "retries the request with backoff",
    "reads the feature flags from the environment",
)


class DocCommentSummary(Family):
    name = "doc_comment_summary"
    title = "Doc comment summaries"
    summary = "Writes the one-line summary doc comment above a function."
    output_noun = "doc comment"
    space = {"syntax": ("python", "jsdoc", "rust"), "mood": ("imperative", "third_person"), "period": (True, False)}
    requests = ("Doc comment for a function that {input}", "Summary line: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        syntax = {
            "python": 'Write it as a Python docstring on one line: `"""<summary>"""`.',
            "jsdoc": "Write it as a one-line JSDoc comment: `/** <summary> */`.",
            "rust": "Write it as a Rust doc comment: `/// <summary>`.",
        }[p["syntax"]]
        mood = (
            "Use the imperative mood: drop the final `s` of the first verb (returns -> Return, checks -> Check)."
            if p["mood"] == "imperative"
            else "Keep the third-person verb as given (Returns, Checks)."
        )
        return [
            syntax,
            mood,
            "Capitalise the first letter of the summary; keep the other words as given.",
            "End the summary with a period." if p["period"] else "Do not end the summary with a period.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return rng.choice(_DOC_SUMMARIES)

    def answer(self, p: Params, text: str) -> str:
        verb, rest = text.split(" ", 1)
        if p["mood"] == "imperative":
            verb = verb.removesuffix("s")
        summary = capitalize(f"{verb} {rest}") + ("." if p["period"] else "")
        return {"python": '"""{}"""', "jsdoc": "/** {} */", "rust": "/// {}"}[p["syntax"]].format(summary)


_LOG_MESSAGES = (
    "retry limit reached",
    "payment captured",
    "cache miss",
    "user signed in",
    "webhook rejected",
    "export finished",
)
_LOG_VALUES = ("attempt", "job_id", "user_id", "order_id", "duration_ms", "status", "key", "region")


class PythonLoggingCall(Family):
    name = "python_logging_call"
    title = "Logging calls"
    summary = "Writes the Python logging call for an event with some variables attached."
    output_noun = "logging call"
    space = {"style": ("percent", "fstring", "extra", "kwargs"), "logger": ("logger", "log", "self.logger")}
    requests = ("Log this: {input}", "Logging call for: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        style = {
            "percent": "Lazy %-formatting: the message, then ` <name>=%s` for each variable inside the string, "
            "then the variables as extra arguments: `(\"msg a=%s\", a)`.",
            "fstring": "An f-string: the message, then ` <name>={<name>}` for each variable: `(f\"msg a={a}\")`.",
            "extra": "The message alone, then `extra={\"<name>\": <name>, ...}`: `(\"msg\", extra={\"a\": a})`.",
            "kwargs": "Structured: the message alone, then `<name>=<name>` keyword arguments: `(\"msg\", a=a)`.",
        }[p["style"]]
        return [
            f"Call `{p['logger']}.<level>(...)` with the level in lowercase.",
            "The message is the event text as given, in double quotes; the variables go in the order given, "
            "separated by `, ` (or by a space inside a string).",
            style,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return kv_input(
            [
                ("level", rng.choice(("debug", "info", "warning", "error"))),
                ("event", rng.choice(_LOG_MESSAGES)),
                ("variables", ", ".join(rng.sample(_LOG_VALUES, rng.randint(1, 2)))),
            ]
        )

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        names, msg = f["variables"].split(", "), f["event"]
        if p["style"] == "percent":
            inner = '"' + msg + "".join(f" {n}=%s" for n in names) + '", ' + ", ".join(names)
        elif p["style"] == "fstring":
            inner = 'f"' + msg + "".join(f" {n}={{{n}}}" for n in names) + '"'
        elif p["style"] == "extra":
            inner = f'"{msg}", extra={{' + ", ".join(f'"{n}": {n}' for n in names) + "}"
        else:
            inner = f'"{msg}", ' + ", ".join(f"{n}={n}" for n in names)
        return f"{p['logger']}.{f['level']}({inner})"


FAMILIES: list[Family] = [
    SqlSelectQuery(),
    SqlInsertStatement(),
    SqlUpdateStatement(),
    SqlDeleteStatement(),
    SqlOrderBy(),
    SqlWhereClause(),
    RegexLiteralMatch(),
    RegexIdPattern(),
    GlobPattern(),
    UrlJoinQuery(),
    PercentEncodeValue(),
    CliInvocation(),
    ShellArgQuoting(),
    EnvVarPrefix(),
    GitCommitCommand(),
    ScriptRunCommand(),
    CurlCommandLine(),
    TsImportLine(),
    PythonSignature(),
    AssertionLine(),
    DocCommentSummary(),
    PythonLoggingCall(),
]
