"""Logs, errors, dates, units and durations: log line formats, redaction, error codes, calendar labels, SLAs."""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from .. import vocab
from ..base import Family, Params
from ..text import capitalize, kv_input, mapping_sentence, parse_kv, placeholder, round_half_up

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_LOG_MESSAGES = (
    "retrying upstream call",
    "payment declined by issuer",
    "cache warmed",
    "connection pool exhausted",
    "user signed in",
    "slow query detected",
    "started",
    "config reloaded",
    "webhook delivery failed",
    "shutdown",
    "queue depth above limit",
    "token refreshed",
)
_LEVELS = ("debug", "info", "warn", "error")


def _date(rng: random.Random) -> dt.date:
    return vocab.instant(rng).date()


def _quoted(value: str, always: bool) -> str:
    return f'"{value}"' if always or " " in value else value


# --------------------------------------------------------------------------------------------------------------
# Structured log lines


class LogfmtLine(Family):
    name = "logfmt_line"
    title = "logfmt log lines"
    summary = "Writes structured log lines in logfmt (key=value pairs) for our log pipeline."
    output_noun = "log line"
    space = {
        "level_key": ("level", "lvl"),
        "msg_key": ("msg", "message"),
        "level_case": ("lower", "upper"),
        "quoting": ("spaces", "all"),
    }
    requests = ("Write this as a logfmt line: {input}", "Log line for: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        case = "lowercase" if p["level_case"] == "lower" else "uppercase"
        quoting = (
            "Wrap a value in double quotes only when it contains a space."
            if p["quoting"] == "spaces"
            else "Wrap every value in double quotes, whether or not it contains a space."
        )
        return [
            f"Write the pairs in this order, separated by single spaces: `{p['level_key']}=<level> "
            f"service=<service> req=<request id> {p['msg_key']}=<message>`.",
            f"Write the level in {case}; copy the service, request id and message exactly as given.",
            quoting,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        level = rng.choice(_LEVELS)
        pairs = [
            ("level", rng.choice((level, level.upper()))),
            ("service", rng.choice(vocab.SERVICES)),
            ("request", vocab.hex_string(rng, 8)),
            ("message", rng.choice(_LOG_MESSAGES)),
        ]
        rng.shuffle(pairs)
        return kv_input(pairs)

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        level = f["level"].lower() if p["level_case"] == "lower" else f["level"].upper()
        always = p["quoting"] == "all"
        pairs = [
            (p["level_key"], level),
            ("service", f["service"]),
            ("req", f["request"]),
            (p["msg_key"], f["message"]),
        ]
        return " ".join(f"{key}={_quoted(value, always)}" for key, value in pairs)


_PREFIX_LAYOUTS = (
    "[{level}] [{service}] [{request}] {message}",
    "{level} {service} req={request} - {message}",
    "[{service}:{request}] {level}: {message}",
)


class LogPrefixLine(Family):
    name = "log_prefix_line"
    title = "Plain-text log prefixes"
    summary = "Formats plain-text log lines with a level, service and request id prefix."
    output_noun = "log line"
    space = {"layout": _PREFIX_LAYOUTS, "level": ("upper", "lower", "letter"), "request": ("full", "short")}
    requests = ("Format this log entry: {input}", "How does this look in our logs? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        level = {
            "upper": "the level word in uppercase (`WARN`)",
            "lower": "the level word in lowercase (`warn`)",
            "letter": "only the first letter of the level, uppercase (`W` for warn)",
        }[p["level"]]
        request = (
            "the request id in full"
            if p["request"] == "full"
            else "only the first 6 characters of the request id"
        )
        return [
            f"Shape the line as `{placeholder(p['layout'])}`.",
            f"Write {level}.",
            f"Write {request}.",
            "Copy the service name and the message exactly as given.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        level = rng.choice(_LEVELS)
        level = rng.choice((level, level.upper()))
        return f"{level} from {rng.choice(vocab.SERVICES)}, request {vocab.hex_string(rng, 12)}: " + rng.choice(
            _LOG_MESSAGES
        )

    def answer(self, p: Params, text: str) -> str:
        head, message = text.split(": ", 1)
        level, _, rest = head.partition(" from ")
        service, request = rest.split(", request ")
        level = {"upper": level.upper(), "lower": level.lower(), "letter": level[0].upper()}[p["level"]]
        request = request if p["request"] == "full" else request[:6]
        return p["layout"].format(level=level, service=service, request=request, message=message)


# --------------------------------------------------------------------------------------------------------------
# Redaction

_SECRET_KEYS = ("password", "token", "api_key", "secret")
_SECRET_WORDS = ("hunter", "sunshine", "dragon", "letmein", "passw0rd", "qwerty")


def _secret_value(rng: random.Random) -> str:
    return rng.choice(
        (
            vocab.hex_string(rng, rng.randint(10, 16)),
            f"{rng.choice(_SECRET_WORDS)}{rng.randint(10, 999)}",
            f"sk_live_{vocab.hex_string(rng, 8)}",
        )
    )


def _plain_pairs(rng: random.Random) -> list[str]:
    return [
        f"user={rng.choice(vocab.FIRST_NAMES)}",
        f"status={rng.choice((200, 201, 401, 403, 500))}",
        f"path={rng.choice(('/login', '/v1/keys', '/v2/charges', '/oauth/token'))}",
        f"token_type={rng.choice(('bearer', 'refresh'))}",
    ]


class LogSecretRedact(Family):
    name = "log_secret_redact"
    title = "Redacting secrets in logs"
    summary = "Masks passwords, tokens and keys in log lines before they are shared."
    output_noun = "redacted log line"
    space = {"mask": ("***", "[REDACTED]", "<hidden>"), "scope": ("value", "tail4", "pair")}
    requests = ("Redact this log line: {input}", "Scrub secrets from: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        scope = {
            "value": f"Replace the value of each secret pair with `{p['mask']}` and keep the key and `=`.",
            "tail4": f"Replace the value of each secret pair with `{p['mask']}` followed by the last 4 characters of "
            "the original value, and keep the key and `=`.",
            "pair": f"Replace each whole secret pair, key and `=` included, with `{p['mask']}`.",
        }[p["scope"]]
        return [
            "A secret pair is a `key=value` pair whose key is exactly `password`, `token`, `api_key` or `secret`; "
            "other keys, such as `token_type`, are not secret.",
            scope,
            "Leave everything else in the line unchanged.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        secrets = [f"{key}={_secret_value(rng)}" for key in rng.sample(_SECRET_KEYS, rng.choice((1, 1, 2)))]
        pairs = rng.sample(_plain_pairs(rng), rng.choice((1, 2))) + secrets
        rng.shuffle(pairs)
        return " ".join([rng.choice(("INFO", "WARN", "ERROR", "DEBUG")), rng.choice(vocab.SERVICES)] + pairs)

    def answer(self, p: Params, text: str) -> str:
        words = []
        for word in text.split(" "):
            key, eq, value = word.partition("=")
            if eq and key in _SECRET_KEYS:
                word = {
                    "value": f"{key}={p['mask']}",
                    "tail4": f"{key}={p['mask']}{value[-4:]}",
                    "pair": p["mask"],
                }[p["scope"]]
            words.append(word)
        return " ".join(words)


_EMAIL_EVENTS = (
    "INFO auth password reset sent to {email}",
    "WARN billing-api invoice bounced for {email}",
    "INFO notifier digest queued for {email} count=3",
    "ERROR checkout card declined user={email}",
    "DEBUG auth lookup email={email} found=true",
)


class LogEmailRedact(Family):
    name = "log_email_redact"
    title = "Masking email addresses in logs"
    summary = "Masks customer email addresses in log lines to keep personal data out of log storage."
    output_noun = "masked log line"
    space = {"local": ("first", "first_last", "none"), "domain": ("keep", "tld"), "mask": ("***", "xxx")}
    requests = ("Mask the email in: {input}", "Make this log line safe to share: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        m = p["mask"]
        local = {
            "first": f"keep its first character and replace the rest with `{m}` (`maria.s` -> `m{m}`)",
            "first_last": f"keep its first and last characters with `{m}` between them (`maria.s` -> `m{m}s`)",
            "none": f"replace all of it with `{m}`",
        }[p["local"]]
        domain = (
            "Keep the domain after `@` unchanged."
            if p["domain"] == "keep"
            else f"Replace the domain after `@` with `{m}` followed by its last dot and ending "
            f"(`mail.example.net` -> `{m}.net`)."
        )
        return [
            "The line contains one email address; only that address changes.",
            f"For the part before `@`, {local}.",
            domain,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
        local = rng.choice((f"{first}.{last}", f"{first}{rng.randint(1, 99)}", f"{first[0]}{last}", first))
        return rng.choice(_EMAIL_EVENTS).format(email=f"{local}@{rng.choice(vocab.DOMAINS)}")

    def answer(self, p: Params, text: str) -> str:
        def mask(match: re.Match[str]) -> str:
            local, domain = match.group(1), match.group(2)
            m = p["mask"]
            local = {"first": local[0] + m, "first_last": local[0] + m + local[-1], "none": m}[p["local"]]
            if p["domain"] == "tld":
                domain = m + domain[domain.rfind(".") :]
            return f"{local}@{domain}"

        return re.sub(r"([A-Za-z0-9._-]+)@([A-Za-z0-9.-]+)", mask, text)


_IP_EVENTS = (
    "GET /health from {ip} status=200",
    "WARN auth login failed ip={ip} user={user}",
    "INFO gateway upstream {ip}:8443 healthy",
    "ERROR search connection refused by {ip}",
    "client={ip} method=POST path=/v1/orders",
)


class LogIpRedact(Family):
    name = "log_ip_redact"
    title = "Anonymising IP addresses in logs"
    summary = "Anonymises IPv4 addresses in log lines before they leave the cluster."
    output_noun = "anonymised log line"
    space = {"keep": (2, 3, 0), "fill": ("x", "0", "*")}
    requests = ("Anonymise the IP in: {input}", "Strip the address from this log line: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        keep = {
            2: "Keep the first two numbers of the IPv4 address and replace the last two",
            3: "Keep the first three numbers of the IPv4 address and replace the last one",
            0: "Replace all four numbers of the IPv4 address",
        }[p["keep"]]
        return [
            f"{keep} with `{p['fill']}` each, keeping the dots (so there are still four parts).",
            "A port after the address (`:8443`) stays as it is, and the rest of the line is unchanged.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        first = rng.choice((10, 172, 192, 81, 203, 54))
        ip = ".".join(str(n) for n in (first, rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254)))
        return rng.choice(_IP_EVENTS).format(ip=ip, user=rng.choice(vocab.FIRST_NAMES))

    def answer(self, p: Params, text: str) -> str:
        def mask(match: re.Match[str]) -> str:
            parts = match.group(0).split(".")
            return ".".join(parts[: p["keep"]] + [p["fill"]] * (4 - p["keep"]))

        return re.sub(r"\b\d{1,3}(?:\.\d{1,3}){3}\b", mask, text)


# --------------------------------------------------------------------------------------------------------------
# Stack traces and exceptions

_PY_FILES = ("billing/invoices.py", "api/handlers/orders.py", "auth/tokens.py", "search/index.py", "worker/jobs.py")
_PY_FUNCS = ("render_total", "create_order", "refresh_token", "rebuild_index", "run_job", "load_config")
_JS_FILES = ("billing/invoices.js", "routes/orders.js", "lib/session.js", "search/query.js", "jobs/queue.js")
_JS_FUNCS = ("renderTotal", "createOrder", "Session.refresh", "buildQuery", "Queue.drain", "loadConfig")
_ROOTS = ("/srv/app/", "/usr/src/app/", "/home/deploy/current/")


class StackFrameField(Family):
    name = "stack_frame_field"
    title = "Reading stack frames"
    summary = "Pulls the file, line or function out of one stack-trace frame for bug reports."
    output_noun = "frame detail"
    space = {
        "field": ("file", "line", "function", "location"),
        "path": ("full", "basename"),
        "label": (False, True),
    }
    requests = ("From this frame: {input}", "Which one is it here? {input}", "{input}")

    def valid(self, params: Params) -> bool:
        return params["field"] in ("file", "location") or params["path"] == "full"

    def rules(self, p: Params) -> list[str]:
        field = {
            "file": "the file",
            "line": "the line number",
            "function": "the function name (as written, including any `Class.` part)",
            "location": "the file and line number joined by a colon, like `<file>:<line>`",
        }[p["field"]]
        rules = [
            "Frames come in two shapes: Python `File \"<file>\", line <line>, in <function>` and Node "
            "`at <function> (<file>:<line>:<column>)`; the column is never reported.",
            f"Report {field}.",
        ]
        if p["field"] in ("file", "location"):
            rules.append(
                "Write the file path in full, exactly as in the frame."
                if p["path"] == "full"
                else "Write only the file name, without the folders before the last `/`."
            )
        rules.append(
            f"Answer as `{p['field']}=<value>`." if p["label"] else "Answer with the bare value, no label."
        )
        return rules

    def sample_input(self, p: Params, rng: random.Random) -> str:
        line = rng.randint(3, 480)
        if rng.random() < 0.5:
            path = rng.choice(_ROOTS) + rng.choice(_PY_FILES)
            return f'File "{path}", line {line}, in {rng.choice(_PY_FUNCS)}'
        path = rng.choice(_ROOTS) + rng.choice(_JS_FILES)
        return f"at {rng.choice(_JS_FUNCS)} ({path}:{line}:{rng.randint(2, 60)})"

    def answer(self, p: Params, text: str) -> str:
        python = re.fullmatch(r'File "(.+)", line (\d+), in (.+)', text.strip())
        if python:
            path, line, function = python.groups()
        else:
            function, path, line = re.fullmatch(r"at (\S+) \((.+):(\d+):\d+\)", text.strip()).groups()
        if p["path"] == "basename":
            path = path.rsplit("/", 1)[-1]
        value = {"file": path, "line": line, "function": function, "location": f"{path}:{line}"}[p["field"]]
        return f"{p['field']}={value}" if p["label"] else value


_CODE_SERVICES = ("billing", "search", "auth", "gateway", "checkout", "reports", "media", "notifier")


class ErrorCodeFormat(Family):
    name = "error_code_format"
    title = "Error codes"
    summary = "Builds the error codes our services put in logs and API responses."
    output_noun = "error code"
    space = {"prefix": ("abbr", "name", "fixed"), "width": (3, 4), "separator": ("-", "_")}
    requests = ("Error code for {input}", "What's the code for {input}?", "{input}")

    def rules(self, p: Params) -> list[str]:
        prefix = {
            "abbr": "the first three letters of the service name in uppercase (`billing` -> `BIL`)",
            "name": "the whole service name in uppercase (`billing` -> `BILLING`)",
            "fixed": "the letter `E`, whatever the service",
        }[p["prefix"]]
        return [
            f"The code is a prefix, then `{p['separator']}`, then the error number.",
            f"The prefix is {prefix}.",
            f"Pad the number with leading zeros to {p['width']} digits; a longer number stays as it is.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        number = rng.choice((rng.randint(1, 9), rng.randint(10, 99), rng.randint(100, 999), rng.randint(1000, 4999)))
        service = rng.choice(_CODE_SERVICES)
        return rng.choice((f"{service} error {number}", f"error {number} in {service}", f"{service} #{number}"))

    def answer(self, p: Params, text: str) -> str:
        service = next(w for w in text.split(" ") if w in _CODE_SERVICES)
        number = re.search(r"\d+", text).group(0)
        prefix = {"abbr": service[:3].upper(), "name": service.upper(), "fixed": "E"}[p["prefix"]]
        return f"{prefix}{p['separator']}{number.zfill(p['width'])}"


_EXCEPTION_CLASSES = {
    "not found": "NotFoundError",
    "already exists": "ConflictError",
    "invalid": "ValidationError",
    "locked": "LockedError",
}
_EXCEPTION_TEMPLATES = {
    "subject": ("{Entity} {id} {problem}", "`<Entity> <id> <problem>` (`Order 8812 not found`)"),
    "problem_first": ("{Problem}: {entity} {id}", "`<Problem>: <entity> <id>` (`Not found: order 8812`)"),
    "key_value": ("{entity} {problem} (id={id})", "`<entity> <problem> (id=<id>)` (`order not found (id=8812)`)"),
}
_ENTITIES = ("order", "invoice", "user", "project", "api key", "webhook", "team", "coupon")


class ExceptionMessage(Family):
    name = "exception_message"
    title = "Exception messages"
    summary = "Writes the message text of exceptions raised by our domain code."
    output_noun = "exception message"
    space = {"template": tuple(_EXCEPTION_TEMPLATES), "class_prefix": (False, True), "period": (False, True)}
    requests = ("Exception message for: {input}", "What should we raise? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        prefix = (
            "Start with the exception class and `: `; the class comes from the problem: "
            + mapping_sentence(_EXCEPTION_CLASSES)
            + "."
            if p["class_prefix"]
            else "Do not mention the exception class."
        )
        return [
            f"Write the message as {_EXCEPTION_TEMPLATES[p['template']][1]}; `<Entity>` and `<Problem>` mean the "
            "value with its first letter capitalised, lowercase names mean the value as given.",
            prefix,
            "End the line with a period." if p["period"] else "Do not end the line with a period.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        ident = rng.choice((str(rng.randint(1, 99999)), vocab.hex_string(rng, 8), vocab.ticket(rng)))
        pairs = [("problem", rng.choice(tuple(_EXCEPTION_CLASSES))), ("entity", rng.choice(_ENTITIES)), ("id", ident)]
        rng.shuffle(pairs)
        return kv_input(pairs)

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        message = _EXCEPTION_TEMPLATES[p["template"]][0].format(
            Entity=capitalize(f["entity"]),
            entity=f["entity"],
            Problem=capitalize(f["problem"]),
            problem=f["problem"],
            id=f["id"],
        )
        if p["class_prefix"]:
            message = f"{_EXCEPTION_CLASSES[f['problem']]}: {message}"
        return message + ("." if p["period"] else "")


_USER_TEXTS = {
    "plain": {
        "DB_TIMEOUT": "The request took too long. Please try again.",
        "AUTH_EXPIRED": "Your session has expired. Please sign in again.",
        "RATE_LIMITED": "Too many requests. Please wait a minute.",
        "NOT_FOUND": "We could not find that page.",
        "UPSTREAM_DOWN": "A partner service is down. Please try later.",
    },
    "friendly": {
        "DB_TIMEOUT": "Sorry, that took longer than expected. Mind trying again?",
        "AUTH_EXPIRED": "You've been signed out for safety. Please sign in again!",
        "RATE_LIMITED": "Whoa, slow down a little and try again in a minute.",
        "NOT_FOUND": "Hmm, we couldn't find what you were looking for.",
        "UPSTREAM_DOWN": "One of our partners is having trouble. Please try later.",
    },
}


class UserErrorText(Family):
    name = "user_error_text"
    title = "User-facing and internal error text"
    summary = "Turns an internal error event into the text shown to a customer or to the on-call engineer."
    output_noun = "error text"
    space = {"audience": ("user", "internal"), "tone": ("plain", "friendly"), "reference": ("none", "suffix", "prefix")}
    requests = ("What text goes with this error? {input}", "Error text for: {input}", "{input}")

    def valid(self, params: Params) -> bool:
        return params["audience"] == "user" or params["tone"] == "plain"

    def rules(self, p: Params) -> list[str]:
        if p["audience"] == "user":
            table = "; ".join(f"`{code}` -> `{text}`" for code, text in _USER_TEXTS[p["tone"]].items())
            main = (
                "This text is for customers: never show the code or the service; use the text for the code: "
                f"{table}."
            )
        else:
            main = "This text is for engineers: write `<service>: <code>`, both exactly as in the event."
        reference = {
            "none": "Do not include the request id.",
            "suffix": "End with a space and `(ref <request id>)`.",
            "prefix": "Start with `[<request id>]` and a space.",
        }[p["reference"]]
        return ["The event gives `code=`, `service=` and `req=` (the request id).", main, reference]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        pairs = [
            f"code={rng.choice(tuple(_USER_TEXTS['plain']))}",
            f"service={rng.choice(vocab.SERVICES)}",
            f"req={vocab.hex_string(rng, 6)}",
        ]
        rng.shuffle(pairs)
        return " ".join(pairs)

    def answer(self, p: Params, text: str) -> str:
        f = dict(pair.split("=", 1) for pair in text.split(" "))
        body = _USER_TEXTS[p["tone"]][f["code"]] if p["audience"] == "user" else f"{f['service']}: {f['code']}"
        return {"none": body, "suffix": f"{body} (ref {f['req']})", "prefix": f"[{f['req']}] {body}"}[p["reference"]]


_JAVA_CHAINS = (
    ("com.example.api.ServiceException", "checkout failed"),
    ("com.example.orders.OrderException", "could not save order"),
    ("org.hibernate.exception.JDBCConnectionException", "unable to acquire connection"),
    ("java.net.SocketTimeoutException", "Read timed out"),
    ("java.io.IOException", "Broken pipe"),
    ("java.lang.IllegalStateException", "pool is closed"),
    ("com.example.billing.InvoiceException", "invoice 881 not rendered"),
    ("java.sql.SQLTransientConnectionException", "HikariPool-1 - Connection is not available"),
)


class ExceptionCause(Family):
    name = "exception_cause"
    title = "Reading exception chains"
    summary = "Picks the exception to report from a Java exception chain with `Caused by:` lines."
    output_noun = "exception"
    space = {"pick": ("root", "top"), "form": ("class", "class_message", "message"), "simple": (False, True)}
    requests = ("Which exception is it? {input}", "Summarise this trace:\n{input}", "{input}")

    def valid(self, params: Params) -> bool:
        return params["form"] != "message" or not params["simple"]

    def rules(self, p: Params) -> list[str]:
        pick = (
            "Report the root cause: the exception on the last `Caused by:` line."
            if p["pick"] == "root"
            else "Report the top exception: the one on the first line, not any `Caused by:` line."
        )
        form = {
            "class": "Answer with the exception class only.",
            "class_message": "Answer with the exception class, `: ` and its message, as on its line.",
            "message": "Answer with the exception's message only, without the class.",
        }[p["form"]]
        rules = [
            "Each line holds `<class>: <message>`, after an optional `Exception in thread \"<name>\" ` or "
            "`Caused by: ` in front.",
            pick,
            form,
        ]
        if p["form"] != "message":
            rules.append(
                "Write the simple class name: drop the package, everything up to the last dot."
                if p["simple"]
                else "Write the fully qualified class name, package included."
            )
        return rules

    def sample_input(self, p: Params, rng: random.Random) -> str:
        chain = rng.sample(_JAVA_CHAINS, rng.randint(2, 3))
        lines = [f"{cls}: {msg}" for cls, msg in chain]
        if rng.random() < 0.4:
            lines[0] = f'Exception in thread "{rng.choice(("main", "worker-3", "http-nio-8080-exec-2"))}" ' + lines[0]
        return "\n".join(lines[:1] + [f"Caused by: {line}" for line in lines[1:]])

    def answer(self, p: Params, text: str) -> str:
        lines = text.strip().split("\n")
        line = lines[-1] if p["pick"] == "root" else lines[0]
        line = re.sub(r'^(Exception in thread "[^"]*" |Caused by: )', "", line)
        cls, message = line.split(": ", 1)
        if p["simple"]:
            cls = cls.rsplit(".", 1)[-1]
        return {"class": cls, "class_message": f"{cls}: {message}", "message": message}[p["form"]]


# --------------------------------------------------------------------------------------------------------------
# Calendar labels


class IsoWeekLabel(Family):
    name = "iso_week_label"
    title = "Week labels"
    summary = "Writes the week labels used in weekly reports and planning boards."
    output_noun = "week label"
    space = {"form": ("iso", "compact", "label"), "weekday": (False, True), "pad": (True, False)}
    requests = ("Week label for {input}", "Which week label does {input} get?", "{input}")

    def valid(self, params: Params) -> bool:
        if params["form"] == "compact" and not params["pad"]:
            return False
        return not (params["form"] == "label" and params["weekday"])

    def rules(self, p: Params) -> list[str]:
        week = "the week number with two digits (`W05`)" if p["pad"] else "the week number with no leading zero (`W5`)"
        form = {
            "iso": "`<year>-W<week>`, like `2024-W10`",
            "compact": "`<year>W<week>` with no separators, like `2024W10`",
            "label": "`W<week>/<year>`, like `W10/2024`",
        }[p["form"]]
        rules = [
            "The input gives a date with its weekday and its ISO week number; use that week number and the year "
            "of the date.",
            f"Write {form}, with {week}.",
        ]
        if p["form"] != "label":
            sep = "`-`" if p["form"] == "iso" else "nothing"
            rules.append(
                f"Append {sep} and the weekday number (Monday 1, Tuesday 2, ..., Sunday 7)."
                if p["weekday"]
                else "Do not add the weekday."
            )
        return rules

    def sample_input(self, p: Params, rng: random.Random) -> str:
        while True:
            day = _date(rng)
            if rng.random() < 0.6:  # single-digit weeks, where the padding shows
                day = day.replace(month=rng.choice((1, 2)), day=rng.randint(1, 28))
            year, week, weekday = day.isocalendar()
            if year == day.year:
                return f"{day.isoformat()} ({_WEEKDAY_NAMES[weekday - 1]}, week {week})"

    def answer(self, p: Params, text: str) -> str:
        date, rest = text.split(" (")
        weekday_name, week_text = rest.rstrip(")").split(", week ")
        year, week = date[:4], int(week_text)
        week_str = f"{week:02d}" if p["pad"] else str(week)
        weekday = _WEEKDAY_NAMES.index(weekday_name) + 1
        if p["form"] == "label":
            return f"W{week_str}/{year}"
        sep = "-" if p["form"] == "iso" else ""
        label = f"{year}{sep}W{week_str}"
        return label + (f"{sep}{weekday}" if p["weekday"] else "")


_FY_STARTS = {"january": 1, "april": 4, "october": 10}
_QUARTER_FORMS = {
    "{year}-Q{q}": "`<year>-Q<quarter>`, like `2024-Q3`",
    "Q{q} {year}": "`Q<quarter> <year>`, like `Q3 2024`",
    "FY{yy} Q{q}": "`FY<last two digits of the year> Q<quarter>`, like `FY24 Q3`",
}


class QuarterLabel(Family):
    name = "quarter_label"
    title = "Fiscal quarter labels"
    summary = "Labels dates with the company's fiscal quarter for finance and planning reports."
    output_noun = "quarter label"
    space = {"fy_start": tuple(_FY_STARTS), "form": tuple(_QUARTER_FORMS)}
    requests = ("Which quarter is {input}?", "Quarter label for {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        start = _FY_STARTS[p["fy_start"]]
        quarters = []
        for q in range(4):
            first = (start - 1 + 3 * q) % 12
            quarters.append(f"{_MONTHS[first]} to {_MONTHS[(first + 2) % 12]} -> Q{q + 1}")
        if start == 1:
            year = "The year is the calendar year of the date."
        else:
            year = (
                f"The fiscal year starts on 1 {_MONTHS[start - 1]} and is named by the calendar year it ends in: "
                f"dates from {_MONTHS[start - 1]} to December belong to the next year's number, dates from January "
                f"to {_MONTHS[start - 2]} keep their own year."
            )
        return [f"Quarters: {'; '.join(quarters)}.", year, f"Write {_QUARTER_FORMS[p['form']]}."]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return _date(rng).isoformat()

    def answer(self, p: Params, text: str) -> str:
        year, month = int(text[:4]), int(text[5:7])
        start = _FY_STARTS[p["fy_start"]]
        quarter = (month - start) % 12 // 3 + 1
        if start != 1 and month >= start:
            year += 1
        return p["form"].format(year=year, yy=f"{year % 100:02d}", q=quarter)


class RelativeDayName(Family):
    name = "relative_day_name"
    title = "Relative day names"
    summary = "Describes a date relative to today in notifications and activity feeds."
    output_noun = "relative day"
    space = {"near": (True, False), "style": ("words", "short", "signed"), "capital": (False, True)}
    requests = ("How do we show this date? {input}", "Relative day for {input}", "{input}")

    def valid(self, params: Params) -> bool:
        return params["style"] != "signed" or not params["capital"]

    def rules(self, p: Params) -> list[str]:
        near = (
            "One day later is `tomorrow` and one day earlier is `yesterday`."
            if p["near"]
            else "Treat one day later or earlier like any other number of days (never `tomorrow` or `yesterday`)."
        )
        style = {
            "words": "Other dates are `in <n> days` or `<n> days ago`, with `day` instead of `days` when n is 1.",
            "short": "Other dates are `in <n>d` or `<n>d ago`.",
            "signed": "Other dates are `+<n>d` or `-<n>d`.",
        }[p["style"]]
        rules = [
            "Count the days from `today` to `date` (both are in the same month); the same day is `today`.",
            near,
            style,
        ]
        if p["style"] != "signed":
            rules.append(
                "Capitalise the first letter of the answer when it is a letter (`Tomorrow`, `In 3 days`)."
                if p["capital"]
                else "Keep the answer lowercase."
            )
        return rules

    def sample_input(self, p: Params, rng: random.Random) -> str:
        today = _date(rng).replace(day=rng.randint(7, 22))
        offset = rng.choice((-1, 1, 0, rng.randint(-6, 6), rng.randint(-6, 6), rng.randint(-6, 6)))
        return kv_input([("today", today.isoformat()), ("date", (today + dt.timedelta(days=offset)).isoformat())])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        days = (dt.date.fromisoformat(f["date"]) - dt.date.fromisoformat(f["today"])).days
        n = abs(days)
        if days == 0:
            result = "today"
        elif p["near"] and n == 1:
            result = "tomorrow" if days > 0 else "yesterday"
        elif p["style"] == "words":
            unit = "day" if n == 1 else "days"
            result = f"in {n} {unit}" if days > 0 else f"{n} {unit} ago"
        elif p["style"] == "short":
            result = f"in {n}d" if days > 0 else f"{n}d ago"
        else:
            result = f"{days:+d}d"
        return capitalize(result) if p["capital"] else result


_AP_MONTHS = ("Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec.")
_MONTH_STYLES = {
    "abbr3": tuple(m[:3] for m in _MONTHS),
    "upper3": tuple(m[:3].upper() for m in _MONTHS),
    "ap": _AP_MONTHS,
}


def _month_table(names: tuple[str, ...]) -> str:
    return mapping_sentence({f"{i:02d}": name for i, name in enumerate(names, 1)})


class MonthYearLabel(Family):
    name = "month_year_label"
    title = "Month labels"
    summary = "Writes the month labels used on billing periods, chart axes and report titles."
    output_noun = "month label"
    space = {"month": tuple(_MONTH_STYLES), "year": ("full", "short"), "separator": (" ", "-")}
    requests = ("Month label for {input}", "How do we label {input}?", "{input}")

    def valid(self, params: Params) -> bool:
        return params["month"] != "ap" or params["separator"] == " "  # `Sept.-24` is nobody's style

    def rules(self, p: Params) -> list[str]:
        year = "the four-digit year" if p["year"] == "full" else "the last two digits of the year"
        sep = "a single space" if p["separator"] == " " else "a hyphen `-`"
        return [
            f"Write the month name, then {sep}, then {year}; the day, if given, is dropped.",
            f"Month numbers map to these names: {_month_table(_MONTH_STYLES[p['month']])}.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        day = _date(rng)
        return rng.choice((day.isoformat(), day.isoformat()[:7], f"billing period {day.isoformat()[:7]}"))

    def answer(self, p: Params, text: str) -> str:
        year, month = re.search(r"(\d{4})-(\d{2})", text).groups()
        year = year if p["year"] == "full" else year[2:]
        return f"{_MONTH_STYLES[p['month']][int(month) - 1]}{p['separator']}{year}"


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class OrdinalDayDate(Family):
    name = "ordinal_day_date"
    title = "Dates with ordinal days"
    summary = "Writes dates with ordinal day numbers (1st, 2nd, 3rd) for newsletters and release notes."
    output_noun = "date"
    space = {"order": ("day_first", "month_first"), "month": ("full", "abbr"), "year": (True, False)}
    requests = ("Write {input} for the newsletter", "Date text for {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        names = _MONTHS if p["month"] == "full" else tuple(m[:3] for m in _MONTHS)
        if p["order"] == "day_first":
            shape = "`<day> <month> <year>`, like `5th March 2024`" if p["year"] else "`<day> <month>`"
        else:
            shape = "`<month> <day>, <year>`, like `March 5th, 2024`" if p["year"] else "`<month> <day>`"
        return [
            "The day is a number without leading zero plus a suffix: `st` after 1, 21 and 31, `nd` after 2 and 22, "
            "`rd` after 3 and 23, `th` after every other day (including 11, 12 and 13).",
            f"Month numbers map to these names: {_month_table(names)}.",
            f"Write {shape}." + ("" if p["year"] else " Leave out the year."),
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        day = _date(rng)
        if rng.random() < 0.6:
            day = day.replace(day=rng.choice((1, 2, 3, 11, 12, 13, 21, 22, 23, 28)))
        return day.isoformat()

    def answer(self, p: Params, text: str) -> str:
        date = dt.date.fromisoformat(text.strip())
        month = _MONTHS[date.month - 1]
        month = month if p["month"] == "full" else month[:3]
        day = _ordinal(date.day)
        if p["order"] == "day_first":
            return f"{day} {month}" + (f" {date.year}" if p["year"] else "")
        return f"{month} {day}" + (f", {date.year}" if p["year"] else "")


_RANGE_DASHES = {
    "-": "a hyphen with no spaces (`-`)",
    " - ": "a hyphen with a space on each side (` - `)",
    " to ": "the word `to` with a space on each side",
}


class DateRangeLabel(Family):
    name = "date_range_label"
    title = "Date range labels"
    summary = "Writes compact date ranges for sprint boards, report headers and on-call schedules."
    output_noun = "date range"
    space = {"month": ("abbr", "full"), "dash": tuple(_RANGE_DASHES), "year": (True, False)}
    requests = ("Label this range: {input}", "How do we write the range {input}?", "{input}")

    def rules(self, p: Params) -> list[str]:
        names = _MONTHS if p["month"] == "full" else tuple(m[:3] for m in _MONTHS)
        if p["year"]:
            year = (
                "Add `, <year>` once at the very end; when the two dates are in different years, add `, <year>` "
                "after each of the two dates instead."
            )
        else:
            year = "Never write the year."
        return [
            "Write each date as `<month> <day>`, with the day number without leading zero.",
            f"Month numbers map to these names: {_month_table(names)}.",
            f"Join start and end with {_RANGE_DASHES[p['dash']]}; when both dates are in the same month of the same "
            "year, leave the month out of the end date, so it is just the day number.",
            year,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        start = _date(rng)
        if rng.random() < 0.15:
            start = start.replace(month=12, day=rng.randint(20, 31))
        end = start + dt.timedelta(days=rng.choice((1, 4, 6, 13, 13, 27)))
        return f"{start.isoformat()} to {end.isoformat()}"

    def answer(self, p: Params, text: str) -> str:
        start, end = (dt.date.fromisoformat(d) for d in text.strip().split(" to "))
        names = _MONTHS if p["month"] == "full" else tuple(m[:3] for m in _MONTHS)

        def short(d: dt.date) -> str:
            return f"{names[d.month - 1]} {d.day}"

        same_month = (start.year, start.month) == (end.year, end.month)
        end_text = str(end.day) if same_month else short(end)
        if p["year"] and start.year != end.year:
            return f"{short(start)}, {start.year}{p['dash']}{end_text}, {end.year}"
        return f"{short(start)}{p['dash']}{end_text}" + (f", {end.year}" if p["year"] else "")


# --------------------------------------------------------------------------------------------------------------
# Time zones, durations and units


_OFFSET_SAMPLES = (
    (5, 30), (-8, 0), (1, 0), (-3, 0), (9, 0), (5, 45), (-3, 30), (0, 0), (10, 0), (-5, 0), (2, 0), (12, 0), (-10, 0),
    (3, 30),
)


class UtcOffsetStyle(Family):
    name = "utc_offset_style"
    title = "UTC offsets"
    summary = "Normalises time-zone offsets written in any style to the one our configs and logs use."
    output_noun = "UTC offset"
    space = {"prefix": ("", "UTC", "GMT"), "style": ("colon", "compact", "short")}
    requests = ("Normalise this offset: {input}", "How do we write the offset {input}?", "{input}")

    def rules(self, p: Params) -> list[str]:
        prefix = (
            f"Start with `{p['prefix']}`, directly followed by the sign." if p["prefix"] else "Start with the sign."
        )
        style = {
            "colon": "Then two-digit hours, a colon and two-digit minutes, like `+05:30` or `-08:00`.",
            "compact": "Then two-digit hours and two-digit minutes with no colon, like `+0530` or `-0800`.",
            "short": "Then the hours without leading zero, plus a colon and two-digit minutes only when the minutes "
            "are not zero, like `+5:30` or `-8`.",
        }[p["style"]]
        return [
            "Read the offset's sign, hours and minutes; `Z` or a bare `UTC` means zero, and a zero offset takes `+`.",
            prefix,
            style,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        hours, minutes = rng.choice(_OFFSET_SAMPLES)
        sign = "-" if hours < 0 else "+"
        h = abs(hours)
        forms = [
            f"{sign}{h:02d}:{minutes:02d}",
            f"{sign}{h:02d}{minutes:02d}",
            f"UTC{sign}{h}" + (f":{minutes:02d}" if minutes else ""),
            f"GMT{sign}{h:02d}:{minutes:02d}",
        ]
        if hours == 0 and minutes == 0:
            forms += ["Z", "UTC"]
        return rng.choice(forms)

    def answer(self, p: Params, text: str) -> str:
        match = re.search(r"([+-])(\d{1,2}):?(\d{2})?$", text.strip())
        sign, hours, minutes = (match.group(1), int(match.group(2)), int(match.group(3) or 0)) if match else ("+", 0, 0)
        if p["style"] == "colon":
            body = f"{hours:02d}:{minutes:02d}"
        elif p["style"] == "compact":
            body = f"{hours:02d}{minutes:02d}"
        else:
            body = str(hours) + (f":{minutes:02d}" if minutes else "")
        if hours == 0 and minutes == 0:
            sign = "+"
        return f"{p['prefix']}{sign}{body}"


_DURATION_UNITS = {
    "seconds": (1, "s", "seconds"),
    "minutes": (60, "min", "minutes"),
    "milliseconds": (Decimal("0.001"), "ms", "milliseconds"),
}


class DurationParse(Family):
    name = "duration_parse"
    title = "Duration settings"
    summary = "Turns human durations such as `1h30m` into the single-unit numbers our config files take."
    output_noun = "duration value"
    space = {"unit": tuple(_DURATION_UNITS), "form": ("bare", "symbol", "word")}
    requests = ("Convert {input} for the config", "What value is {input}?", "{input}")

    def rules(self, p: Params) -> list[str]:
        _, symbol, word = _DURATION_UNITS[p["unit"]]
        steps = {
            "seconds": "1h = 3600 seconds, 1m = 60 seconds, 1s = 1 second",
            "minutes": "1h = 60 minutes, 1m = 1 minute; leftover seconds are dropped (round down)",
            "milliseconds": "1h = 3600000 ms, 1m = 60000 ms, 1s = 1000 ms",
        }[p["unit"]]
        form = {
            "bare": "Write the bare number with no unit.",
            "symbol": f"Write the number directly followed by `{symbol}`, no space.",
            "word": f"Write the number, a space and `{word}` (always this plural word).",
        }[p["form"]]
        return [
            f"Add up the parts of the duration (`h` hours, `m` minutes, `s` seconds) in {p['unit']}: {steps}.",
            form,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        hours = rng.choice((0, 0, 1, 2, 4, 12))
        minutes = rng.choice((0, 5, 15, 30, 45, rng.randint(1, 59)))
        seconds = rng.choice((0, 0, 10, 30, rng.randint(1, 59)))
        if not hours and not minutes and not seconds:
            minutes = 90
        parts = [f"{v}{u}" for v, u in ((hours, "h"), (minutes, "m"), (seconds, "s")) if v]
        return rng.choice(("", " ")).join(parts)

    def answer(self, p: Params, text: str) -> str:
        total = sum(int(v) * {"h": 3600, "m": 60, "s": 1}[u] for v, u in re.findall(r"(\d+)([hms])", text))
        factor, symbol, word = _DURATION_UNITS[p["unit"]]
        value = int(Decimal(total) / Decimal(factor))
        return {"bare": str(value), "symbol": f"{value}{symbol}", "word": f"{value} {word}"}[p["form"]]


_RATE_LABELS = ("cache hit ratio", "error rate", "availability", "cpu usage", "disk usage", "success rate")


class RatioPercent(Family):
    name = "ratio_percent"
    title = "Ratios and percentages"
    summary = "Writes rates and ratios for dashboards in one consistent form."
    output_noun = "number"
    space = {"target": ("percent", "ratio"), "places": (1, 2, 3), "space": (False, True)}
    requests = ("Format {input} for the dashboard", "How do we show {input}?", "{input}")

    def valid(self, params: Params) -> bool:
        return params["target"] == "percent" or not params["space"]

    def rules(self, p: Params) -> list[str]:
        if p["target"] == "percent":
            gap = "a space and `%`" if p["space"] else "`%` with no space"
            target = f"Write it as a percentage: a ratio is multiplied by 100 (0.8712 -> 87.12), followed by {gap}."
        else:
            target = "Write it as a ratio between 0 and 1: a percentage is divided by 100 (87.12% -> 0.8712), " \
                "with no `%` sign."
        return [
            "The input value is either a ratio (no `%` sign) or a percentage (ends in `%`).",
            target,
            f"Round half up to exactly {p['places']} decimal place{'s' if p['places'] > 1 else ''}, keeping "
            "trailing zeros.",
            "Answer with the number only, not the label.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        label = rng.choice(_RATE_LABELS)
        if rng.random() < 0.5:
            return f"{label} {Decimal(rng.randint(1, 99999)) / 100000:f}"
        return f"{label} {Decimal(rng.randint(1, 99999)) / 1000:f}%"

    def answer(self, p: Params, text: str) -> str:
        raw = text.rsplit(" ", 1)[1]
        value = Decimal(raw.rstrip("%")) / (100 if raw.endswith("%") else 1)
        if p["target"] == "percent":
            return round_half_up(value * 100, p["places"]) + (" %" if p["space"] else "%")
        return round_half_up(value, p["places"])


_SLA_LAYOUTS = (
    "{service} {uptime}% (target {target}%) {status}",
    "[{status}] {service}: {uptime}% vs {target}%",
)
_SLA_WORDS = {"ok": ("OK", "BREACH"), "met": ("met", "missed")}


class SlaStatusLine(Family):
    name = "sla_status_line"
    title = "SLA status lines"
    summary = "Writes the monthly uptime line for each service in the SLA report."
    output_noun = "status line"
    space = {"layout": _SLA_LAYOUTS, "places": (2, 3), "rounding": ("down", "half_up"), "words": tuple(_SLA_WORDS)}
    requests = ("SLA line for: {input}", "Report this uptime: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        good, bad = _SLA_WORDS[p["words"]]
        rounding = (
            "cutting off the extra digits (always round down, so uptime is never overstated)"
            if p["rounding"] == "down"
            else "rounding half up"
        )
        return [
            f"Shape the line as `{placeholder(p['layout'])}`.",
            f"Write the uptime with exactly {p['places']} decimal places, {rounding}; write the target as given.",
            f"The status is `{good}` when the measured uptime, before any rounding, is at or above the target, "
            f"otherwise `{bad}`.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        target = rng.choice(("99", "99.5", "99.9", "99.95", "99.99"))
        uptime = Decimal(target) + Decimal(rng.randint(-900, 900)) / 10000
        uptime = min(uptime, Decimal("99.9999"))
        uptime = uptime.quantize(Decimal("0.0001"))
        return kv_input([("service", rng.choice(vocab.SERVICES)), ("uptime", f"{uptime:f}%"), ("target", f"{target}%")])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        raw, target = Decimal(f["uptime"].rstrip("%")), f["target"].rstrip("%")
        mode = ROUND_DOWN if p["rounding"] == "down" else ROUND_HALF_UP
        uptime = f"{raw.quantize(Decimal(1).scaleb(-p['places']), rounding=mode):f}"
        good, bad = _SLA_WORDS[p["words"]]
        status = good if raw >= Decimal(target) else bad
        return p["layout"].format(service=f["service"], uptime=uptime, target=target, status=status)


_SLA_TARGETS = ("99", "99.5", "99.9", "99.95", "99.99")
_SLA_PERIODS = {"day": ("per day", 86400), "week": ("per week", 604800), "month": ("per 30-day month", 2592000)}


def _downtime_text(seconds: int, style: str) -> str:
    h, m, s = seconds // 3600, seconds % 3600 // 60, seconds % 60
    if style == "seconds":
        return f"{seconds}s"
    if style == "clock":
        return f"{h:02d}:{m:02d}:{s:02d}"
    return " ".join(f"{v}{u}" for v, u in ((h, "h"), (m, "m"), (s, "s")) if v)


class SlaDowntimeBudget(Family):
    name = "sla_downtime_budget"
    title = "Downtime budgets"
    summary = "States how much downtime an availability target allows, for on-call runbooks."
    output_noun = "downtime budget"
    space = {"period": tuple(_SLA_PERIODS), "style": ("units", "seconds", "clock")}
    requests = ("How much downtime does {input} allow?", "Downtime budget for {input}", "{input}")

    def _budget(self, p: Params, target: str) -> int:
        return int((100 - Decimal(target)) / 100 * _SLA_PERIODS[p["period"]][1])

    def rules(self, p: Params) -> list[str]:
        label = _SLA_PERIODS[p["period"]][0]
        table = "; ".join(f"{t}% -> `{_downtime_text(self._budget(p, t), p['style'])}`" for t in _SLA_TARGETS)
        return [
            f"We state the downtime budget {label}, rounded down to whole seconds.",
            f"Use this table: {table}.",
            "Answer with the budget exactly as the table writes it.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        target = rng.choice(_SLA_TARGETS)
        forms = (f"SLO {target}%", f"{target}% availability", f"target: {target}%", f"{target} percent uptime")
        return rng.choice(forms)

    def answer(self, p: Params, text: str) -> str:
        target = re.search(r"\d+(?:\.\d+)?", text).group(0)
        return _downtime_text(self._budget(p, target), p["style"])


_ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN}
_AMOUNT_LABELS = ("", "", "total ", "tax ", "fee ", "avg latency ", "score ")


class RoundingMode(Family):
    name = "rounding_mode"
    title = "Rounding conventions"
    summary = "Rounds computed numbers for invoices, reports and metrics under the team's rounding rule."
    output_noun = "rounded number"
    space = {"mode": tuple(_ROUNDING_MODES), "places": (0, 1, 2)}
    requests = ("Round {input}", "What do we show for {input}?", "{input}")

    def rules(self, p: Params) -> list[str]:
        mode = {
            "half_up": "Round to the nearest value; when the dropped part is exactly one half, round away from "
            "zero (2.5 -> 3, -2.5 -> -3).",
            "half_even": "Round to the nearest value; when the dropped part is exactly one half, round to the "
            "neighbour whose last kept digit is even, as in banker's rounding (2.5 -> 2, 3.5 -> 4, 0.125 -> 0.12).",
            "down": "Truncate: simply drop the extra digits, toward zero (2.59 -> 2.5, -2.59 -> -2.5 at one decimal).",
        }[p["mode"]]
        places = (
            "Round to a whole number, with no decimal point."
            if p["places"] == 0
            else f"Keep exactly {p['places']} decimal place{'s' if p['places'] > 1 else ''}, padding with zeros "
            "if needed."
        )
        return [places, mode, "Answer with the number only, keeping a minus sign unless the result is zero."]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        digits = rng.randint(p["places"] + 1, p["places"] + 3)
        value = Decimal(rng.randrange(1, 99999, 1) // 10 * 10 + rng.randint(1, 9)).scaleb(-digits)
        if rng.random() < 0.5:  # an exact tie
            value = (Decimal(rng.randint(0, 9999)) * 10 + 5).scaleb(-(p["places"] + 1))
        sign = "-" if rng.random() < 0.15 else ""
        return f"{rng.choice(_AMOUNT_LABELS)}{sign}{value:f}"

    def answer(self, p: Params, text: str) -> str:
        value = Decimal(text.rsplit(" ", 1)[-1])
        rounded = value.quantize(Decimal(1).scaleb(-p["places"]), rounding=_ROUNDING_MODES[p["mode"]])
        result = f"{rounded:f}"
        return result[1:] if result.startswith("-") and Decimal(result) == 0 else result


FAMILIES: list[Family] = [
    LogfmtLine(),
    LogPrefixLine(),
    LogSecretRedact(),
    LogEmailRedact(),
    LogIpRedact(),
    StackFrameField(),
    ErrorCodeFormat(),
    ExceptionMessage(),
    UserErrorText(),
    ExceptionCause(),
    IsoWeekLabel(),
    QuarterLabel(),
    RelativeDayName(),
    MonthYearLabel(),
    OrdinalDayDate(),
    DateRangeLabel(),
    UtcOffsetStyle(),
    DurationParse(),
    RatioPercent(),
    SlaStatusLine(),
    SlaDowntimeBudget(),
    RoundingMode(),
]
