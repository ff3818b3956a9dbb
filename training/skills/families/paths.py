"""File paths and URLs: test locations, normalisation, build outputs, tracking parameters, hosts, CODEOWNERS."""

from __future__ import annotations

import posixpath
import random
from urllib.parse import urlsplit, urlunsplit

from .. import vocab
from ..base import Family, Params
from ..text import kv_input, mapping_sentence, parse_kv, split_words

_SOURCE_DIRS = ("src", "src/utils", "src/api/handlers", "src/models", "src/components/forms", "src/billing")
_SOURCE_STEMS = ("date_format", "invoice", "retry_policy", "user_store", "parser", "rate_limiter")
_SOURCE_EXTS = (".py", ".ts", ".go", ".js")


def source_path(rng: random.Random) -> str:
    return f"{rng.choice(_SOURCE_DIRS)}/{rng.choice(_SOURCE_STEMS)}{rng.choice(_SOURCE_EXTS)}"


_TEST_LOCATIONS = {
    "same_dir": "next to the source file, in the same folder",
    "tests_mirror": "under a top-level `tests/` folder that mirrors the folders below `src/` "
    "(src/a/b.py -> tests/a/...)",
    "tests_subdir": "in a `__tests__` folder inside the source file's folder",
}
_TEST_NAMINGS = {
    "test_prefix": "test_{stem}{ext}",
    "test_suffix": "{stem}_test{ext}",
    "dot_test": "{stem}.test{ext}",
    "dot_spec": "{stem}.spec{ext}",
}


class SourceTestPath(Family):
    name = "test_file_path"
    title = "Where tests live"
    summary = "Gives the path of the test file for a source file."
    output_noun = "test file path"
    space = {"location": tuple(_TEST_LOCATIONS), "naming": tuple(_TEST_NAMINGS)}
    requests = ("Where do the tests for {input} go?", "Test file path for {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        naming = _TEST_NAMINGS[p["naming"]].replace("{stem}", "<name>").replace("{ext}", "<ext>")
        return [
            f"A test file lives {_TEST_LOCATIONS[p['location']]}.",
            f"It is named `{naming}`, where <name> is the source file name without extension and <ext> its extension.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return source_path(rng)

    def answer(self, p: Params, text: str) -> str:
        folder, filename = posixpath.split(text.strip())
        stem, ext = posixpath.splitext(filename)
        if p["location"] == "tests_mirror":
            folder = posixpath.join("tests", posixpath.relpath(folder, "src")).removesuffix("/.")
        elif p["location"] == "tests_subdir":
            folder = posixpath.join(folder, "__tests__")
        return posixpath.join(folder, _TEST_NAMINGS[p["naming"]].format(stem=stem, ext=ext))


_PATH_SEGMENTS = ("src", "lib", "Utils", "core", "Assets", "docs", "build", "Config", "api")
_PATH_FILES = ("Helpers.py", "index.ts", "README.md", "Logo.svg", "settings.yaml", "main.go")


class PathNormalize(Family):
    name = "path_normalize"
    title = "Normalising paths"
    summary = "Cleans up repository-relative paths before they go into manifests."
    output_noun = "normalised path"
    space = {"sep": ("/", "\\"), "case": ("keep", "lower"), "prefix": ("", "./")}
    requests = ("Normalise this path: {input}", "Clean up {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        case = "Lowercase the whole path." if p["case"] == "lower" else "Keep the letter case as it is."
        prefix = "Start the result with `./`." if p["prefix"] else "Do not start the result with `./`."
        return [
            "Treat both `/` and `\\` as separators.",
            "Collapse repeated separators, drop `.` segments and let each `..` cancel the segment before it.",
            case,
            f"Write the result with `{p['sep']}` as the separator.",
            prefix,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        parts: list[str] = []
        for _ in range(rng.randint(2, 4)):
            parts.append(rng.choice(_PATH_SEGMENTS))
            noise = rng.random()
            if noise < 0.25:
                parts.append(".")
            elif noise < 0.45:
                parts += [rng.choice(_PATH_SEGMENTS), ".."]
            elif noise < 0.6:
                parts.append("")  # an empty segment shows up as a doubled separator
        parts.append(rng.choice(_PATH_FILES))
        return "".join(part + rng.choice("//\\") for part in parts[:-1]) + parts[-1]

    def answer(self, p: Params, text: str) -> str:
        path = posixpath.normpath(text.strip().replace("\\", "/"))
        path = path.lower() if p["case"] == "lower" else path
        return p["prefix"] + path.replace("/", p["sep"])


_OUTPUT_EXTENSIONS = {".ts": ".js", ".tsx": ".js", ".jsx": ".js", ".scss": ".css", ".md": ".html"}
_ASSET_PATHS = (
    "src/components/button/Button.tsx",
    "src/pages/home.tsx",
    "src/lib/format.ts",
    "src/styles/theme.scss",
    "src/docs/getting-started.md",
    "src/widgets/chart/Chart.jsx",
    "src/index.ts",
    "src/styles/print.scss",
)


class BuildOutputPath(Family):
    name = "build_output_path"
    title = "Build output paths"
    summary = "Predicts where the bundler writes the output for a source file."
    output_noun = "output path"
    space = {"outdir": ("dist", "build", "out"), "layout": ("mirror", "flat"), "minified": (False, True)}
    requests = ("Where does {input} end up after the build?", "Output path for {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        layout = (
            "Keep the folders below `src/` (src/a/b.ts -> <outdir>/a/b.js)."
            if p["layout"] == "mirror"
            else "Flatten: the output sits directly in the output folder, whatever folder the source was in."
        )
        minified = "Insert `.min` before the new extension (app.min.js)." if p["minified"] else "Do not add `.min`."
        return [
            f"Outputs go to the `{p['outdir']}/` folder.",
            layout,
            f"Extensions change: {mapping_sentence(_OUTPUT_EXTENSIONS)}.",
            minified,
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return rng.choice(_ASSET_PATHS)

    def answer(self, p: Params, text: str) -> str:
        relative = posixpath.relpath(text.strip(), "src")
        folder, filename = posixpath.split(relative)
        stem, ext = posixpath.splitext(filename)
        filename = stem + (".min" if p["minified"] else "") + _OUTPUT_EXTENSIONS[ext]
        return posixpath.join(p["outdir"], folder if p["layout"] == "mirror" else "", filename)


# Query parameter -> plausible values; click ids get a random hex value instead.
_QUERY_VALUES = {
    "page": ("2", "3", "10"),
    "q": ("boots", "usb-c", "invoice"),
    "id": ("42", "1877"),
    "sort": ("price", "newest"),
    "ref": ("home", "footer"),
    "lang": ("en", "de"),
    "utm_source": ("newsletter", "twitter"),
    "utm_medium": ("email", "social"),
    "utm_campaign": ("spring_sale", "launch"),
}
_CLICK_IDS = ("fbclid", "gclid", "msclkid")
_KEPT_BY_ALLOWLIST = ("page", "q", "id", "sort")
# Rule name -> (what the skill says is removed, predicate on a parameter name that is true when it is removed).
_TRACKING_RULES = {
    "utm": ("every parameter whose name starts with `utm_`", lambda k: k.startswith("utm_")),
    "utm_click": (
        "every `utm_*` parameter and the click ids `fbclid`, `gclid` and `msclkid`",
        lambda k: k.startswith("utm_") or k in _CLICK_IDS,
    ),
    "allowlist": ("every parameter except `page`, `q`, `id` and `sort`", lambda k: k not in _KEPT_BY_ALLOWLIST),
}
_URL_PATHS = ("/products/42", "/blog/why-we-moved", "/search", "/docs/install", "/pricing", "/cart")


def sample_url(rng: random.Random, hosts: tuple[str, ...], params: int) -> str:
    keys = rng.sample(list(_QUERY_VALUES) + list(_CLICK_IDS), params)
    query = "&".join(
        f"{k}={rng.choice(_QUERY_VALUES[k]) if k in _QUERY_VALUES else vocab.hex_string(rng, 8)}" for k in keys
    )
    fragment = rng.choice(("", "", "reviews", "top"))
    return urlunsplit((rng.choice(("https", "http")), rng.choice(hosts), rng.choice(_URL_PATHS), query, fragment))


class UrlStripTracking(Family):
    name = "url_strip_tracking"
    title = "Cleaning shared links"
    summary = "Removes tracking parameters from URLs before they are shared or stored."
    output_noun = "clean URL"
    space = {"strip": tuple(_TRACKING_RULES), "sort": (False, True), "fragment": ("keep", "drop")}
    requests = ("Clean this link: {input}", "Strip the tracking from {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        order = (
            "Sort the remaining parameters by name."
            if p["sort"]
            else "Keep the remaining parameters in their original order."
        )
        fragment = "Keep the `#fragment`." if p["fragment"] == "keep" else "Drop the `#fragment`."
        return [
            f"Remove {_TRACKING_RULES[p['strip']][0]}.",
            order,
            fragment,
            "If no parameter is left, drop the `?` too. Change nothing else.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return sample_url(rng, ("shop.example.com", "www.example.org", "news.example.net"), rng.randint(2, 5))

    def answer(self, p: Params, text: str) -> str:
        url = urlsplit(text.strip())
        drop = _TRACKING_RULES[p["strip"]][1]
        pairs = [pair for pair in url.query.split("&") if pair and not drop(pair.partition("=")[0])]
        if p["sort"]:
            pairs.sort(key=lambda pair: pair.partition("=")[0])
        fragment = url.fragment if p["fragment"] == "keep" else ""
        return urlunsplit((url.scheme, url.netloc, url.path, "&".join(pairs), fragment))


_HOST_RULES = {
    "env_subdomain": "put `staging.` in front of the host name (shop.example.com -> staging.shop.example.com)",
    "tld_dev": "replace the last label of the host with `dev` (shop.example.com -> shop.example.dev)",
    "localhost": "replace the host with `localhost:8080`",
}


class UrlRewrite(Family):
    name = "url_rewrite"
    title = "Pointing links at another environment"
    summary = "Rewrites production URLs so they hit the test environment."
    output_noun = "rewritten URL"
    space = {"host": tuple(_HOST_RULES), "scheme": ("https", "keep"), "path_prefix": ("", "/v2")}
    requests = ("Rewrite for testing: {input}", "Test-environment URL for {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        scheme = "Always use `https`." if p["scheme"] == "https" else "Keep the scheme as it is."
        prefix = (
            f"Insert `{p['path_prefix']}` at the start of the path."
            if p["path_prefix"]
            else "Leave the path unchanged."
        )
        return [
            f"To point a link at the test environment, {_HOST_RULES[p['host']]}.",
            scheme,
            prefix,
            "Keep the query and fragment.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return sample_url(
            rng, ("shop.example.com", "api.example.com", "docs.example.org", "example.com"), rng.randint(0, 2)
        )

    def answer(self, p: Params, text: str) -> str:
        url = urlsplit(text.strip())
        host = {
            "env_subdomain": "staging." + url.netloc,
            "tld_dev": url.netloc.rsplit(".", 1)[0] + ".dev",
            "localhost": "localhost:8080",
        }[p["host"]]
        scheme = "https" if p["scheme"] == "https" else url.scheme
        return urlunsplit((scheme, host, p["path_prefix"] + url.path, url.query, url.fragment))


_OWNED_PATHS = ("docs/api", "src/billing", "infra/terraform", "web/components", "services/search", "scripts/release")
_OWNER_TEAMS = (
    "docs writers",
    "billing core",
    "platform infra",
    "frontend guild",
    "search relevance",
    "release managers",
)
_ORGS = ("acme", "example-org", "widgets-inc")


class CodeownersLine(Family):
    name = "codeowners_line"
    title = "CODEOWNERS entries"
    summary = "Writes CODEOWNERS lines that assign a folder to a team."
    output_noun = "CODEOWNERS line"
    space = {"anchor": (True, False), "suffix": ("/", "/**", "/*"), "team_sep": ("-", "_")}
    requests = ("CODEOWNERS entry: {input}", "Add an owner line for {input}", "{input}")

    def rules(self, p: Params) -> list[str]:
        anchor = (
            "Anchor the path at the repository root with a leading `/`."
            if p["anchor"]
            else "Do not start the path with `/`."
        )
        return [
            anchor,
            f"End the folder path with `{p['suffix']}`.",
            "After one space, the owner is `@<org>/<team>`, "
            f"the team name in lowercase words joined by `{p['team_sep']}`.",
        ]

    def sample_input(self, p: Params, rng: random.Random) -> str:
        return kv_input(
            [("path", rng.choice(_OWNED_PATHS)), ("team", rng.choice(_OWNER_TEAMS)), ("org", rng.choice(_ORGS))]
        )

    def answer(self, p: Params, text: str) -> str:
        fields = parse_kv(text)
        path = ("/" if p["anchor"] else "") + fields["path"] + p["suffix"]
        return f"{path} @{fields['org']}/{p['team_sep'].join(split_words(fields['team']))}"


FAMILIES: tuple[Family, ...] = (
    SourceTestPath(),
    PathNormalize(),
    BuildOutputPath(),
    UrlStripTracking(),
    UrlRewrite(),
    CodeownersLine(),
)
