"""Does an adapter carry its own skill? Cross-entropy of the gold answer under: the base alone, the skill in context,
the skill's own adapter, another family's adapter (shuffled) and a sibling's adapter (sibling: a skill of the same
family with other parameters, from another case of the test set), per split of the test set.

python -m training.adapter_ce --pack public/models/small-skills --hypernets RUN/hypernet.safetensors ... \
    [--limit 50] --out bench/results/adapter-ce.json

Pass rates need a whole answer right, so a hypernetwork that has learned a little about each skill can score as the
base does; the answer's cross-entropy shows it. The gap shuffled - own is what the adapter knows about its own skill
beyond what any adapter teaches (the answer format); sibling - own, on the cases where the sibling's parameters give
this input another answer, is what it knows of its own parameters beyond its family's format; icl - base is what the
skill text is worth in context.
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
import torch.nn.functional as F

from . import bench_skills
from .bench_skills import chunk_tokens_of, make_plan
from .cases import families_in, load_cases
from .conversations import encode_conversation
from .export.pack import git_commit
from .hypernet import compose_slots, load_hypernet
from .runner import Runner
from .skills import FAMILIES
from .teacher import greedy_hits

CONDITIONS = ("base", "icl", "adapter", "shuffled", "sibling")
METRICS = ("ce", "forced_exact")


def answer_ce(runner: Runner, messages: list[dict], expected: str, lora) -> tuple[float, bool]:
    """Mean cross-entropy (nats per token) of the final answer, end-of-turn included, earlier turns being context;
    and whether every answer token is the greedy one under teacher forcing (tokens after end-of-turn aside), which is
    when greedy decoding writes exactly the gold answer."""
    turns = [{**m, "target": False} if m["role"] == "assistant" else m for m in messages]
    ids, mask = encode_conversation(runner.tok, [*turns, {"role": "assistant", "content": expected}])
    if len(ids) > runner.context:  # keep the newest tokens, as the app does
        ids, mask = ids[-runner.context:], mask[-runner.context:]
    x = torch.tensor([ids])
    sel = torch.tensor([mask])[:, 1:]
    with torch.no_grad():
        logits, _, _ = runner.model(x[:, :-1], lora=lora, logit_mask=sel)
    return float(F.cross_entropy(logits, x[:, 1:][sel])), bool(greedy_hits(logits, x, sel, runner.eos).all())


def sibling_of(cases: list[dict], seed: int) -> dict[str, tuple[dict, bool]]:
    """Per case of a test-set family, (another case of its family whose parameters differ, whether that case's
    parameters answer this case's input otherwise); cases whose family has no such case are left out. The sibling is
    drawn from the cases of the same split and skill shape where there are any, then of the same split, then from the
    family's other cases: its adapter should differ from the own one in the parameters, not in which split or shape
    of skill the hypernetwork has seen."""
    rng = random.Random(f"{seed}:sibling")
    out = {}
    for case in cases:
        if "params" not in case or case.get("family") not in FAMILIES:
            continue
        others = [c for c in cases if c.get("family") == case["family"] and c.get("params") not in (None, case["params"])]
        same_split = [c for c in others if c.get("split") == case.get("split")]
        same_shape = [c for c in same_split if c.get("style") == case.get("style")]
        pool = same_shape or same_split or others
        if pool:
            other = rng.choice(pool)
            out[case["case_id"]] = (other, FAMILIES[case["family"]].answer(other["params"], case["input"]) != case["expected"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", type=Path, required=True)
    ap.add_argument("--hypernets", type=Path, nargs="+", required=True, help="one file per training seed")
    ap.add_argument("--testset", type=Path, default=Path("training/data/testset-v1.jsonl"))
    ap.add_argument("--limit", type=int, default=50, help="cases per split (0: all)")
    ap.add_argument("--families_from", type=Path, default=None, metavar="JSONL",
                    help="only cases of the families named in this file, as training.bench_skills --families_from")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.time()
    cases = load_cases(args.testset, args.limit, args.seed, families=families_in(args.families_from) if args.families_from else None)
    runner = Runner.from_pack(args.pack, max_new_tokens=0)
    expected = {c["case_id"]: c["expected"] for c in cases}
    # The skill benchmark's own plan (all its conditions, so the same random draws): the same messages and the same
    # shuffled adapter per case as the pass rates it is read beside.
    jobs = [j for j in make_plan(cases, list(bench_skills.CONDITIONS), args.seed)["jobs"] if j["condition"] in CONDITIONS]
    siblings = sibling_of(cases, args.seed)
    jobs += [{**j, "condition": "sibling", "adapters": [siblings[j["case_id"]][0]["skill_id"]]}
             for j in jobs if j["condition"] == "adapter" and j["case_id"] in siblings]
    skills = {c["skill_id"]: c["skill_md"] for c in cases}
    used = sorted({s for j in jobs for s in j["adapters"]})
    # Jobs without an adapter (base, icl) do not depend on the hypernetwork.
    fixed = {(j["case_id"], j["condition"]): answer_ce(runner, j["messages"], expected[j["case_id"]], None) for j in jobs if not j["adapters"]}
    per_seed = []
    for path in args.hypernets:
        net, chunk = load_hypernet(path), chunk_tokens_of(path)
        made = {s: compose_slots([runner.adapter(net, skills[s], chunk)], [1.0], runner.lora) for s in used}
        got: dict[str, dict] = {c["case_id"]: {} for c in cases}
        for j in jobs:
            key = (j["case_id"], j["condition"])
            got[j["case_id"]][j["condition"]] = fixed[key] if key in fixed else answer_ce(runner, j["messages"], expected[j["case_id"]], made[j["adapters"][0]])
        per_seed.append(got)
        print(f"{path}: done ({time.time() - t0:.0f}s)", file=sys.stderr, flush=True)
    splits = sorted({c["split"] for c in cases})
    result: dict = {"pack": runner.manifest["id"], "hypernets": [str(p) for p in args.hypernets],
                    "metrics": {"ce": "answer cross-entropy, nats per token (mean over cases)",
                                "forced_exact": "fraction of cases whose every answer token is the greedy one under teacher forcing"},
                    "splits": {}}
    for split in splits:
        ids = [c["case_id"] for c in cases if c["split"] == split]
        entry: dict = {"n_cases": len(ids)}
        for cond in CONDITIONS:
            have = [i for i in ids if cond in per_seed[0][i]]  # sibling: the cases with one
            if not have:
                continue
            entry[cond] = {"n_cases": len(have)} if len(have) != len(ids) else {}
            for k, metric in enumerate(METRICS):
                vals = [statistics.fmean(float(s[i][cond][k]) for i in have) for s in per_seed]
                entry[cond][metric] = {"mean": statistics.fmean(vals), "std": statistics.pstdev(vals), "seeds": vals}
        # Per case and seed: does the own adapter beat another family's adapter on this answer?
        wins = [s[i]["adapter"][0] < s[i]["shuffled"][0] for s in per_seed for i in ids]
        entry["own_below_shuffled"] = sum(wins) / len(wins)
        # ... and a sibling's, where the sibling's parameters answer otherwise (its own parameters decide the answer)?
        entry["sibling_cases"] = {i: siblings[i][0]["case_id"] for i in ids if i in siblings}
        differ = [i for i in ids if i in siblings and siblings[i][1]]
        if differ:
            gaps = [s[i]["sibling"][0] - s[i]["adapter"][0] for s in per_seed for i in differ]
            entry["sibling_differs"] = {"n_cases": len(differ), "own_below_sibling": sum(g > 0 for g in gaps) / len(gaps),
                                        "ce_gap": statistics.fmean(gaps)}
        result["splits"][split] = entry
    result.update({"command": " ".join(["python", "-m", "training.adapter_ce", *sys.argv[1:]]), "seed": args.seed, "commit": git_commit(),
                   "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "wall_s": round(time.time() - t0, 1)})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({s: {c: [round(e[c][m]["mean"], 3) for m in METRICS] for c in CONDITIONS if c in e}
                      | {"own<shuffled": round(e["own_below_shuffled"], 2), "sibling_differs": e.get("sibling_differs")}
                      for s, e in result["splits"].items()}))


if __name__ == "__main__":
    main()
