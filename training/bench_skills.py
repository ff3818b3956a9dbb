"""The skill benchmark, PyTorch reference (docs/benchmark.md): execution-checked scores per split and condition.

python -m training.bench_skills --pack public/models/small-skills --hypernets RUN1/hypernet.safetensors RUN2/... \
    [--limit 50] [--skills DIR] --out bench/results/skills-python.json

Conditions: base (no skill, no adapter) | icl (skill in context) | adapter (generated LoRA, skill not in context) |
adapter_icl | shuffled (the adapter of another family's skill) | accumulate_3 (the skill's adapter plus two other
skills' adapters in other slots). Each hypernetwork file is one training seed: the JSON has every seed's scores
and their mean and std. --skills DIR reads an external folder of skills (each a folder with SKILL.md and
cases.jsonl lines {"input", "expected"}) instead of the built-in test set. --over_context F lengthens every skill
past F times the pack's context with irrelevant sections (pad_past_context).
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import torch

from .cases import families_in, load_cases, testset_identity
from .conversations import load_tokenizer, with_skill
from .export.pack import git_commit
from .hypernet import Hypernetwork, compose_slots, load_hypernet
from .runner import Runner, first_line_answer
from .skills import FAMILIES, scoring
from .skills.scoring import per_case
from .skills.render import filler_sections

CONDITIONS = ("base", "icl", "adapter", "adapter_icl", "shuffled", "accumulate_3")


def pad_past_context(cases: list[dict], tok, tokens: int, seed: int) -> list[dict]:
    """Every case's skill lengthened to more than `tokens` tokens by irrelevant sections appended after its own body,
    as real skill files carry appendices (render.filler_sections: format-free prose about the family's topic). A
    skill is padded the same wherever it is used (its adapter in other cases' shuffled and accumulate_3 jobs too).
    With the skill in context the prompt is then longer than the context and keeps its newest tokens, as the app
    does, so the skill's own rules at its start are lost; the hypernetwork reads the whole skill, chunk by chunk."""
    padded: dict[str, str] = {}
    for case in cases:
        sid = case["skill_id"]
        if sid in padded:
            continue
        family = FAMILIES.get(case["family"])
        if family is None:
            raise SystemExit(f"--over_context pads skills of the built-in families only; {case['family']!r} is not one")
        sections, text = filler_sections(family, random.Random(f"{seed}:pad:{sid}")), case["skill_md"].rstrip("\n")
        while len(tok.encode(text, add_special_tokens=False)) <= tokens:
            text += "\n\n" + next(sections)
        padded[sid] = text + "\n"
    return [{**c, "skill_md": padded[c["skill_id"]], "length_bucket": "over_context"} for c in cases]


def pad_cases(cases: list[dict], tok, context: int, factor: float, seed: int) -> tuple[list[dict], dict]:
    """pad_past_context to `factor` x `context` tokens, and the record of it the results carry."""
    cases = pad_past_context(cases, tok, int(factor * context), seed)
    lengths = sorted({c["skill_id"]: len(tok.encode(c["skill_md"], add_special_tokens=False)) for c in cases}.values())
    return cases, {"factor": factor, "context_tokens": context,
                   "skill_tokens": {"min": lengths[0], "median": lengths[len(lengths) // 2], "max": lengths[-1]}}


def make_plan(cases: list[dict], conditions: list[str], seed: int) -> dict:
    """Every (case, condition) as a job: the messages to answer and the skills whose adapters are active, in slot
    order. The browser benchmark (bench/skills.mjs) runs this same plan, so both paths answer identical jobs."""
    rng = random.Random(seed)
    skills = {c["skill_id"]: c["skill_md"] for c in cases}
    family = {c["skill_id"]: c["family"] for c in cases}
    jobs = []
    for case in cases:
        other = [s for s in skills if family[s] != case["family"]] or [s for s in skills if s != case["skill_id"]]
        for cond in conditions:
            messages = [{"role": m["role"], "content": m["content"]} for m in case["messages"]]
            if cond in ("icl", "adapter_icl"):
                messages = with_skill(messages, case["skill_md"])
            adapters = {
                "adapter": [case["skill_id"]], "adapter_icl": [case["skill_id"]],
                "shuffled": [rng.choice(other)] if other else [],
                "accumulate_3": [case["skill_id"], *rng.sample(other, min(2, len(other)))],
            }.get(cond, [])
            jobs.append({"case_id": case["case_id"], "condition": cond, "messages": messages, "adapters": adapters})
    used = {s for j in jobs for s in j["adapters"]}
    return {"skills": {s: skills[s] for s in sorted(used)}, "jobs": jobs}


def run_plan(runner: Runner, net: Hypernetwork | None, chunk_tokens: int, plan: dict, scale: float = 1.0) -> list[str]:
    """Greedy answers of the PyTorch reference for every job of a plan, each active adapter at the given scale (the
    app's per-adapter scale slider)."""
    made = {s: runner.adapter(net, text, chunk_tokens) for s, text in plan["skills"].items()} if net else {}
    outputs = []
    for job in plan["jobs"]:
        # A bias LoRA (bias_rank) is what every skill shares: applied once, with the first slot.
        slots = [made[s] if k == 0 else net.without_bias(made[s]) for k, s in enumerate(job["adapters"])]
        lora = compose_slots(slots, [scale] * len(slots), runner.lora) if slots else None
        outputs.append(runner.answer(job["messages"], lora)[0])
    return outputs


def scored_plan(cases: list[dict], plan: dict, outputs: list[str]) -> dict[str, list]:
    """Per condition, every (case, score) of a plan's answers."""
    by_id = {c["case_id"]: c for c in cases}
    scored: dict[str, list] = {}
    for job, output in zip(plan["jobs"], outputs):
        case = by_id[job["case_id"]]
        scored.setdefault(job["condition"], []).append((case, scoring.score(case, first_line_answer(output))))
    return scored


def score_runs(cases: list[dict], plan: dict, outputs_by_seed: list[list[str]]) -> tuple[dict, dict]:
    """Every run's answers (one per hypernetwork file, i.e. seed) scored once: the metrics' mean and std over seeds
    per condition and split, and which cases each condition passed per seed (training.paired)."""
    scored = [scored_plan(cases, plan, outputs) for outputs in outputs_by_seed]
    return mean_std([{cond: scoring.aggregate(pairs) for cond, pairs in s.items()} for s in scored]), per_case(scored)


def chunk_tokens_of(path: Path) -> int:
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        return int(f.metadata()["chunkTokens"])


def mean_std(per_seed: list[dict]) -> dict:
    """Mean and std over seeds of every metric, per condition and split."""
    out: dict = {}
    for cond in per_seed[0]:
        out[cond] = {}
        for split, metrics in per_seed[0][cond].items():
            out[cond][split] = {"n_cases": metrics["n_cases"]}
            for key in ("pass_rate", "exact_match", "token_f1", "other_params_rate", "run_on_rate", "params_followed"):
                vals = [s[cond][split][key] for s in per_seed]
                known = [v for v in vals if v is not None]  # params_followed is None where no output has the family's form
                out[cond][split][key] = {"mean": statistics.fmean(known) if known else None,
                                         "std": statistics.pstdev(known) if len(known) > 1 else 0.0, "seeds": vals}
            buckets = metrics.get("by_length_bucket", {})
            out[cond][split]["pass_rate_by_length"] = {
                b: {"mean": statistics.fmean(s[cond][split]["by_length_bucket"][b]["pass_rate"] for s in per_seed), "n_cases": buckets[b]["n_cases"]}
                for b in buckets
            }
    return out


def browser_result(browser: dict, cases: list[dict], plan: dict, reference_outputs: list[list[str]], reference: dict) -> dict:
    """Score the browser's answers (one run per hypernetwork file, in the order of --hypernets) and compare each
    run's answers with the PyTorch reference's answers made with the same file."""
    if len(browser["runs"]) != len(reference_outputs):
        raise SystemExit(f"the browser ran {len(browser['runs'])} hypernetwork(s), the reference {len(reference_outputs)}")
    same, browser_outputs = [], []
    for run, ref in zip(browser["runs"], reference_outputs):
        answers = {(o["case_id"], o["condition"]): o["output"] for o in run["outputs"]}
        outputs = [answers[(j["case_id"], j["condition"])] for j in plan["jobs"]]
        browser_outputs.append(outputs)
        same.append([first_line_answer(a) == first_line_answer(b) for a, b in zip(outputs, ref)])
    flat = [x for run in same for x in run]
    conditions, record = score_runs(cases, plan, browser_outputs)
    return {
        "path": f"browser ({browser['backend']})",
        **({"browser_wall_s": browser["wall_s"]} if "wall_s" in browser else {}),  # the browser's answering time
        "conditions": conditions,
        "per_case": record,
        "pytorch_reference": reference,
        "browser_vs_python_agreement": {
            "same_answer": sum(flat) / max(1, len(flat)), "n_jobs": len(flat),
            "per_hypernet": [sum(run) / max(1, len(run)) for run in same],
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", type=Path, required=True)
    ap.add_argument("--hypernets", type=Path, nargs="*", default=None, help="one file per training seed (default: the pack's own)")
    ap.add_argument("--testset", type=Path, default=Path("training/data/testset-v1.jsonl"))
    ap.add_argument("--skills", type=Path, default=None)
    ap.add_argument("--limit", type=int, default=0, help="cases per split (0: all)")
    ap.add_argument("--families_from", type=Path, default=None, metavar="JSONL",
                    help="only cases of the families named in this file (e.g. those the pack's base was trained on)")
    ap.add_argument("--max_new_tokens", type=int, default=48)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--scale", type=float, default=1.0, help="every active adapter's scale (the app's slider; default 1)")
    ap.add_argument("--over_context", type=float, default=0.0, metavar="F",
                    help="pad every skill past F x the pack's context with irrelevant sections (F >= 1)")
    ap.add_argument("--plan", action="store_true", help="print the job plan as JSON and exit (for bench/skills.mjs)")
    ap.add_argument("--browser-outputs", type=Path, default=None, help="score the browser's answers to the plan")
    ap.add_argument("--command", default=None)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if args.browser_outputs and args.scale != 1.0:
        raise SystemExit("--scale applies to the PyTorch path only: the browser benchmark runs adapters at scale 1")
    if args.over_context and args.over_context < 1:
        raise SystemExit(f"--over_context is a multiple of the context, at least 1 (got {args.over_context})")
    torch.set_num_threads(args.threads)
    t0 = time.time()
    if args.families_from and args.skills:
        raise SystemExit("--families_from picks test set cases; an external --skills folder is scored whole")
    families = families_in(args.families_from) if args.families_from else None
    cases = load_cases(args.testset, args.limit, args.seed, skills_dir=args.skills, families=families)
    own = args.pack / "hypernet.safetensors"
    hypernets = args.hypernets if args.hypernets is not None else ([own] if own.exists() else [])
    conditions = list(CONDITIONS) if hypernets else ["base", "icl"]
    if args.plan:  # the browser benchmark's jobs: the pack's tokenizer and context pad the skills, no model load
        if args.over_context:
            manifest = json.loads((args.pack / "manifest.json").read_text())
            cases, _ = pad_cases(cases, load_tokenizer(args.pack), manifest["generation"]["contextLength"], args.over_context, args.seed)
        json.dump(make_plan(cases, conditions, args.seed), sys.stdout)
        return
    runner = Runner.from_pack(args.pack, args.max_new_tokens)
    padding = None
    if args.over_context:  # with the runner's own tokenizer, past the context it cuts prompts to
        cases, padding = pad_cases(cases, runner.tok, runner.context, args.over_context, args.seed)
    plan = make_plan(cases, conditions, args.seed)
    reference_outputs = []
    for path in hypernets or [None]:
        net = load_hypernet(path) if path else None
        outputs = run_plan(runner, net, chunk_tokens_of(path) if path else 0, plan, args.scale)
        reference_outputs.append(outputs)
        print(f"{path}: done ({time.time() - t0:.0f}s)", file=sys.stderr, flush=True)
    scores, record = score_runs(cases, plan, reference_outputs)
    result = {
        "pack": runner.manifest["id"],
        "path": "pytorch",
        "hypernets": [str(p) for p in hypernets],
        "n_cases": len(cases),
        "adapter_scale": args.scale,
        **({"over_context": padding} if padding else {}),
        "conditions": scores,
        "per_case": record,
    }
    if args.browser_outputs:
        result.update(browser_result(json.loads(args.browser_outputs.read_text()), cases, plan, reference_outputs, result["conditions"]))
    result.update({
        "command": args.command or " ".join(["python", "-m", "training.bench_skills", *sys.argv[1:]]),
        "seed": args.seed,
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "wall_s": round(time.time() - t0, 1),
    })
    if not args.skills:  # an external folder is not a versioned test set
        result["per_case"]["testset"] = testset_identity(args.testset)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({c: {s: v["pass_rate"]["mean"] for s, v in d.items()} for c, d in result["conditions"].items()}, indent=1))


if __name__ == "__main__":
    main()
