"""Numbers, units, dates and versions: semver, dependency pins, sizes, durations, timestamps, cron."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from .. import vocab
from ..base import Family, Params
from ..text import group_thousands, round_half_up

_ROUNDING = "Round half up (2.25 -> 2.3 at one decimal)."
_SEMVER_CHANGES = ("breaking change", "new feature", "bug fix")


class SemverBump(Family):
    name = "semver_bump"
    title = "Version bumps"
    summary = "Decides the next version number of a library from the kind of change."
    output_noun = "next version"
    space = {"v_prefix": (True, False), "zero_major": ("shift", "standard"), "prerelease": ("", "-rc.1", "-beta.1")}
    requests = ("Current version and change: {input}. What's the next version?", "Bump: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        zero = (
            "While the major version is 0, everything shifts down one place: a breaking change bumps the minor "
            "number and a new feature bumps the patch number."
            if p["zero_major"] == "shift"
            else "Versions below 1.0.0 follow the same rules as any other version."
        )
        prerelease = (
            f"Give the first pre-release of the new version: append `{p['prerelease']}`."
            if p["prerelease"]
            else "Give the final version, with no pre-release suffix."
        )
        prefix = (
            "Write the result with a leading `v`."
            if p["v_prefix"]
            else "Write the bare numbers, without a leading `v`."
        )
        return [
            "A breaking change bumps the major number, a new feature the minor number, a bug fix the patch number; "
            "numbers to the right of the bumped one reset to 0.",
            zero,
            prerelease,
            prefix,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        number = ".".join(map(str, vocab.version(rng)))
        return f"{rng.choice(('', 'v'))}{number}, {rng.choice(_SEMVER_CHANGES)}"

    def answer(self, p: Params, text: str) -> str:
        number, change = text.split(", ")
        major, minor, patch = (int(n) for n in number.removeprefix("v").split("."))
        place = _SEMVER_CHANGES.index(change)
        if major == 0 and p["zero_major"] == "shift":
            place = min(place + 1, 2)
        bumped = [(major + 1, 0, 0), (major, minor + 1, 0), (major, minor, patch + 1)][place]
        return ("v" if p["v_prefix"] else "") + ".".join(map(str, bumped)) + p["prerelease"]


_PIN_POLICIES = {
    "exact": ("pin the exact version: `<name>==<version>`", "{name}=={version}"),
    "compatible": ("allow compatible updates: `<name>~=<version>`", "{name}~={version}"),
    "major": ("allow anything below the next major: `<name>>=<version>,<<major+1>`", "{name}>={version},<{next_major}"),
    "floor": ("only set a minimum: `<name>>=<version>`", "{name}>={version}"),
}
_DEPENDENCIES = (
    "requests",
    "Flask",
    "PyYAML",
    "typing_extensions",
    "Jinja2",
    "SQLAlchemy",
    "python_dateutil",
    "numpy",
    "Markdown",
)


class DependencyPin(Family):
    name = "dependency_pin"
    title = "Dependency pins"
    summary = "Writes requirements.txt lines under the project's pinning policy."
    output_noun = "requirements line"
    space = {"policy": tuple(_PIN_POLICIES), "name": ("normalize", "keep")}
    requests = ("Add {input} to requirements.txt", "Requirement line for {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        name = (
            "Normalise the package name: lowercase, with `_` and `.` replaced by `-`."
            if p["name"] == "normalize"
            else "Keep the package name exactly as it is spelled."
        )
        return [f"Our policy is to {_PIN_POLICIES[p['policy']][0]}.", name, "No spaces anywhere in the line."]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return f"{rng.choice(_DEPENDENCIES)} {'.'.join(map(str, vocab.version(rng)))}"

    def answer(self, p: Params, text: str) -> str:
        name, version = text.split(" ")
        if p["name"] == "normalize":
            name = name.lower().replace("_", "-").replace(".", "-")
        next_major = int(version.split(".")[0]) + 1
        return _PIN_POLICIES[p["policy"]][1].format(name=name, version=version, next_major=next_major)


_BYTE_UNITS = {1000: ("B", "kB", "MB", "GB", "TB"), 1024: ("B", "KiB", "MiB", "GiB", "TiB")}


class BytesHuman(Family):
    name = "bytes_human"
    title = "Human-readable sizes"
    summary = "Formats byte counts for dashboards and logs."
    output_noun = "size"
    space = {"base": (1000, 1024), "decimals": (0, 1, 2), "space": (True, False)}
    requests = ("Format {input}", "How do we show {input} in the UI?", "{input}")

    def rules(self, p: Params) -> list[str]:
        units = ", ".join(_BYTE_UNITS[p["base"]])
        gap = (
            "Put a space between number and unit." if p["space"] else "Write the unit right after the number, no space."
        )
        return [
            f"Units step by {p['base']}: {units}. Pick the largest unit whose size is at most the byte count.",
            f"Show {p['decimals']} decimal places"
            + (" (counts below the first step are whole bytes with no decimals)." if p["decimals"] else "."),
            _ROUNDING,
            gap,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return f"{int(10 ** rng.uniform(2, 12.5))} bytes"

    def answer(self, p: Params, text: str) -> str:
        count = int(text.split(" ")[0])
        exponent = 0
        while exponent < 4 and count >= p["base"] ** (exponent + 1):
            exponent += 1
        places = p["decimals"] if exponent else 0
        number = round_half_up(Decimal(count) / Decimal(p["base"] ** exponent), places)
        return number + (" " if p["space"] else "") + _BYTE_UNITS[p["base"]][exponent]


_DURATION_STYLES = {
    "short": ("`1h 2m 3s` (units h, m, s, separated by spaces)", "{}h", "{}m", "{}s", " ", ""),
    "compact": ("`1h2m3s` (units h, m, s, no spaces)", "{}h", "{}m", "{}s", "", ""),
    "words": ("`1 hr 2 min 3 sec` (units hr, min, sec, never plural)", "{} hr", "{} min", "{} sec", " ", ""),
    "iso": ("ISO 8601, like `PT1H2M3S`", "{}H", "{}M", "{}S", "", "PT"),
}


class DurationFormat(Family):
    name = "duration_format"
    title = "Durations"
    summary = "Formats elapsed times of jobs and requests."
    output_noun = "duration"
    space = {"style": tuple(_DURATION_STYLES), "zeros": ("omit", "keep")}
    requests = ("Format this duration: {input}", "How long is {input} in our format?", "{input}")

    def rules(self, p: Params) -> list[str]:
        zeros = (
            "Leave out units that are zero; zero seconds in total is written with seconds only."
            if p["zeros"] == "omit"
            else "Always write hours, minutes and seconds, even when some are zero."
        )
        return [
            "Split the seconds into hours, minutes and seconds (hours may exceed 24).",
            f"Write it as {_DURATION_STYLES[p['style']][0]}.",
            zeros,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        seconds = rng.choice(
            (
                rng.randint(0, 59),
                rng.randint(60, 3599),
                rng.randint(3600, 200000),
                3600 * rng.randint(1, 5),
                60 * rng.randint(1, 90),
            )
        )
        return f"{seconds} seconds"

    def answer(self, p: Params, text: str) -> str:
        total = int(text.split(" ")[0])
        values = (total // 3600, total % 3600 // 60, total % 60)
        _, *units, sep, lead = _DURATION_STYLES[p["style"]]
        parts = [unit.format(v) for unit, v in zip(units, values) if p["zeros"] == "keep" or v]
        return lead + sep.join(parts or [units[2].format(0)])


class NumberFormat(Family):
    name = "number_format"
    title = "Number formatting"
    summary = "Formats numbers for reports in the audience's locale convention."
    output_noun = "formatted number"
    space = {"thousands": (",", ".", " ", "'", "_"), "decimal": (".", ","), "decimals": (0, 2)}
    requests = ("Format {input} for the report", "How do we write {input}?", "{input}")

    def valid(self, params: Params) -> bool:
        if params["thousands"] == params["decimal"]:
            return False
        # Without decimals the decimal mark is unused: allow one canonical value so no two combos are the same rule.
        return params["decimals"] > 0 or params["decimal"] == ("," if params["thousands"] == "." else ".")

    def rules(self, p: Params) -> list[str]:
        names = {",": "a comma", ".": "a dot", " ": "a space", "'": "an apostrophe", "_": "an underscore"}
        decimals = (
            f"Show exactly {p['decimals']} decimal places, with {names[p['decimal']]} as the decimal mark."
            if p["decimals"]
            else "Round to a whole number (no decimal mark)."
        )
        return [f"Group thousands with {names[p['thousands']]}.", decimals, _ROUNDING, "Keep a leading minus sign."]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        value = Decimal(rng.randint(0, 10 ** rng.randint(4, 10))) / 1000
        return f"{'-' if rng.random() < 0.15 else ''}{value:f}"

    def answer(self, p: Params, text: str) -> str:
        sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
        whole, _, fraction = round_half_up(digits, p["decimals"]).partition(".")
        return sign + group_thousands(whole, p["thousands"]) + (p["decimal"] + fraction if fraction else "")


class LatencyFormat(Family):
    name = "latency_format"
    title = "Latency numbers"
    summary = "Formats request latencies for alerts and status pages."
    output_noun = "latency"
    space = {"unit": ("s", "auto"), "decimals": (1, 2, 3), "space": (True, False)}
    requests = ("Format the latency {input}", "{input} for the status page", "{input}")

    def rules(self, p: Params) -> list[str]:
        unit = (
            f"Always convert to seconds with {p['decimals']} decimal places and the unit `s`."
            if p["unit"] == "s"
            else "Below 1000 ms keep whole milliseconds with the unit `ms`; from 1000 ms on, convert to seconds "
            f"with {p['decimals']} decimal places and the unit `s`."
        )
        gap = "Put a space before the unit." if p["space"] else "Write the unit right after the number."
        return [unit, _ROUNDING, gap]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return f"{rng.choice((rng.randint(1, 999), rng.randint(1000, 120000)))} ms"

    def answer(self, p: Params, text: str) -> str:
        millis = int(text.split(" ")[0])
        if p["unit"] == "auto" and millis < 1000:
            number, unit = str(millis), "ms"
        else:
            number, unit = round_half_up(Decimal(millis) / 1000, p["decimals"]), "s"
        return number + (" " if p["space"] else "") + unit


_TIMESTAMP_FORMATS = {
    "%d/%m/%Y %H:%M": "day/month/year and 24-hour time, like `05/03/2024 14:07`",
    "%m/%d/%Y %I:%M %p": "month/day/year and 12-hour time with a two-digit hour and AM or PM, "
    "like `03/05/2024 02:07 PM`",
    "%Y-%m-%d %H:%M:%S": "year-month-day and 24-hour time with seconds, like `2024-03-05 14:07:09`",
    "%d %b %Y, %H:%M": "day, three-letter English month, year, a comma and 24-hour time, like `05 Mar 2024, 14:07`",
    "%Y%m%dT%H%M%S": "compact form with no separators, like `20240305T140709`",
}
_OFFSETS = (0, 2, -5, 9)


def utc_offset_rule(hours: int) -> str:
    if not hours:
        return "Keep the time in UTC."
    return (
        f"Convert the time to UTC{hours:+d} first (add {hours} hours)."
        if hours > 0
        else f"Convert the time to UTC{hours:+d} first (subtract {-hours} hours)."
    )


class TimestampFormat(Family):
    name = "timestamp_format"
    title = "Timestamps in reports"
    summary = "Rewrites ISO 8601 UTC timestamps for human-facing reports."
    output_noun = "timestamp"
    space = {"format": tuple(_TIMESTAMP_FORMATS), "offset": _OFFSETS}
    requests = ("Format {input} for the report", "Convert this timestamp: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        return [
            utc_offset_rule(p["offset"]),
            f"Write it as {_TIMESTAMP_FORMATS[p['format']]}.",
            "Do not append a time zone.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return vocab.instant(rng).strftime("%Y-%m-%dT%H:%M:%SZ")

    def answer(self, p: Params, text: str) -> str:
        instant = dt.datetime.strptime(text.strip(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        return instant.astimezone(dt.timezone(dt.timedelta(hours=p["offset"]))).strftime(p["format"])


_DATE_FORMATS = {
    "%Y-%m-%d": "year-month-day, like `2024-03-05`",
    "%d.%m.%Y": "day.month.year, like `05.03.2024`",
    "%b %d, %Y": "three-letter English month, two-digit day, a comma and the year, like `Mar 05, 2024`",
    "%Y/%m/%d %H:%M": "year/month/day and 24-hour time, like `2024/03/05 14:07`",
}


class EpochToDate(Family):
    name = "epoch_to_date"
    title = "Epoch timestamps"
    summary = "Turns the Unix timestamps in our logs into readable dates."
    output_noun = "date"
    space = {"format": tuple(_DATE_FORMATS), "offset": (0, 9), "weekday": (False, True)}
    requests = ("What date is {input}?", "Convert the epoch value {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        weekday = (
            "Put the three-letter English weekday and a space in front (Tue 2024-03-05)."
            if p["weekday"]
            else "Do not mention the weekday."
        )
        return [
            "Our log timestamps count seconds since 1970-01-01 UTC.",
            utc_offset_rule(p["offset"]),
            f"Write the result as {_DATE_FORMATS[p['format']]}.",
            weekday,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return str(int(vocab.instant(rng).timestamp()))

    def answer(self, p: Params, text: str) -> str:
        moment = dt.datetime.fromtimestamp(int(text), dt.timezone(dt.timedelta(hours=p["offset"])))
        return moment.strftime(("%a " if p["weekday"] else "") + p["format"])


_WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_CRON_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


class CronExpression(Family):
    name = "cron_expression"
    title = "Cron schedules"
    summary = "Writes cron expressions for schedules described in words."
    output_noun = "cron expression"
    space = {"fields": (5, 6), "days": ("numbers", "names"), "timezone": (False, True)}
    requests = ("Cron for {input}", "Schedule this job: {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        shape = (
            "minute hour day-of-month month day-of-week"
            if p["fields"] == 5
            else "second minute hour day-of-month month day-of-week, with the second always 0"
        )
        days = (
            "Days of the week are numbers, Sunday = 0, Monday to Friday = `1-5`."
            if p["days"] == "numbers"
            else "Days of the week are three-letter names (SUN, MON, ...), Monday to Friday = `MON-FRI`."
        )
        zone = (
            "Prefix the expression with `CRON_TZ=UTC` and a space." if p["timezone"] else "Write no time-zone prefix."
        )
        return [
            f"Use {p['fields']} fields: {shape}.",
            "Numbers carry no leading zeros; unused fields are `*`; every N minutes is `*/N` in the minute field.",
            days,
            zone,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        at = f"at {rng.randint(0, 23):02d}:{rng.choice((0, 5, 15, 30, 45, 50)):02d}"
        return rng.choice(
            (
                f"every day {at}",
                f"every weekday {at}",
                f"every {rng.choice(_WEEKDAYS)} {at}",
                f"every {rng.choice((5, 10, 15, 20, 30))} minutes",
                f"on day {rng.randint(1, 28)} of every month {at}",
            )
        )

    def answer(self, p: Params, text: str) -> str:
        words = text.split(" ")
        if words[-1] == "minutes":
            fields = [f"*/{words[1]}", "*", "*", "*", "*"]
        else:
            hour, minute = (int(n) for n in words[-1].split(":"))
            day_of_month, day_of_week = "*", "*"
            if words[0] == "on":
                day_of_month = words[2]
            elif words[1] == "weekday":
                day_of_week = "1-5" if p["days"] == "numbers" else "MON-FRI"
            elif words[1] in _WEEKDAYS:
                index = _WEEKDAYS.index(words[1])
                day_of_week = str(index) if p["days"] == "numbers" else _CRON_DAY_NAMES[index]
            fields = [str(minute), str(hour), day_of_month, "*", day_of_week]
        expression = " ".join((["0"] if p["fields"] == 6 else []) + fields)
        return ("CRON_TZ=UTC " if p["timezone"] else "") + expression


FAMILIES: tuple[Family, ...] = (
    SemverBump(),
    DependencyPin(),
    BytesHuman(),
    DurationFormat(),
    NumberFormat(),
    LatencyFormat(),
    TimestampFormat(),
    EpochToDate(),
    CronExpression(),
)
