"""Score a base model on the fixed test set with the skill in context and without it.

    python -m training.eval_base --model small|gemma|gemma-skill [--limit N [--bench-cases]] [--format chat|plain] [--key NAME] --out bench/results/base-eval-v2.json

- small: the committed pack public/models/small-skills (or --checkpoint RUN_DIR for a training run folder).
- gemma: the Gemma 3 270M GGUF converted to a Hugging Face folder under .build/ (converted on first use).
- gemma-skill: the same with the committed skill-tune delta (--delta, training/skill_tune.py) merged into its weights.
--limit N scores N cases per split: its own subset (training/cases.py, selection "eval_base"), or with --bench-cases
the skill benchmark's; the result names it in case_selection.
Each model also gets "general_text": its perplexity on held-out ordinary prose (training/general_text.py).
Prompts come from the model's own chat template (AutoTokenizer.apply_chat_template): the SKILL.md text is the
system message; Gemma's template has no system role and folds it into the first user turn. `--format plain`
(Gemma base is not instruction-tuned) writes a plain completion prompt instead:
"<SKILL.md>\n\nUser: ...\nAssistant: ...\nUser: ...\nAssistant:".

Decoding (training/runner.py): greedy with the KV cache, at most --max-new-tokens. Stop rule: at an end-of-sequence token; and when the
expected answer is one line (every family except multi-line ones such as import sorting), at the first newline after
some non-blank output, which is cut off. The answer is the decoded text, stripped.
Results merge into --out under "<model>" (plain format: "<model>-plain"), per condition ("icl", "no_skill"),
per split: pass_rate, exact_match, token_f1, n_cases and the same by length bucket (scoring.aggregate).
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import torch

from . import general_text
from .cases import load_cases, testset_identity
from .conversations import with_skill
from .export.pack import git_commit, sha256_file
from .runner import Runner, eos_ids_of
from .skills import aggregate, score
from .skills.scoring import per_case

ROOT = Path(__file__).resolve().parent.parent
TESTSET = ROOT / "training/data/testset-v2.jsonl"
DELTA = ROOT / "training/deltas/gemma-3-270m-skill.safetensors"
SMALL_PACK = ROOT / "public/models/small-skills"
GEMMA_DIR = ROOT / ".build/gemma-3-270m-hf"
CONDITIONS = ("icl", "no_skill")


def load_small(pack: Path | None, checkpoint: Path | None) -> tuple[Runner, dict]:
    from transformers import PreTrainedTokenizerFast

    if checkpoint is not None:
        from .train_small import load_run

        model, cfg, state = load_run(checkpoint)
        tok_dir = checkpoint / "tokenizer"
        source = {"checkpoint": str(checkpoint), "step": state["step"], "tokens_seen": state["tokens"]}
    else:
        from .export.pack import load_pack_model

        model, manifest = load_pack_model(pack)
        tok_dir = pack
        source = {"pack": str(pack.relative_to(ROOT) if pack.is_relative_to(ROOT) else pack), "tokens_seen": manifest["provenance"].get("tokens_seen")}
    tokenizer = PreTrainedTokenizerFast.from_pretrained(str(tok_dir))
    return Runner(model, tokenizer, eos_ids_of(tokenizer, tok_dir)), source


def load_gemma(fmt: str, delta: Path | None = None) -> tuple[Runner, dict]:
    from transformers import AutoTokenizer

    from .convert.gguf_to_hf import convert_gguf_to_hf, default_gguf_path
    from .hf_checkpoint import load_checkpoint

    folder = convert_gguf_to_hf(default_gguf_path(), GEMMA_DIR)  # cached: skipped when current
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = load_checkpoint(folder)
    source: dict[str, Any] = {"folder": str(folder.relative_to(ROOT))}
    if delta is not None:
        from .skill_tune import merge_delta

        record = merge_delta(model, delta)
        source["delta"] = {"file": str(delta.relative_to(ROOT) if delta.is_relative_to(ROOT) else delta),
                           "sha256": sha256_file(delta), "step": record.get("step"), "totals": record.get("totals")}
    return Runner(model, tokenizer, eos_ids_of(tokenizer, folder), fmt=fmt), source


def evaluate(runner: Runner, cases: list[dict], max_new_tokens: int, conditions=CONDITIONS, progress: bool = False) -> dict[str, Any]:
    out, samples, scored_by_cond = {}, {}, {}
    for cond in conditions:
        scored = []
        for i, case in enumerate(cases):
            messages = with_skill(case["messages"], case["skill_md"]) if cond == "icl" else case["messages"]
            output, _ = runner.answer(messages, one_line="\n" not in case["expected"], max_new_tokens=max_new_tokens)
            scored.append((case, score(case, output)))
            if i < 3:
                samples.setdefault(cond, []).append({"case_id": case["case_id"], "expected": case["expected"], "output": output})
            if progress and (i + 1) % 25 == 0:
                passed = sum(r["pass"] for _, r in scored)
                print(f"{cond}: {i + 1}/{len(cases)} pass {passed}", file=sys.stderr, flush=True)
        out[cond] = aggregate(scored)
        scored_by_cond[cond] = scored
    return {"conditions": out, "samples": samples, "per_case": per_case([scored_by_cond])}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("small", "gemma", "gemma-skill"), required=True)
    parser.add_argument("--delta", type=Path, default=DELTA, help="gemma-skill: the skill-tune delta to merge")
    parser.add_argument("--key", help="the entry's name in --out (default: the model, plus -plain for --format plain)")
    parser.add_argument("--no-general-text", action="store_true", help="skip the general-text perplexity")
    parser.add_argument("--format", choices=("chat", "plain"), default="chat", help="prompt format (plain: completion-style, for base models)")
    parser.add_argument("--limit", type=int, default=0, help="cases per split (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the per-split subset when --limit is set")
    parser.add_argument("--bench-cases", action="store_true",
                        help="with --limit: the skill benchmark's subset (training.bench_skills), to set these numbers beside its table")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (1 while a training run shares the CPU)")
    parser.add_argument("--pack", type=Path, default=SMALL_PACK)
    parser.add_argument("--checkpoint", type=Path, help="small: a training run folder instead of the pack")
    parser.add_argument("--testset", type=Path, default=TESTSET)
    parser.add_argument("--conditions", default=",".join(CONDITIONS))
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/base-eval-v2.json")
    args = parser.parse_args(argv)
    if args.bench_cases and not args.limit:
        raise SystemExit("--bench-cases picks the skill benchmark's subset for a --limit; without one every case is scored")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    start = time.perf_counter()
    if args.model == "small":
        runner, source = load_small(args.pack, args.checkpoint)
        runner.fmt = args.format
    else:
        runner, source = load_gemma(args.format, args.delta if args.model == "gemma-skill" else None)
    # --bench-cases: the benchmark's subset; otherwise the older eval_base one its committed results name (cases.py).
    cases = load_cases(args.testset, args.limit, args.seed, selection="bench_skills" if args.bench_cases else "eval_base")
    result = evaluate(runner, cases, args.max_new_tokens, tuple(args.conditions.split(",")), progress=True)
    key = args.key or args.model + ("-plain" if args.format == "plain" else "")
    entry = {
        **result,
        "general_text": None if args.no_general_text else general_text.perplexity(runner.model, runner.tok),
        "model_source": source,
        "format": args.format,
        "limit_per_split": args.limit or None,
        "case_selection": "bench_skills" if args.bench_cases else "eval_base",
        "max_new_tokens": args.max_new_tokens,
        "stop_rule": "eos; for one-line expected answers also the first newline after non-blank output",
        "command": shlex.join(["python", "-m", "training.eval_base", *(sys.argv[1:] if argv is None else argv)]),
        "seed": args.seed,
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "wall_time_s": round(time.perf_counter() - start, 1),
        "threads": args.threads,
    }
    entry["per_case"]["testset"] = testset_identity(args.testset)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    merged = json.loads(args.out.read_text()) if args.out.exists() else {}
    merged[key] = entry
    args.out.write_text(json.dumps(merged, indent=2) + "\n")
    for cond, splits in entry["conditions"].items():
        for split, s in splits.items():
            print(f"{key} {cond:8s} {split:17s} n={s['n_cases']:4d} pass={s['pass_rate']:.3f} exact={s['exact_match']:.3f} f1={s['token_f1']:.3f}")
    print(f"general text: {entry['general_text']}")
    print(f"wall {entry['wall_time_s']} s -> {args.out}")


if __name__ == "__main__":
    main()
