"""training/cases.py: the per-split subsets reproduce the cases the committed results scored, and the runner's prompts."""
import json
from pathlib import Path

import pytest

from training.cases import load_cases, read_skills_dir, read_testset, sample_per_split

ROOT = Path(__file__).resolve().parents[2]
V1, V2 = ROOT / "training/data/testset-v1.jsonl", ROOT / "training/data/testset-v2.jsonl"
RESULTS = ROOT / "bench/results"


def ids_by_split(cases: list[dict]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for c in cases:
        out.setdefault(c["split"], []).append(c["case_id"])
    return {s: sorted(v) for s, v in out.items()}


def recorded(name: str, key: str | None = None) -> dict[str, list[str]]:
    data = json.loads((RESULTS / name).read_text())
    return (data[key] if key else data)["per_case"]["case_ids"]


@pytest.mark.parametrize("key", ["gemma", "gemma-skill", "gemma-skill-step532"])
def test_eval_base_selection_is_the_one_its_committed_results_scored(key):
    # python -m training.eval_base --model ... --limit 20 [...] --out bench/results/base-eval-v2-sample20.json
    assert json.loads((RESULTS / "base-eval-v2-sample20.json").read_text())[key]["case_selection"] == "eval_base"
    assert ids_by_split(load_cases(V2, 20, 0, selection="eval_base")) == recorded("base-eval-v2-sample20.json", key)


@pytest.mark.parametrize("name,key,limit", [
    ("skills-gemma-python-40.json", None, 40),  # python -m training.bench_skills ... --limit 40 (testset v1, its default)
    ("gemma-plain-40.json", "gemma-plain", 40),  # eval_base --limit 40 --bench-cases, run when eval_base read v1
    ("skills-gemma-browser-500.json", None, 3),  # the browser benchmark's plan: bench_skills --plan --limit 3
])
def test_the_sampler_picks_the_cases_the_committed_benchmarks_scored(name, key, limit):
    assert ids_by_split(load_cases(V1, limit, 0)) == recorded(name, key)


def test_the_two_selections_differ_and_keep_their_order():
    cases = read_testset(V2)
    bench, own = load_cases(V2, 5, 0), load_cases(V2, 5, 0, selection="eval_base")
    assert ids_by_split(bench) != ids_by_split(own)
    file_order = list(dict.fromkeys(c["split"] for c in cases))
    assert list(dict.fromkeys(c["split"] for c in own)) == file_order
    assert list(dict.fromkeys(c["split"] for c in bench)) == sorted(file_order)
    # Every case: the benchmark groups by sorted split (its plan's draws follow that order), eval_base keeps file order.
    assert load_cases(V2, 0, 0, selection="eval_base") == cases
    assert load_cases(V2, 0, 0) == sorted(cases, key=lambda c: c["split"])  # a stable sort keeps file order per split
    assert load_cases(V2, 5, 0) == load_cases(V2, 5, 0) and load_cases(V2, 5, 1) != bench
    assert all(len(v) == 5 for v in ids_by_split(bench).values())
    with pytest.raises(ValueError, match="unknown case selection"):
        sample_per_split(cases, 1, 0, "other")


def test_an_external_skills_folder_is_read_whole(tmp_path):
    skill = tmp_path / "branch-names"
    skill.mkdir()
    (skill / "SKILL.md").write_text("---\nname: branch-names\n---\n\nUse fix/kebab-case.\n")
    (skill / "cases.jsonl").write_text('{"input": "fix login", "expected": "fix/login"}\n\n{"input": "a", "expected": "b"}\n')
    (tmp_path / "not-a-skill").mkdir()
    cases = load_cases(V1, 1, 0, skills_dir=tmp_path)
    assert cases == read_skills_dir(tmp_path) and [c["case_id"] for c in cases] == ["branch-names-0", "branch-names-2"]
    assert cases[0]["messages"] == [{"role": "user", "content": "fix login"}] and cases[0]["split"] == "external"


def test_runner_prompts_are_the_chat_template_or_the_plain_completion():
    from transformers import PreTrainedTokenizerFast

    from training.conversations import with_skill
    from training.runner import Runner

    pack = ROOT / "public/models/small-skills"
    tok = PreTrainedTokenizerFast.from_pretrained(str(pack))
    case = read_testset(V2)[0]
    messages = [{"role": m["role"], "content": m["content"]} for m in case["messages"]]
    chat = Runner(None, tok, set())
    templated = tok.apply_chat_template([{"role": "system", "content": case["skill_md"]}, *messages], add_generation_prompt=True, tokenize=True)
    templated = list(templated["input_ids"] if hasattr(templated, "keys") else templated)
    assert chat.prompt_ids(with_skill(case["messages"], case["skill_md"])) == templated
    plain = Runner(None, tok, set(), fmt="plain")
    lines = "\n".join(f"{'User' if m['role'] == 'user' else 'Assistant'}: {m['content']}" for m in messages)
    assert plain.prompt_ids(with_skill(case["messages"], case["skill_md"])) == tok(case["skill_md"].rstrip() + "\n\n" + lines + "\nAssistant:")["input_ids"]
    assert plain.prompt_ids(case["messages"]) == tok(lines + "\nAssistant:")["input_ids"]


def test_cases_of_named_families_only(tmp_path):
    from training.cases import families_in, load_cases

    named = tmp_path / "named.jsonl"
    named.write_text('{"family": "branch_name"}\n{"family": "commit_message"}\n')
    keep = families_in(named)
    assert keep == {"branch_name", "commit_message"}
    every = load_cases(V2)
    some = load_cases(V2, families=keep)
    assert some and {c["family"] for c in some} == keep
    assert len(some) == sum(c["family"] in keep for c in every)
    (tmp_path / "none.jsonl").write_text('{"x": 1}\n')
    with pytest.raises(SystemExit, match="names no skill family"):
        families_in(tmp_path / "none.jsonl")


def test_read_jsonl_names_the_line_that_is_not_json(tmp_path):
    import pytest

    from training.cases import read_jsonl

    f = tmp_path / "skills.jsonl"
    f.write_text('{"family": "a"}\n\n{"family": "b"}\n{"family": \n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"skills.jsonl:4: not a JSON line"):
        read_jsonl(f)
    f.write_text('{"family": "a"}\n\n{"family": "b"}\n', encoding="utf-8")
    assert [r["family"] for r in read_jsonl(f)] == ["a", "b"]
