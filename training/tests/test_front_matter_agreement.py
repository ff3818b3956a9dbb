"""SKILL.md front matter: the app must read the name and description that training reads.

e2e/fixtures/front-matter/cases.json holds SKILL.md texts and, for each, what parse_skill_md (yaml.safe_load) gives:
{name, description}, or the kind of refusal. This test recomputes those answers from the texts; the app's side
(src/adapters/skill.ts, npm yaml) is checked against the same file by src/adapters/front-matter.test.ts.

After adding or changing a case, write Python's answers into the file:
    .venv/bin/python training/tests/test_front_matter_agreement.py --write
"""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from training.skills import parse_skill_md  # noqa: E402

CASES = ROOT / "e2e/fixtures/front-matter/cases.json"

# parse_skill_md's refusals by their message, named as src/adapters/skill.ts names them (FrontMatterProblem).
PROBLEMS = [
    ("must start with a '---' line", "not-opened"),
    ("is not closed by a '---' line", "not-closed"),
    ("is not valid YAML", "not-yaml"),
    ("must be a YAML mapping", "not-mapping"),
    ("field 'name'", "no-name"),
    ("field 'description'", "no-description"),
]


def expected(text: str) -> dict:
    try:
        front, _ = parse_skill_md(text)
    except ValueError as error:
        kinds = [kind for needle, kind in PROBLEMS if needle in str(error)]
        assert len(kinds) == 1, f"unclassified refusal: {error}"
        return {"error": kinds[0]}
    return {"name": front["name"], "description": front["description"]}


def load_cases() -> list[dict]:
    return json.loads(CASES.read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", load_cases(), ids=lambda c: c["id"])
def test_fixture_holds_what_parse_skill_md_gives(case: dict) -> None:
    assert case["expected"] == expected(case["text"])


def test_fixture_covers_every_refusal_and_the_yaml_forms() -> None:
    cases = load_cases()
    assert {c["expected"].get("error") for c in cases} >= {kind for _, kind in PROBLEMS}
    texts = "\n".join(c["text"] for c in cases)
    for form in (": >-\n", ": >\n", ": |\n", ": |-\n", ": |+\n", ': "', ": '", "\n  - ", ": [", "\r\n"):
        assert form in texts, form


if __name__ == "__main__" and "--write" in sys.argv:
    data = {"cases": [{"id": c["id"], "text": c["text"], "expected": expected(c["text"])} for c in load_cases()]}
    CASES.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(data['cases'])} cases to {CASES.relative_to(ROOT)}")
