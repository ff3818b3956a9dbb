"""Naming across code and infrastructure: files, tests, database objects, metrics, Kubernetes, topics, packages."""

from __future__ import annotations

import datetime as dt
import posixpath
import random
import re

from .. import vocab
from ..base import Family, Params
from ..text import CASE_DESCRIPTIONS, join_case, kv_input, mapping_sentence, parse_kv, split_identifier, split_words


def _utc(text: str) -> dt.datetime:
    return dt.datetime.strptime(text.strip(), "%Y-%m-%dT%H:%M:%SZ")


def _iso(rng: random.Random) -> str:
    return vocab.instant(rng).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------------------------
# Files

_COMPONENTS = (
    "user avatar",
    "date range picker",
    "checkout summary card",
    "nav bar",
    "search results list",
    "invoice table row",
    "confirm dialog",
    "empty state banner",
    "password strength meter",
    "file upload dropzone",
    "toast",
    "pricing plan selector",
)
_COMPONENT_LAYOUTS = {
    "flat": "Each component is a single file named after the component: `<Name><ext>`.",
    "folder": "Each component gets its own folder named after the component, and the file inside repeats the "
    "name: `<Name>/<Name><ext>`.",
    "index": "Each component gets its own folder named after the component, and the file inside is always "
    "called `index`: `<Name>/index<ext>`.",
}


class ComponentFileName(Family):
    name = "component_file_name"
    title = "UI component files"
    summary = "Gives the file path of a new UI component."
    output_noun = "component file path"
    space = {"case": ("pascal", "kebab"), "layout": tuple(_COMPONENT_LAYOUTS), "ext": (".tsx", ".vue", ".svelte")}
    requests = ("File name for the {input} component?", "Where does the new {input} component go?", "{input}")

    def rules(self, p: Params) -> list[str]:
        return [
            f"<Name> is the component name written in {CASE_DESCRIPTIONS[p['case']]}.",
            _COMPONENT_LAYOUTS[p["layout"]],
            f"<ext> is `{p['ext']}`.",
            "Give the path relative to the components folder (no leading folder).",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return rng.choice(_COMPONENTS)

    def answer(self, p: Params, text: str) -> str:
        name = join_case(split_words(text), p["case"])
        return {
            "flat": f"{name}{p['ext']}",
            "folder": f"{name}/{name}{p['ext']}",
            "index": f"{name}/index{p['ext']}",
        }[p["layout"]]


_MIGRATION_CHANGES = (
    "create invoices table",
    "add email index to users",
    "drop legacy sessions",
    "rename plan column in subscriptions",
    "backfill order totals",
    "add status to refunds",
    "create audit log",
    "remove unused api keys",
    "add tenant id to reports",
)
_MIGRATION_STAMPS = {
    "%Y%m%d%H%M%S": "`YYYYMMDDHHMMSS`, 14 digits (like `20240305140709`)",
    "%Y_%m_%d_%H%M%S": "`YYYY_MM_DD_HHMMSS` (like `2024_03_05_140709`)",
    "%Y%m%d%H%M": "`YYYYMMDDHHMM`, to the minute with the seconds dropped (like `202403051407`)",
}


class MigrationFileName(Family):
    name = "migration_file_name"
    title = "Database migration files"
    summary = "Names database migration files from the change and the time it was written."
    output_noun = "migration file name"
    space = {"stamp": tuple(_MIGRATION_STAMPS), "sep": ("_", "-"), "ext": (".sql", ".up.sql", ".py")}
    requests = ("Name the migration file: {input}", "Migration file name for {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        return [
            f"Start with the creation time (already UTC) as {_MIGRATION_STAMPS[p['stamp']]}.",
            f"Then `{p['sep']}` and the change description in lowercase, its words joined by `{p['sep']}` "
            "(any character that is not a letter or digit separates words).",
            f"End with the extension `{p['ext']}`.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return kv_input([("change", rng.choice(_MIGRATION_CHANGES)), ("created", _iso(rng))])

    def answer(self, p: Params, text: str) -> str:
        fields = parse_kv(text)
        stamp = _utc(fields["created"]).strftime(p["stamp"])
        return stamp + p["sep"] + p["sep"].join(split_words(fields["change"])) + p["ext"]


_TEST_DIRS = ("src/components", "src/pages/checkout", "src/features/billing", "app/widgets", "src/ui/forms")
_TEST_STEMS = ("Button", "PriceTag", "UserMenu", "DatePicker", "CartSummary", "SearchBox", "Modal")
_SNAPSHOT_LOCATIONS = {
    "subfolder": "A snapshot file lives in a `__snapshots__` folder inside the test file's folder.",
    "same": "A snapshot file lives next to the test file, in the same folder.",
    "root": "Snapshot files live under a top-level `snapshots/` folder that repeats the test file's whole folder "
    "path (src/a/X.test.ts -> snapshots/src/a/...).",
}
_SNAPSHOT_NAMES = {
    "full": "Its name is the test file's full name plus `.snap` (Button.test.tsx -> Button.test.tsx.snap).",
    "no_ext": "Its name is the test file's name without its last extension, plus `.snap` "
    "(Button.test.tsx -> Button.test.snap).",
    "stem": "Its name is the test file's name up to the first dot, plus `.snap` (Button.test.tsx -> Button.snap).",
}


class SnapshotFilePath(Family):
    name = "snapshot_file_path"
    title = "Snapshot files"
    summary = "Gives the path of the snapshot file that belongs to a UI test file."
    output_noun = "snapshot path"
    space = {"location": tuple(_SNAPSHOT_LOCATIONS), "naming": tuple(_SNAPSHOT_NAMES)}
    requests = ("Where is the snapshot for {input}?", "Snapshot file path for {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        return [_SNAPSHOT_LOCATIONS[p["location"]], _SNAPSHOT_NAMES[p["naming"]]]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        kind, ext = rng.choice((".test", ".spec")), rng.choice((".tsx", ".ts", ".jsx", ".js"))
        return f"{rng.choice(_TEST_DIRS)}/{rng.choice(_TEST_STEMS)}{kind}{ext}"

    def answer(self, p: Params, text: str) -> str:
        folder, filename = posixpath.split(text.strip())
        name = {
            "full": filename,
            "no_ext": posixpath.splitext(filename)[0],
            "stem": filename.split(".")[0],
        }[p["naming"]] + ".snap"
        folder = {
            "subfolder": f"{folder}/__snapshots__",
            "same": folder,
            "root": f"snapshots/{folder}",
        }[p["location"]]
        return f"{folder}/{name}"


_DATABASES = ("orders", "billing", "users", "inventory", "analytics", "auth", "search_index")
_BACKUP_ORDERS = {
    "db_env_time": ("database", "env", "time"),
    "env_db_time": ("env", "database", "time"),
    "time_db_env": ("time", "database", "env"),
}
_BACKUP_STAMPS = {
    "%Y-%m-%d": "the UTC date only, as `YYYY-MM-DD` (like `2024-03-05`)",
    "%Y%m%dT%H%M%SZ": "the UTC date and time as `YYYYMMDDTHHMMSSZ` (like `20240305T140709Z`)",
    "%Y-%m-%d-%H%M": "the UTC date, a hyphen, then hours and minutes, as `YYYY-MM-DD-HHMM` (like `2024-03-05-1407`)",
}
_BACKUP_EXTS = {".sql.gz": "a gzipped SQL dump", ".dump": "a custom-format dump"}


class BackupFileName(Family):
    name = "backup_file_name"
    title = "Database backup files"
    summary = "Names database backup files from the database, the environment and the time of the backup."
    output_noun = "backup file name"
    space = {"order": tuple(_BACKUP_ORDERS), "stamp": tuple(_BACKUP_STAMPS), "ext": tuple(_BACKUP_EXTS)}
    requests = ("Backup file name for {input}", "What do we call this backup? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        shape = "_".join(f"<{part}>" for part in _BACKUP_ORDERS[p["order"]])
        return [
            f"The name is `{shape}`: the parts joined by `_`.",
            "Keep the database and environment names exactly as given.",
            f"<time> is {_BACKUP_STAMPS[p['stamp']]}.",
            f"Every backup is {_BACKUP_EXTS[p['ext']]}, so the name ends with `{p['ext']}`.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return kv_input(
            [("database", rng.choice(_DATABASES)), ("env", rng.choice(vocab.ENVIRONMENTS)), ("taken", _iso(rng))]
        )

    def answer(self, p: Params, text: str) -> str:
        fields = parse_kv(text)
        values = {
            "database": fields["database"],
            "env": fields["env"],
            "time": _utc(fields["taken"]).strftime(p["stamp"]),
        }
        return "_".join(values[part] for part in _BACKUP_ORDERS[p["order"]]) + p["ext"]


# --------------------------------------------------------------------------------------------------------------
# Tests

_TEST_UNITS = ("parse date", "format price", "load config", "send invoice", "resize image", "merge carts", "slugify")
_TEST_BEHAVIOURS = (
    "returns none for empty string",
    "raises on negative amount",
    "retries after timeout",
    "keeps trailing zeros",
    "rejects expired token",
    "skips blank lines",
    "rounds half up",
    "uses default region",
)
_TEST_FRAMEWORKS = {
    "pytest": "pytest: `def test_<unit>_<behaviour>():` with every word in lowercase joined by `_`",
    "go": "Go testing: `func Test<Unit>_<Behaviour>(t *testing.T) {` with the unit and the behaviour each in "
    "PascalCase",
    "junit": "JUnit 5: `@Test void <unit><Behaviour>() {` with all the words together as one camelCase name "
    "(first word lowercase)",
    "jest": 'Jest: `it("<unit> <behaviour>", () => {` with the words in lowercase separated by spaces',
    "rspec": 'RSpec: `it "<unit> <behaviour>" do` with the words in lowercase separated by spaces',
}


class UnitTestDeclaration(Family):
    name = "test_declaration"
    title = "Test declarations"
    summary = "Writes the first line of a new test in the project's test framework."
    output_noun = "test declaration"
    space = {"framework": tuple(_TEST_FRAMEWORKS), "unit": (True, False)}
    requests = ("Start a test for this: {input}", "First line of the test? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        unit = (
            "The test name holds the unit, then the behaviour."
            if p["unit"]
            else "Tests are grouped by unit already, so leave the unit out of the name: <unit> and the separator "
            "after it are dropped and only the behaviour remains."
        )
        return [
            f"We write tests with {_TEST_FRAMEWORKS[p['framework']]}.",
            unit,
            "Write only that first line of the test, exactly in that shape.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return kv_input([("unit", rng.choice(_TEST_UNITS)), ("behaviour", rng.choice(_TEST_BEHAVIOURS))])

    def answer(self, p: Params, text: str) -> str:
        fields = parse_kv(text)
        unit, behaviour = split_words(fields["unit"]), split_words(fields["behaviour"])
        framework = p["framework"]
        if framework == "pytest":
            return "def test_" + "_".join((unit if p["unit"] else []) + behaviour) + "():"
        if framework == "go":
            parts = ([join_case(unit, "pascal")] if p["unit"] else []) + [join_case(behaviour, "pascal")]
            return f"func Test{'_'.join(parts)}(t *testing.T) {{"
        if framework == "junit":
            return f"@Test void {join_case((unit if p['unit'] else []) + behaviour, 'camel')}() {{"
        words = " ".join((unit if p["unit"] else []) + behaviour)
        return f'it("{words}", () => {{' if framework == "jest" else f'it "{words}" do'


# --------------------------------------------------------------------------------------------------------------
# Database objects

_TABLE_COLUMNS = {
    "users": ("email", "tenant_id", "created_at", "last_name"),
    "orders": ("customer_id", "status", "placed_at", "tenant_id"),
    "order_items": ("order_id", "sku", "warehouse_id"),
    "invoices": ("account_id", "number", "due_on"),
    "user_roles": ("user_id", "role_id", "granted_at"),
    "payments": ("invoice_id", "provider_ref", "paid_at"),
}
_INDEX_KINDS = ("index", "unique constraint", "primary key")
_INDEX_CODES = {
    "short": {"index": "ix", "unique constraint": "uq", "primary key": "pk"},
    "long": {"index": "idx", "unique constraint": "key", "primary key": "pkey"},
}


class DbIndexName(Family):
    name = "db_index_name"
    title = "Index and constraint names"
    summary = "Names database indexes, unique constraints and primary keys."
    output_noun = "index name"
    space = {"position": ("prefix", "suffix"), "codes": tuple(_INDEX_CODES), "case": ("lower", "upper")}
    requests = ("Name for this {input}", "What do we call the index? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        shape = "<code>_<table>_<columns>" if p["position"] == "prefix" else "<table>_<columns>_<code>"
        case = (
            "Write the whole name in lowercase."
            if p["case"] == "lower"
            else "Write the whole name in uppercase (Oracle style)."
        )
        return [
            f"The name is `{shape}`.",
            f"The code depends on the kind: {mapping_sentence(_INDEX_CODES[p['codes']])}.",
            "<columns> are the column names in the order given, joined by `_`.",
            case,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        table = rng.choice(list(_TABLE_COLUMNS))
        columns = rng.sample(_TABLE_COLUMNS[table], rng.choice((1, 1, 2)))
        return f"{rng.choice(_INDEX_KINDS)} on {table} ({', '.join(columns)})"

    def answer(self, p: Params, text: str) -> str:
        head, columns = text.rstrip(")").split(" (")
        kind, table = head.split(" on ")
        parts = [table, "_".join(columns.split(", "))]
        code = _INDEX_CODES[p["codes"]][kind]
        name = "_".join([code] + parts if p["position"] == "prefix" else parts + [code])
        return name.upper() if p["case"] == "upper" else name


_FOREIGN_KEYS = (
    ("orders", "customer_id", "customers"),
    ("order_items", "order_id", "orders"),
    ("invoices", "account_id", "accounts"),
    ("payments", "invoice_id", "invoices"),
    ("user_roles", "role_id", "roles"),
    ("comments", "author_id", "users"),
    ("refunds", "payment_id", "payments"),
    ("shipments", "address_id", "addresses"),
    ("api_keys", "owner_id", "users"),
)
_FK_FORMS = {
    "fk_table_column": "fk_{table}_{column}",
    "fk_table_ref": "fk_{table}_{ref}",
    "table_column_fkey": "{table}_{column}_fkey",
    "fk_table_column_ref": "fk_{table}_{column}_{ref}",
}


class ForeignKeyName(Family):
    name = "foreign_key_name"
    title = "Foreign key constraint names"
    summary = "Names foreign key constraints in database migrations."
    output_noun = "constraint name"
    space = {"form": tuple(_FK_FORMS), "case": ("lower", "upper")}
    requests = ("Constraint name for {input}?", "Name the foreign key: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        shape = _FK_FORMS[p["form"]].replace("{ref}", "<referenced_table>").replace("{", "<").replace("}", ">")
        case = "Write the whole name in lowercase." if p["case"] == "lower" else "Write the whole name in uppercase."
        return [
            f"A foreign key constraint is named `{shape}`.",
            "<table> is the table that holds the column; <column> is that column; "
            "<referenced_table> is the table it points to.",
            "Leave out the referenced column.",
            case,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        table, column, ref = rng.choice(_FOREIGN_KEYS)
        return f"{table}.{column} references {ref}.id"

    def answer(self, p: Params, text: str) -> str:
        source, target = text.split(" references ")
        table, column = source.split(".")
        name = _FK_FORMS[p["form"]].format(table=table, column=column, ref=target.split(".")[0])
        return name.upper() if p["case"] == "upper" else name


# --------------------------------------------------------------------------------------------------------------
# Metrics and infrastructure objects

# (type, what is measured, unit)
_METRICS = (
    ("counter", "http requests", "none"),
    ("counter", "failed logins", "none"),
    ("counter", "bytes sent", "kilobytes"),
    ("counter", "job runtime", "milliseconds"),
    ("counter", "cache misses", "none"),
    ("counter", "bytes received", "kilobytes"),
    ("counter", "gc pause time", "milliseconds"),
    ("gauge", "queue depth", "none"),
    ("gauge", "memory usage", "kilobytes"),
    ("gauge", "cache age", "milliseconds"),
    ("histogram", "request duration", "milliseconds"),
    ("histogram", "payload size", "kilobytes"),
    ("histogram", "db query duration", "milliseconds"),
    ("histogram", "render time", "seconds"),
)
_BASE_UNITS = {"milliseconds": "seconds", "seconds": "seconds", "kilobytes": "bytes", "bytes": "bytes"}


class PrometheusMetricName(Family):
    name = "prometheus_metric_name"
    title = "Metric names"
    summary = "Names Prometheus metrics from the service, what is measured, the metric type and the unit."
    output_noun = "metric name"
    space = {"namespace": ("", "acme_"), "units": ("base", "given"), "total": (True, False)}
    requests = ("Metric name for {input}", "What should this metric be called? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        namespace = (
            "Start with the service name."
            if not p["namespace"]
            else f"Start with the namespace `{p['namespace']}`, then the service name."
        )
        units = (
            f"Then the unit converted to its base unit: {mapping_sentence(_BASE_UNITS)}."
            if p["units"] == "base"
            else "Then the unit exactly as given (milliseconds stays milliseconds)."
        )
        total = (
            "Counters end with `_total`; gauges and histograms do not."
            if p["total"]
            else "No metric gets a `_total` suffix, counters included."
        )
        return [
            "Metric names are lowercase words joined by `_`; hyphens in the service name become `_`.",
            namespace,
            "Then the words of what is measured.",
            units + " A unit of none adds nothing.",
            total,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        kind, what, unit = rng.choice(_METRICS)
        return kv_input([("service", rng.choice(vocab.SERVICES)), ("measures", what), ("type", kind), ("unit", unit)])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        words = split_words(f["service"]) + split_words(f["measures"])
        if f["unit"] != "none":
            words.append(_BASE_UNITS[f["unit"]] if p["units"] == "base" else f["unit"])
        if f["type"] == "counter" and p["total"]:
            words.append("total")
        return p["namespace"] + "_".join(words)


_K8S_KINDS = {"Deployment": "deploy", "Service": "svc", "ConfigMap": "cm", "CronJob": "cj", "StatefulSet": "sts"}
_K8S_COMPONENTS = ("worker", "web", "migrator", "consumer", "scheduler")


class K8sObjectName(Family):
    name = "k8s_object_name"
    title = "Kubernetes object names"
    summary = "Names Kubernetes objects from the kind, the app, its component and the environment."
    output_noun = "object name"
    space = {"kind": ("suffix", "prefix", "omit"), "component": (True, False), "env": ("omit", "suffix")}
    requests = ("metadata.name for {input}?", "Name this Kubernetes object: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        kind = {
            "suffix": f"Put the kind code after everything else: {mapping_sentence(_K8S_KINDS)}.",
            "prefix": f"Put the kind code in front of everything else: {mapping_sentence(_K8S_KINDS)}.",
            "omit": "Leave the kind out of the name.",
        }[p["kind"]]
        component = "After the app comes the component." if p["component"] else "Leave the component out."
        env = (
            "Then the environment."
            if p["env"] == "suffix"
            else "Leave the environment out (the namespace already says it)."
        )
        return [
            "The core of the name is the app name, kept as given.",
            component,
            env,
            kind,
            "Join all parts with `-`.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return kv_input(
            [
                ("kind", rng.choice(list(_K8S_KINDS))),
                ("app", rng.choice(vocab.SERVICES)),
                ("component", rng.choice(_K8S_COMPONENTS)),
                ("env", rng.choice(vocab.ENVIRONMENTS)),
            ]
        )

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        parts = [f["app"]] + ([f["component"]] if p["component"] else []) + ([f["env"]] if p["env"] == "suffix" else [])
        code = _K8S_KINDS[f["kind"]]
        parts = {"suffix": parts + [code], "prefix": [code] + parts, "omit": parts}[p["kind"]]
        return "-".join(parts)


_BRANCH_TYPES = ("feature/", "fix/", "chore/", "Feature/", "hotfix/")
_BRANCH_TOPICS = (
    "New Checkout flow",
    "handle expired tokens",
    "Dark mode colors",
    "retry logic for webhooks",
    "CSV export for large files",
    "fix null avatar URLs",
    "Pagination links on mobile",
    "rate limit headers",
)


def _branch(rng: random.Random) -> str:
    topic = rng.choice(_BRANCH_TOPICS)
    joiner = rng.choice((" ", "_", "-"))
    return f"{rng.choice(_BRANCH_TYPES)}{vocab.ticket(rng)}{joiner}{topic.replace(' ', joiner)}"


class K8sLabelValue(Family):
    name = "k8s_label_value"
    title = "Kubernetes label values"
    summary = "Turns a git branch name into a valid Kubernetes label value for preview deployments."
    output_noun = "label value"
    space = {"replace": ("-", "_", "."), "lowercase": (True, False), "max_len": (63, 20)}
    requests = ("Label value for branch {input}", "What goes in the branch label for {input}?", "{input}")

    def rules(self, p: Params) -> list[str]:
        case = "Lowercase all letters." if p["lowercase"] else "Keep every letter's case as it is."
        return [
            f"Replace every run of characters other than letters, digits, `-`, `_` and `.` with one `{p['replace']}`.",
            case,
            f"Cut the result to at most {p['max_len']} characters.",
            "Finally strip any `-`, `_` or `.` from both ends.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return _branch(rng)

    def answer(self, p: Params, text: str) -> str:
        value = re.sub(r"[^A-Za-z0-9._-]+", p["replace"], text.strip())
        value = value.lower() if p["lowercase"] else value
        return value[: p["max_len"]].strip("-_.")


# --------------------------------------------------------------------------------------------------------------
# Messaging

_TOPIC_DOMAINS = ("billing", "identity", "shipping", "catalog", "payments", "search")
_TOPIC_ENTITIES = ("invoice", "invoice line", "user profile", "order", "payment method", "shipment", "api key")
_TOPIC_EVENTS = ("created", "paid", "cancelled", "updated", "refund requested", "deleted", "address changed")


class KafkaTopicName(Family):
    name = "kafka_topic_name"
    title = "Event topic names"
    summary = "Names Kafka topics from the environment, domain, entity, event and schema version."
    output_noun = "topic name"
    space = {"sep": (".", "_"), "words": ("kebab", "camel"), "env": (True, False), "version": (True, False)}
    requests = ("Topic for {input}?", "Which topic do we publish to? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        env = (
            "The first part is the environment."
            if p["env"]
            else "There is no environment part (each cluster serves one environment)."
        )
        version = (
            "End with `v` and the schema version number as the last part."
            if p["version"]
            else "Leave the schema version out of the name."
        )
        return [
            env,
            "The domain, the entity and the event follow, in that order.",
            version,
            f"Separate the parts with `{p['sep']}`.",
            f"Write multi-word parts in {CASE_DESCRIPTIONS[p['words']]}.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return kv_input(
            [
                ("env", rng.choice(vocab.ENVIRONMENTS)),
                ("domain", rng.choice(_TOPIC_DOMAINS)),
                ("entity", rng.choice(_TOPIC_ENTITIES)),
                ("event", rng.choice(_TOPIC_EVENTS)),
                ("schema version", str(rng.randint(1, 4))),
            ]
        )

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        parts = ([f["env"]] if p["env"] else []) + [
            join_case(split_words(f[key]), p["words"]) for key in ("domain", "entity", "event")
        ]
        if p["version"]:
            parts.append("v" + f["schema version"])
        return p["sep"].join(parts)


_PAST_TENSE = {
    "cancel": "cancelled",
    "refund": "refunded",
    "ship": "shipped",
    "create": "created",
    "approve": "approved",
    "send": "sent",
    "pay": "paid",
    "archive": "archived",
    "submit": "submitted",
    "close": "closed",
}
# (bounded context, command)
_COMMANDS = (
    ("billing", "CancelSubscription"),
    ("billing", "RefundPayment"),
    ("billing", "PayInvoice"),
    ("billing", "CreateInvoice"),
    ("shipping", "ShipOrder"),
    ("shipping", "CancelOrder"),
    ("identity", "SendPasswordReset"),
    ("identity", "CloseAccount"),
    ("identity", "SendWelcomeEmail"),
    ("support", "SubmitSupportTicket"),
    ("support", "ApproveRefund"),
    ("catalog", "ArchiveDraft"),
    ("finance", "ApproveExpenseReport"),
)


class DomainEventName(Family):
    name = "domain_event_name"
    title = "Domain event names"
    summary = "Names the domain event that a command emits."
    output_noun = "event name"
    space = {"case": ("pascal", "snake", "dot"), "context": (False, True), "suffix": (False, True)}
    requests = ("Event name for {input}?", "What event does this command emit? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        context = (
            "Put the bounded context first, as its own word."
            if p["context"]
            else "Leave the bounded context out of the name."
        )
        suffix = "Append the word `event` as the last word." if p["suffix"] else "Do not add the word event."
        return [
            "The command is a verb followed by its object; the event is the object followed by the verb in the past "
            f"tense: {mapping_sentence(_PAST_TENSE)}.",
            context,
            suffix,
            f"Write all words in {CASE_DESCRIPTIONS[p['case']]}.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        context, command = rng.choice(_COMMANDS)
        return kv_input([("context", context), ("command", command)])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        verb, *obj = split_identifier(f["command"])
        words = ([f["context"]] if p["context"] else []) + obj + [_PAST_TENSE[verb]]
        return join_case(words + (["event"] if p["suffix"] else []), p["case"])


# --------------------------------------------------------------------------------------------------------------
# Packages and modules

_ORGS = ("Acme Corp", "Globex Labs", "Initech Systems", "Umbrella Health", "Stark Industries", "Wayne Tech")
_PROJECTS = ("Billing Client", "Date Utils", "UI Kit", "Feature Flags", "Event Bus", "Auth", "Charts", "Form Fields")


class NpmPackageName(Family):
    name = "npm_package_name"
    title = "npm package names"
    summary = "Names the npm packages our organisation publishes."
    output_noun = "package name"
    space = {"scope": ("scoped", "prefixed"), "org": ("first", "full"), "suffix": ("", "-js")}
    requests = ("npm name for {input}?", "What do we publish this as? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        org = (
            "<org> is only the first word of the organisation name."
            if p["org"] == "first"
            else "<org> is the whole organisation name, its words joined by `-`."
        )
        scope = (
            "Publish under the npm scope: `@<org>/<project>`."
            if p["scope"] == "scoped"
            else "Use no npm scope; join org and project with a hyphen: `<org>-<project>`."
        )
        suffix = f"End the name with `{p['suffix']}`." if p["suffix"] else "Add no suffix after the project."
        return [
            "Package names are lowercase; <project> is the project's words joined by `-`.",
            org,
            scope,
            suffix,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return kv_input([("org", rng.choice(_ORGS)), ("project", rng.choice(_PROJECTS))])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        org_words = split_words(f["org"])
        org = org_words[0] if p["org"] == "first" else "-".join(org_words)
        project = "-".join(split_words(f["project"])) + p["suffix"]
        return f"@{org}/{project}" if p["scope"] == "scoped" else f"{org}-{project}"


_JAVA_DOMAINS = ("payments.acme.com", "api.globex.net", "data.initech.org", "shop.umbrella.io", "acme.com")
_JAVA_MODULES = ("billing client", "order history", "rate limiter", "pdf export", "search", "user sync")


class JavaPackageName(Family):
    name = "java_package_name"
    title = "Java package names"
    summary = "Names the root Java package of a new module."
    output_noun = "package name"
    space = {"domain": ("full", "org"), "team": (True, False), "words": ("concat", "underscore", "dotted")}
    requests = ("Java package for {input}?", "Root package name for {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        domain = (
            "Start with the company domain reversed label by label (payments.acme.com -> com.acme.payments)."
            if p["domain"] == "full"
            else "Start with only the last two labels of the domain, reversed (payments.acme.com -> com.acme); "
            "drop any subdomain."
        )
        team = "Then the team name." if p["team"] else "Do not include the team name."
        words = {
            "concat": "Then the module name in lowercase with its words run together (rate limiter -> ratelimiter).",
            "underscore": "Then the module name in lowercase with its words joined by `_` "
            "(rate limiter -> rate_limiter).",
            "dotted": "Then the module name in lowercase with each word as its own package level "
            "(rate limiter -> rate.limiter).",
        }[p["words"]]
        return [domain, team, words, "Separate all parts with `.`."]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return kv_input(
            [
                ("domain", rng.choice(_JAVA_DOMAINS)),
                ("team", rng.choice(vocab.TEAMS)),
                ("module", rng.choice(_JAVA_MODULES)),
            ]
        )

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        labels = f["domain"].split(".")[::-1]
        labels = labels if p["domain"] == "full" else labels[:2]
        words = split_words(f["module"])
        module = {"concat": "".join(words), "underscore": "_".join(words), "dotted": ".".join(words)}[p["words"]]
        return ".".join(labels + ([f["team"]] if p["team"] else []) + [module])


_GO_REPOS = ("Billing Service", "Rate Limiter", "Event Bus", "Auth Proxy", "Search Indexer", "Config Loader")


class GoModulePath(Family):
    name = "go_module_path"
    title = "Go module paths"
    summary = "Writes the module path in go.mod for a repository."
    output_noun = "module path"
    space = {"host": ("github", "vanity"), "name": ("kebab", "concat"), "major": ("subdir", "dotted")}
    requests = ("Module path for {input}?", "What goes after `module` in go.mod? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        host = (
            "The path is `github.com/<org>/<repo>`."
            if p["host"] == "github"
            else "We serve vanity import paths: `go.<org>.dev/<repo>`."
        )
        name = (
            "<org> and <repo> are the names in lowercase with their words joined by `-`."
            if p["name"] == "kebab"
            else "<org> and <repo> are the names in lowercase with their words run together, no separator."
        )
        major = (
            "For major version 2 or higher, append `/v<major>` to the path (`/v3`); versions 0 and 1 add nothing."
            if p["major"] == "subdir"
            else "For major version 2 or higher, append `.v<major>` to the repo name (`.v3`); versions 0 and 1 add "
            "nothing."
        )
        return [host, name, major]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        major = rng.choice((0, 1, 2, 2, 3, 3, 4, 5))
        return kv_input([("org", rng.choice(_ORGS)), ("repo", rng.choice(_GO_REPOS)), ("major version", str(major))])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        joiner = "-" if p["name"] == "kebab" else ""
        org, repo = (joiner.join(split_words(f[key])) for key in ("org", "repo"))
        major = int(f["major version"])
        path = f"github.com/{org}/{repo}" if p["host"] == "github" else f"go.{org}.dev/{repo}"
        if major >= 2:
            path += f"/v{major}" if p["major"] == "subdir" else f".v{major}"
        return path


# --------------------------------------------------------------------------------------------------------------
# Code identifiers

_ABSTRACTIONS = (
    ("payment gateway", "stripe"),
    ("user repository", "postgres"),
    ("email sender", "smtp"),
    ("cache store", "redis"),
    ("file storage", "s3"),
    ("token verifier", "jwt"),
    ("rate limiter", "in memory"),
    ("search index", "elastic"),
    ("message bus", "kafka"),
)
_INTERFACE_STYLES = {
    "i_prefix": "Interfaces are the concept in PascalCase with a capital `I` in front (IPaymentGateway).",
    "plain": "Interfaces are the concept in PascalCase with no prefix or suffix (PaymentGateway).",
    "interface_suffix": "Interfaces are the concept in PascalCase followed by `Interface` "
    "(PaymentGatewayInterface).",
}
_IMPL_STYLES = {
    "impl_suffix": "The class is the concept in PascalCase followed by `Impl` (PaymentGatewayImpl); "
    "the backend is not part of its name.",
    "backend_prefix": "The class is the backend in PascalCase followed by the concept in PascalCase "
    "(in memory + cache store -> InMemoryCacheStore).",
    "backend_suffix": "The class is the concept in PascalCase followed by the backend in PascalCase "
    "(cache store + in memory -> CacheStoreInMemory).",
}


class InterfaceClassNames(Family):
    name = "interface_class_names"
    title = "Interface and implementation names"
    summary = "Names an interface and its implementing class."
    output_noun = "pair of type names"
    space = {"interface": tuple(_INTERFACE_STYLES), "impl": tuple(_IMPL_STYLES)}
    requests = ("Type names for {input}?", "Name the interface and the class: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        return [
            _INTERFACE_STYLES[p["interface"]],
            _IMPL_STYLES[p["impl"]],
            "Answer with the interface name, a comma and a space, then the class name.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        concept, backend = rng.choice(_ABSTRACTIONS)
        return f"{concept} backed by {backend}"

    def answer(self, p: Params, text: str) -> str:
        concept, backend = (join_case(split_words(part), "pascal") for part in text.split(" backed by "))
        interface = {"i_prefix": "I" + concept, "plain": concept, "interface_suffix": concept + "Interface"}
        impl = {
            "impl_suffix": concept + "Impl",
            "backend_prefix": backend + concept,
            "backend_suffix": concept + backend,
        }
        return f"{interface[p['interface']]}, {impl[p['impl']]}"


_CONSTANTS = (
    ("request timeout", "30", "seconds"),
    ("retry delay", "500", "milliseconds"),
    ("max upload size", "10", "megabytes"),
    ("session lifetime", "45", "minutes"),
    ("poll interval", "250", "milliseconds"),
    ("cache ttl", "300", "seconds"),
    ("max body size", "2", "megabytes"),
    ("max retries", "5", ""),
    ("default page size", "50", ""),
    ("lock timeout", "15", "seconds"),
    ("token lifetime", "60", "minutes"),
    ("max batch size", "100", ""),
    ("heartbeat interval", "5", "seconds"),
    ("max image size", "8", "megabytes"),
    ("debounce delay", "300", "milliseconds"),
)
_UNIT_WORDS = {
    "full": {"seconds": "seconds", "milliseconds": "milliseconds", "megabytes": "megabytes", "minutes": "minutes"},
    "short": {"seconds": "sec", "milliseconds": "ms", "megabytes": "mb", "minutes": "min"},
}
_CONSTANT_STYLES = {
    "screaming": "SCREAMING_SNAKE_CASE (like `MAX_RETRY_COUNT`)",
    "k_prefix": "a lowercase `k` followed by the words in PascalCase (like `kMaxRetryCount`)",
    "pascal": "PascalCase (like `MaxRetryCount`)",
}


class ConstantName(Family):
    name = "constant_name"
    title = "Constant names"
    summary = "Names constants from a description of the setting, its value and its unit."
    output_noun = "constant"
    space = {"style": tuple(_CONSTANT_STYLES), "unit": ("full", "short"), "assign": (False, True)}
    requests = ("Constant for {input}", "Declare a constant: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        unit = f"The unit becomes the last word of the name: {mapping_sentence(_UNIT_WORDS[p['unit']])}."
        assign = (
            "Write `<NAME> = <value>` with the number only."
            if p["assign"]
            else "Write the name only, without the value."
        )
        return [
            unit + " A value without a unit adds no word.",
            f"Write the name in {_CONSTANT_STYLES[p['style']]}.",
            assign,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        what, value, unit = rng.choice(_CONSTANTS)
        return f"{what}: {value} {unit}".rstrip()

    def answer(self, p: Params, text: str) -> str:
        what, value = text.split(": ")
        number, *unit = value.split(" ")
        words = split_words(what) + ([_UNIT_WORDS[p["unit"]][unit[0]]] if unit else [])
        name = {
            "screaming": join_case(words, "screaming_snake"),
            "k_prefix": "k" + join_case(words, "pascal"),
            "pascal": join_case(words, "pascal"),
        }[p["style"]]
        return f"{name} = {number}" if p["assign"] else name


_CLI_SWITCHES = ("dry run", "verbose", "color output", "follow links", "cache", "progress bar", "strict mode")
_CLI_VALUED = (
    ("output dir", "path"),
    ("max retries", "number"),
    ("config file", "file"),
    ("base url", "url"),
    ("log level", "level"),
    ("timeout", "duration"),
    ("target env", "name"),
)


class CliFlagName(Family):
    name = "cli_flag_name"
    title = "Command-line flags"
    summary = "Writes the command-line flag for a new option of our CLI tools."
    output_noun = "flag"
    space = {"dash": ("--", "-"), "sep": ("-", "_"), "value": ("equals", "space")}
    requests = ("Flag for {input}?", "How is this option spelled on the command line? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        value = (
            "An option that takes a value is written `<flag>=<TYPE>`: an equals sign and the value type in uppercase."
            if p["value"] == "equals"
            else "An option that takes a value is written `<flag> <type>`: a space and the value type in lowercase "
            "inside angle brackets."
        )
        return [
            f"A flag is `{p['dash']}` followed by the option's words in lowercase joined by `{p['sep']}`.",
            "A switch that is on by default is written as its negation: the word `no` comes before the option's "
            "words and is joined like them.",
            "A switch takes no value.",
            value,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        if rng.random() < 0.3:
            return f"{rng.choice(_CLI_SWITCHES)} (switch, {rng.choice(('on', 'off'))} by default)"
        option, kind = rng.choice(_CLI_VALUED)
        return f"{option} (takes a {kind})"

    def answer(self, p: Params, text: str) -> str:
        option, detail = text.rstrip(")").split(" (")
        words = split_words(option)
        if detail.startswith("switch"):
            flag = p["dash"] + p["sep"].join((["no"] if " on " in detail else []) + words)
            return flag
        flag = p["dash"] + p["sep"].join(words)
        kind = detail.split(" ")[-1]
        return f"{flag}={kind.upper()}" if p["value"] == "equals" else f"{flag} <{kind}>"


_I18N_PAGES = ("checkout", "settings", "search", "login", "dashboard", "billing")
_I18N_COMPONENTS = ("payment form", "profile header", "results list", "delete dialog", "nav bar", "plan picker")
_I18N_TEXTS = (
    "Card number is invalid",
    "Save changes",
    "Your session has expired",
    "Are you sure you want to delete this item?",
    "No results match your search",
    "Password must have 8 characters",
    "Don't show this again",
    "Upgrade to the Pro plan",
    "Try again in a few minutes",
)


class I18nMessageKey(Family):
    name = "i18n_message_key"
    title = "Translation keys"
    summary = "Derives the translation key for a new UI string."
    output_noun = "translation key"
    space = {"case": ("camel", "snake", "kebab"), "namespace": (False, True), "max_words": (0, 3)}
    requests = ("Translation key for {input}", "i18n key? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        joins = (
            "The key is `<page>:<component>.<text>`: the page is the namespace, followed by `:`."
            if p["namespace"]
            else "The key is `<page>.<component>.<text>`, all parts joined by `.`."
        )
        limit = (
            f"<text> uses only the first {p['max_words']} words of the text."
            if p["max_words"]
            else "<text> uses every word of the text."
        )
        return [
            joins,
            "Words are lowercase; any character that is not a letter or digit separates words "
            "(so apostrophes split words too).",
            limit,
            f"Write each part in {CASE_DESCRIPTIONS[p['case']]}.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return kv_input(
            [
                ("page", rng.choice(_I18N_PAGES)),
                ("component", rng.choice(_I18N_COMPONENTS)),
                ("text", rng.choice(_I18N_TEXTS)),
            ]
        )

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        words = split_words(f["text"])
        words = words[: p["max_words"]] if p["max_words"] else words
        page, component = (join_case(split_words(f[key]), p["case"]) for key in ("page", "component"))
        message = join_case(words, p["case"])
        return f"{page}:{component}.{message}" if p["namespace"] else f"{page}.{component}.{message}"


# --------------------------------------------------------------------------------------------------------------
# Storage and hosts

_OBJECT_KINDS = ("invoices", "receipts", "exports", "avatars", "reports")
_OBJECT_FILES = ("Invoice March.PDF", "receipt 0042.pdf", "Q3 Export.csv", "Profile Photo.JPG", "weekly report.xlsx")
_PARTITIONS = {
    "path": "the UTC date as `YYYY/MM/DD` (three levels, like `2024/03/05`)",
    "hive": "the UTC date as `year=YYYY/month=MM/day=DD` (like `year=2024/month=03/day=05`)",
    "flat": "the UTC date as one level `YYYY-MM-DD` (like `2024-03-05`)",
}


class S3ObjectKey(Family):
    name = "s3_object_key"
    title = "Object storage keys"
    summary = "Builds the S3 object key under which an uploaded file is stored."
    output_noun = "object key"
    space = {"partition": tuple(_PARTITIONS), "tenant": ("first", "after_kind"), "file": ("slug", "keep")}
    requests = ("Object key for {input}", "Where in the bucket does this go? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        order = (
            "The key is `<tenant>/<kind>/<date>/<file>`."
            if p["tenant"] == "first"
            else "The key is `<kind>/<tenant>/<date>/<file>`."
        )
        file = (
            "<file> is the file name in lowercase with every space replaced by `-`."
            if p["file"] == "slug"
            else "<file> is the file name exactly as uploaded, spaces and capitals included."
        )
        return [
            order,
            "<tenant> is `t` followed by the tenant number; <kind> is kept as given.",
            f"<date> is {_PARTITIONS[p['partition']]}.",
            file,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return kv_input(
            [
                ("tenant", str(rng.randint(1, 9999))),
                ("kind", rng.choice(_OBJECT_KINDS)),
                ("uploaded", _iso(rng)),
                ("file", rng.choice(_OBJECT_FILES)),
            ]
        )

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        when = _utc(f["uploaded"])
        date = {
            "path": when.strftime("%Y/%m/%d"),
            "hive": when.strftime("year=%Y/month=%m/day=%d"),
            "flat": when.strftime("%Y-%m-%d"),
        }[p["partition"]]
        file = f["file"].lower().replace(" ", "-") if p["file"] == "slug" else f["file"]
        tenant = "t" + f["tenant"]
        head = [tenant, f["kind"]] if p["tenant"] == "first" else [f["kind"], tenant]
        return "/".join(head + [date, file])


_HOST_DOMAIN = "internal.acme.net"


class ServiceHostname(Family):
    name = "service_hostname"
    title = "Internal host names"
    summary = "Gives the internal DNS name of a service in an environment and region."
    output_noun = "host name"
    space = {"env_form": ("label", "suffix"), "prod": ("keep", "omit"), "region": (True, False)}
    requests = ("Host name for {input}?", "What's the internal DNS name? {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        env = (
            "The environment is its own DNS label right after the service (billing.staging...)."
            if p["env_form"] == "label"
            else "The environment is appended to the service label with a hyphen (billing-staging...)."
        )
        prod = (
            "Production is written like any other environment, as `prod`."
            if p["prod"] == "keep"
            else "For `prod` the environment is left out entirely."
        )
        region = (
            "After the service and environment comes the region as its own label."
            if p["region"]
            else "The region is not part of the name."
        )
        return [
            "The name starts with the service name as given.",
            env,
            prod,
            region,
            f"End with `.{_HOST_DOMAIN}`.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        env = rng.choice(("prod", "prod", "prod", "staging", "dev", "qa"))
        return kv_input([("service", rng.choice(vocab.SERVICES)), ("env", env), ("region", rng.choice(vocab.REGIONS))])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        labels = [f["service"]]
        if not (f["env"] == "prod" and p["prod"] == "omit"):
            if p["env_form"] == "label":
                labels.append(f["env"])
            else:
                labels[0] += "-" + f["env"]
        if p["region"]:
            labels.append(f["region"])
        return ".".join(labels + [_HOST_DOMAIN])


_PREVIEW_APPS = ("web", "admin", "docs", "shop", "portal")
_PREVIEW_DOMAIN = "preview.acme.dev"


class PreviewUrl(Family):
    name = "preview_url"
    title = "Preview deployment URLs"
    summary = "Gives the URL of the preview deployment for a pull request."
    output_noun = "preview URL"
    space = {"id": ("pr", "branch"), "shape": ("subdomain", "dashed"), "strip_type": (False, True), "cut": (0, 20)}
    requests = ("Preview URL for {input}?", "Where is the preview deployed? {input}", "{input}")

    def valid(self, params: Params) -> bool:
        return params["id"] == "branch" or (not params["strip_type"] and not params["cut"])

    def rules(self, p: Params) -> list[str]:
        shape = (
            f"The URL is `https://<id>.<app>.{_PREVIEW_DOMAIN}`."
            if p["shape"] == "subdomain"
            else f"The URL is `https://<app>-<id>.{_PREVIEW_DOMAIN}`."
        )
        if p["id"] == "pr":
            return [shape, "<id> is `pr-` followed by the pull request number; the branch name is not used."]
        strip = (
            "First drop everything up to and including the first `/` of the branch name."
            if p["strip_type"]
            else "Use the whole branch name, type prefix such as feature/ included."
        )
        cut = (
            f"Cut the slug to at most {p['cut']} characters, then strip `-` from its end."
            if p["cut"]
            else "Never shorten the slug."
        )
        return [
            shape,
            "<id> is a slug of the branch name; the pull request number is not used.",
            strip,
            "Lowercase it, replace every run of characters that are not letters or digits with one `-`, "
            "and strip `-` from both ends.",
            cut,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        app, pr = rng.choice(_PREVIEW_APPS), str(rng.randint(2, 4999))
        return kv_input([("app", app), ("branch", _branch(rng)), ("PR", pr)])

    def answer(self, p: Params, text: str) -> str:
        f = parse_kv(text)
        if p["id"] == "pr":
            ident = "pr-" + f["PR"]
        else:
            branch = f["branch"].split("/", 1)[1] if p["strip_type"] and "/" in f["branch"] else f["branch"]
            ident = re.sub(r"[^a-z0-9]+", "-", branch.lower()).strip("-")
            ident = ident[: p["cut"]].rstrip("-") if p["cut"] else ident
        host = f"{ident}.{f['app']}" if p["shape"] == "subdomain" else f"{f['app']}-{ident}"
        return f"https://{host}.{_PREVIEW_DOMAIN}"


FAMILIES: list[Family] = [
    ComponentFileName(),
    MigrationFileName(),
    SnapshotFilePath(),
    BackupFileName(),
    UnitTestDeclaration(),
    DbIndexName(),
    ForeignKeyName(),
    PrometheusMetricName(),
    K8sObjectName(),
    K8sLabelValue(),
    KafkaTopicName(),
    DomainEventName(),
    NpmPackageName(),
    JavaPackageName(),
    GoModulePath(),
    InterfaceClassNames(),
    ConstantName(),
    CliFlagName(),
    I18nMessageKey(),
    S3ObjectKey(),
    ServiceHostname(),
    PreviewUrl(),
]
