"""Word pools the families draw realistic inputs from."""

from __future__ import annotations

import datetime as dt
import random

# (imperative, past tense): commit and PR summaries start with one of these verbs.
VERBS: tuple[tuple[str, str], ...] = (
    ("add", "added"),
    ("fix", "fixed"),
    ("remove", "removed"),
    ("update", "updated"),
    ("rename", "renamed"),
    ("refactor", "refactored"),
    ("handle", "handled"),
    ("support", "supported"),
    ("cache", "cached"),
    ("validate", "validated"),
    ("document", "documented"),
    ("simplify", "simplified"),
    ("drop", "dropped"),
    ("move", "moved"),
    ("log", "logged"),
    ("retry", "retried"),
    ("limit", "limited"),
    ("split", "split"),
)
PAST_TO_BASE: dict[str, str] = {past: base for base, past in VERBS}

OBJECTS = (
    "expired tokens",
    "the login form",
    "retry logic",
    "pagination links",
    "the config loader",
    "empty search results",
    "invoice totals",
    "the upload button",
    "rate limit headers",
    "stale cache entries",
    "timezone offsets",
    "the health check",
    "duplicate webhooks",
    "user avatars",
    "the CSV export",
    "dark mode colors",
    "the password reset email",
    "slow dashboard queries",
    "null avatar urls",
    "the feature flag client",
    "currency rounding",
    "orphaned sessions",
)
QUALIFIERS = (
    "",
    "",
    "in the refresh flow",
    "on mobile",
    "for admin users",
    "during checkout",
    "in the API client",
    "when offline",
    "after deploy",
    "for large files",
    "in nightly jobs",
)

SCOPES = ("auth", "api", "billing", "ui", "db", "parser", "search", "cli", "docs", "payments", "notifications", "build")
TICKET_KEYS = ("WEB", "CORE", "PAY", "OPS", "API", "DATA", "MOB", "SEC")
PACKAGES = ("cli", "core", "web-ui", "sdk", "api-client", "worker")
SERVICES = ("auth", "billing-api", "search", "gateway", "notifier", "checkout", "reports", "media")
TEAMS = ("growth", "identity", "payments", "platform", "search", "mobile", "data", "infra")
REGIONS = ("eu-west-1", "us-east-2", "ap-south-1", "eu-central-1", "us-west-2")
ENVIRONMENTS = ("prod", "staging", "dev", "qa")
BRANCHES = ("main", "develop", "release/2.4", "feature/login", "hotfix/cart-total")
DOMAINS = ("example.com", "corp.example.org", "mail.example.net", "example.io")
FIRST_NAMES = ("maria", "john", "aiko", "lars", "fatima", "diego", "chen", "olga", "kwame", "priya", "tom", "ines")
LAST_NAMES = (
    "gonzalez",
    "smith",
    "tanaka",
    "nilsen",
    "haddad",
    "ramirez",
    "wang",
    "petrova",
    "mensah",
    "iyer",
    "garcia-lopez",
    "o-brien",
    "van-dijk",
)

# Multi-word phrases for identifier casing; some hold acronyms or short function words on purpose.
PHRASES = (
    "max retry count",
    "user id",
    "HTTP request timeout",
    "is feature enabled",
    "number of active sessions",
    "parse JSON response",
    "default page size",
    "last login time",
    "the primary database URL",
    "list of allowed origins",
    "should send email",
    "total price with tax",
    "cache key prefix",
    "retry delay in seconds",
    "name of the queue",
    "api base path",
    "upload size limit",
    "token expiry date",
    "count of failed jobs",
    "enable dark mode",
    "path to the config file",
    "current user role",
)


def ticket(rng: random.Random) -> str:
    return f"{rng.choice(TICKET_KEYS)}-{rng.randint(1, 9999)}"


def summary(rng: random.Random, past: bool = False) -> str:
    """A change summary such as "handle expired tokens in the refresh flow"."""
    base, past_form = rng.choice(VERBS)
    qualifier = rng.choice(QUALIFIERS)
    words = [past_form if past else base, rng.choice(OBJECTS)] + ([qualifier] if qualifier else [])
    return " ".join(words)


def hex_string(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def version(rng: random.Random) -> tuple[int, int, int]:
    return rng.choice((0, 1, 1, 2, 3, 4, 11)), rng.randint(0, 19), rng.randint(0, 30)


def instant(rng: random.Random) -> dt.datetime:
    """A UTC moment between 2020 and 2025."""
    return dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(6 * 365 * 86400))
