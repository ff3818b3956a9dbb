"""Tests for the skill library: families, rendering, SKILL.md, splits, trajectories, data generation, scoring."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from training import make_data
from training.skills import FAMILIES, PHRASINGS, Skill, aggregate, make_skill, parse_skill_md, score
from training.skills.base import clean_output
from training.skills.render import EXAMPLE_ONLY_STYLES, HELDOUT_PHRASINGS, TRAIN_PHRASINGS, _Page, render_body, shows_example
from training.skills.splits import LibraryConfig, build_library, params_key
from training.skills.trajectories import KINDS, conversation

FAMILY_NAMES = list(FAMILIES)
SMALL = make_data.DataConfig(
    library=LibraryConfig(
        heldout_families=5,
        combos_per_family=8,
        train_skills_per_family=4,
        heldout_phrasing_per_family=1,
        heldout_params_per_family=1,
        skills_per_heldout_family=2,
    ),
    trajectories_per_skill=2,
    cases_per_family={"train": 1, "heldout_phrasing": 1, "heldout_params": 1, "heldout_family": 2},
)


@pytest.fixture(scope="module")
def library() -> list[Skill]:
    return build_library(0)


def test_registry_has_enough_parameterised_families() -> None:
    assert len(FAMILIES) >= 40
    for name, family in FAMILIES.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name) and family.name == name
        combos = family.combos()
        assert len(combos) >= 8, f"{name} has only {len(combos)} parameter combinations"
        assert all(isinstance(v, (str, int, bool)) for combo in combos for v in combo.values()), name


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_gold_answer_passes_its_checker(name: str) -> None:
    family, rng = FAMILIES[name], random.Random(f"gold:{name}")
    for _ in range(50):
        params = family.sample_params(rng)
        assert params in family.combos()
        text = family.sample_input(params, rng)
        gold = family.answer(params, text)
        assert gold and "\n" not in gold and len(gold.split()) <= 40, (text, gold)
        for harmless in (gold, gold + "\n", f"  {gold}  ", f"`{gold}`"):
            assert family.check(params, text, harmless), (params, text, harmless)


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_answer_under_other_params_fails_checker(name: str) -> None:
    family, rng = FAMILIES[name], random.Random(f"wrong:{name}")
    differing = 0
    for _ in range(50):
        params, other = family.sample_params(rng), family.sample_params(rng)
        text = family.sample_input(params, rng)
        wrong = family.answer(other, text)
        if clean_output(wrong) != clean_output(family.answer(params, text)):
            differing += 1
            assert not family.check(params, text, wrong), (params, other, text, wrong)
            # score() names it: the right kind of answer, made under another parameter combination
            case = {"family": name, "params": params, "input": text, "expected": family.answer(params, text)}
            result = score(case, wrong)
            assert result["other_params"] and 0 <= result["params_followed"] < 1, (params, other, text, wrong, result)
    assert differing >= 10, f"{name}: the parameters barely change the answer"


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_every_phrasing_states_the_rules(name: str) -> None:
    family = FAMILIES[name]
    params = family.sample_params(random.Random(name))
    for style, template in PHRASINGS:
        body = render_body(family, params, style, random.Random(1), template)
        if style in EXAMPLE_ONLY_STYLES:
            # No rule sentence, only worked examples: the same draws as the template's (count, then examples) give
            # the pairs it must show, each answer being the family's own for its input.
            rng = random.Random(1)
            pairs = _Page(family, params, rng).examples(rng.randint(4, 5))
            assert len(pairs) >= 3, (name, pairs)
            for text, answer in pairs:
                assert shows_example(body, text) and shows_example(body, answer), (style, template, text, answer)
            assert not any(rule in body for rule in family.rules(params)), (style, template)
            continue
        for rule in family.rules(params):
            assert rule in body, (style, template, rule)


def test_skill_md_round_trips() -> None:
    for i, (name, family) in enumerate(FAMILIES.items()):
        style, template = PHRASINGS[i % len(PHRASINGS)]
        skill = make_skill(
            family, family.sample_params(random.Random(i)), style, template, f"{name}-x", random.Random(i)
        )
        front, body = parse_skill_md(skill.to_markdown())
        assert (front["name"], front["description"], body) == (skill.name, skill.description, skill.body)
        assert re.fullmatch(r"[a-z0-9-]{1,64}", skill.name)
        assert Skill.from_record(json.loads(json.dumps(skill.to_record()))) == skill


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# no front matter\n", "must start"),
        ("---\nname: x\ndescription: y\n", "not closed"),
        ("---\nname: [unclosed\n---\nbody\n", "not valid YAML"),
        ("---\n- a list\n---\nbody\n", "mapping"),
        ("---\ndescription: y\n---\nbody\n", "'name'"),
        ("---\nname: x\ndescription: ''\n---\nbody\n", "'description'"),
    ],
)
def test_parse_skill_md_rejects_broken_front_matter(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_skill_md(text)


def test_splits_are_disjoint(library: list[Skill]) -> None:
    by_split: dict[str, list[Skill]] = {}
    for skill in library:
        by_split.setdefault(skill.split, []).append(skill)
    assert len({s.skill_id for s in library}) == len(library)
    train = by_split["train"]
    train_keys = {params_key(s.family, s.params) for s in train}
    train_families = {s.family for s in train}

    assert {s.phrasing for s in train}.isdisjoint({f"{s}.{t}" for s, t in HELDOUT_PHRASINGS})
    assert all((s.style, s.template) in HELDOUT_PHRASINGS for s in by_split["heldout_phrasing"])
    assert all(params_key(s.family, s.params) in train_keys for s in by_split["heldout_phrasing"])

    heldout_params = by_split["heldout_params"]
    assert {s.family for s in heldout_params} == train_families
    assert all(params_key(s.family, s.params) not in train_keys for s in heldout_params)
    train_values = {(s.family, k, v) for s in train for k, v in s.params.items()}
    assert all((s.family, k, v) in train_values for s in heldout_params for k, v in s.params.items())

    heldout_families = {s.family for s in by_split["heldout_family"]}
    assert len(heldout_families) >= 5 and heldout_families.isdisjoint(train_families)
    assert all((s.style, s.template) in TRAIN_PHRASINGS for s in train)


def test_conversations_keep_the_skill_out_of_user_turns(library: list[Skill]) -> None:
    rng = random.Random(0)
    for skill in library[::97]:
        family = FAMILIES[skill.family]
        for kind in KINDS:
            conv = conversation(family, skill.params, kind, rng)
            users = [m["content"] for m in conv.messages if m["role"] == "user"]
            assert not any(rule in text for rule in family.rules(skill.params) for text in users)
            assert conv.messages[-1]["target"] and conv.expected == family.answer(skill.params, conv.final_input)
            for message in conv.messages:
                if message["role"] == "assistant" and not message["target"]:
                    assert not family.check(skill.params, conv.final_input, message["content"])


def test_make_data_is_deterministic(tmp_path: Path) -> None:
    first = make_data.build_dataset(0, tmp_path / "a", SMALL)
    make_data.build_dataset(0, tmp_path / "b", SMALL)
    for name in first["files"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    # Every family of a split is in the test set, each as often as the config says.
    assert first["test_cases"]["by_split"]["heldout_family"] == SMALL.library.heldout_families * SMALL.cases_per_family["heldout_family"]
    assert first["test_cases"]["by_split"]["heldout_params"] <= (len(FAMILIES) - SMALL.library.heldout_families) * SMALL.cases_per_family["heldout_params"]


def test_testset_cases_score_gold_as_pass(tmp_path: Path) -> None:
    make_data.build_dataset(0, tmp_path, SMALL)
    cases = [json.loads(line) for line in (tmp_path / "testset-v2.jsonl").read_text().splitlines()]
    assert {c["split"] for c in cases} == {"train", "heldout_phrasing", "heldout_params", "heldout_family"}
    scored = []
    for case in cases:
        assert parse_skill_md(case["skill_md"])[1] and not shows_example(case["skill_md"], case["input"])
        assert case["messages"][-1]["role"] == "user"
        result = score(case, case["expected"])
        assert result == {"pass": True, "run_on": False, "exact": True, "f1": 1.0, "other_params": False, "params_followed": 1.0}, case["case_id"]
        junk = score(case, "no idea")
        assert not junk["pass"] and not junk["other_params"] and not junk["run_on"] and junk["params_followed"] is None
        glued = score(case, case["expected"] + "iatrics")  # a stray token glued onto the right answer
        assert glued["pass"] or glued["run_on"], case["case_id"]
        scored.append((case, result))
    report = aggregate(scored)
    assert report["heldout_family"]["n_cases"] == SMALL.library.heldout_families * SMALL.cases_per_family["heldout_family"]
    for split in ("train", "heldout_phrasing"):
        assert Counter(c["family"] for c in cases if c["split"] == split) == Counter(
            {name: SMALL.cases_per_family[split] for name in FAMILIES if name not in make_data.choose_heldout_families(0, SMALL.library.heldout_families)}
        ), split
    assert report["train"]["pass_rate"] == 1.0 and report["train"]["other_params_rate"] == 0.0
    assert report["train"]["params_followed"] == 1.0 and report["train"]["run_on_rate"] == 0.0
    assert sum(b["n_cases"] for b in report["train"]["by_length_bucket"].values()) == report["train"]["n_cases"]
    for split, metrics in report.items():
        here = [c for c in cases if c["split"] == split]
        assert metrics["by_style"] == {s: {"n_cases": n, "pass_rate": 1.0} for s, n in sorted(Counter(c["style"] for c in here).items())}
        assert {k: v["n_cases"] for k, v in metrics["by_kind"].items()} == Counter(c["kind"] for c in here)


def test_score_is_lenient_on_formatting_and_strict_on_content() -> None:
    case = {
        "family": "semver_bump",
        "params": {"v_prefix": True, "zero_major": "standard", "prerelease": ""},
        "input": "1.4.2, new feature",
        "expected": "v1.5.0",
        "split": "heldout_params",
        "length_bucket": "short",
    }
    assert score(case, "```\nv1.5.0\n```")["pass"]
    assert score(case, "v1.5.0 ") == {"pass": True, "run_on": False, "exact": True, "f1": 1.0, "other_params": False, "params_followed": 1.0}
    wrong = score(case, "1.5.0")
    assert not wrong["pass"] and not wrong["exact"] and wrong["f1"] == 0.0
    # the answer of v_prefix=False (zero_major does not matter above 1.0.0): 2 of the 3 parameters followed
    assert wrong["other_params"] and wrong["params_followed"] == 2 / 3 and not wrong["run_on"]
    late = score(case, "v1.5.0-rc.1")  # a prerelease suffix where none is asked: v_prefix kept
    assert late["other_params"] and late["params_followed"] == 2 / 3
    assert late["run_on"]  # its prefix "v1.5.0" is the answer
    assert score(case, "v1.5.0iatrics prochains")["run_on"] and not score(case, "v1.4.3 v1.5.0")["run_on"]
    assert score(case, "1.5.0-beta.1")["params_followed"] == 1 / 3
    patch = score(case, "v1.4.3")  # a patch bump is no combination's answer to a new feature
    assert not patch["other_params"] and patch["params_followed"] is None
    external = {"input": "x", "expected": "a b", "split": "external"}
    assert score(external, "a b")["pass"] and score(external, "a c")["f1"] == 0.5
    assert score(external, "a b")["params_followed"] is None
    assert score(external, "a b zz")["run_on"] and not score(external, "a b")["run_on"] and not score(external, "a")["run_on"]
    report = aggregate([(case, wrong), (case, patch), (case, score(case, "v1.5.0"))])["heldout_params"]
    assert report["other_params_rate"] == 1 / 3 and report["params_followed"] == (2 / 3 + 1) / 2
    assert aggregate([(case, late), (case, wrong)])["heldout_params"]["run_on_rate"] == 0.5
    assert aggregate([(external, score(external, "a b"))])["external"]["params_followed"] is None
    assert "by_style" not in aggregate([(external, score(external, "a b"))])["external"]  # external cases name no style
    styled = [({**case, "style": s}, r) for s, r in (("terse", wrong), ("terse", score(case, "v1.5.0")), ("examples", patch))]
    assert aggregate(styled)["heldout_params"]["by_style"] == {"examples": {"n_cases": 1, "pass_rate": 0.0}, "terse": {"n_cases": 2, "pass_rate": 0.5}}


def test_the_skills_package_imports_without_a_circle() -> None:
    """Every import between the package's modules, at the top or inside a function, points one way: base is the
    interface that render, skill, splits and the families build on, and imports none of them."""
    import ast

    root = Path(__file__).resolve().parents[1] / "skills"
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        package = module.split(".")[:-1]  # a package's own __init__ counts as inside it
        edges = graph.setdefault(module, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
                edges.update(t for t in {target, *(f"{target}.{a.name}" if target else a.name for a in node.names)} if t)
    modules = {m.removesuffix(".__init__") for m in graph}
    graph = {m.removesuffix(".__init__"): {e for e in es if e in modules and e != m.removesuffix(".__init__")} for m, es in graph.items()}
    done: set[str] = set()

    def visit(m: str, stack: tuple[str, ...]) -> None:
        assert m not in stack, " -> ".join([*stack, m])
        if m in done:
            return
        for e in graph.get(m, ()):
            if e != "__init__":
                visit(e, (*stack, m))
        done.add(m)

    for m in graph:
        visit(m, ())
    assert "render" in graph["skill"] and "base" in graph["render"] and not graph["base"] - {"text"}
