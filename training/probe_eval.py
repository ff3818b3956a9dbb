"""How well the parameter probe of a hypernetwork run (train_hypernet --param_weight) names what skills say, per split:
does the vector the heads read carry a skill's family and parameter values in wordings and combinations it was not
trained on?

python -m training.probe_eval --run training/runs/RUN [--per_split 120] --out bench/results/probe-RUN.json

Reads the run's checkpoint (the probe is saved there only) and its hypernet.safetensors, encodes a sample of skills of
each split from skills.jsonl (the families the run trained on), and scores the probe's answers for them: family and
parameter-value accuracy and loss, as in training (siblings.param_probe_loss). Values are the classes of the run's
train skills; a held-out combination's values each occur among them (the library holds out combinations, not values).
"""
from __future__ import annotations

import argparse
import json
import random
import shlex
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import torch

from .cases import read_jsonl
from .conversations import load_tokenizer
from .export.pack import git_commit, load_pack_model
from .hypernet import load_hypernet
from .siblings import ParamLabels, param_probe_loss
from .skill_encoder import encode_skill
from .train_hypernet import hidden_batch, parse_layers, skill_markdown, train_skills

SPLITS = ("train", "heldout_phrasing", "heldout_params")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, required=True, help="a train_hypernet --out folder of a --param_weight run")
    ap.add_argument("--per_split", type=int, default=120, help="skills sampled per split")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    state = torch.load(args.run / "ckpt.pt", map_location="cpu", weights_only=False)
    if "probe" not in state:
        raise SystemExit(f"{args.run}/ckpt.pt has no probe: train with --param_weight above 0")
    cfg = state["config"]
    train = train_skills(cfg["data"], cfg.get("families_from", ""), cfg.get("max_skills", 0))  # the trainer's own
    labels = ParamLabels.build([r["family"] for r in train], [r["params"] for r in train])
    net = load_hypernet(args.run / "hypernet.safetensors").eval()
    probe = torch.nn.Linear(net.config.d_model, labels.size)
    probe.load_state_dict(state["probe"])
    base, manifest = load_pack_model(Path(cfg["pack"]))
    tok = load_tokenizer(cfg["pack"])
    layers = parse_layers(cfg.get("encoder_layers", ""), base.config.num_hidden_layers) or list(manifest["encoder"]["layers"])
    trained_families = {r["family"] for r in train}
    counts: dict[int, Counter] = defaultdict(Counter)
    for row in labels.of_skill:
        for g, c in row[1:]:
            counts[g][c] += 1
    majority = {g: cs.most_common(1)[0][0] for g, cs in counts.items()}
    skills = read_jsonl(Path(cfg["data"]) / "skills.jsonl")
    rng = random.Random(args.seed)
    result: dict = {"run": str(args.run), "steps": state["step"], "per_split": args.per_split, "splits": {}}
    for split in SPLITS:
        pool = [r for r in skills if r["split"] == split and r["family"] in trained_families]
        pool = rng.sample(pool, min(args.per_split, len(pool)))
        with torch.no_grad():
            enc = [encode_skill(base, tok.encode(skill_markdown(r), add_special_tokens=False), tok.bos_token_id, layers,
                                cfg["chunk_tokens"]) for r in pool]
            hidden, mask = hidden_batch(enc, list(range(len(enc))))
            logits = probe(net.pool(hidden, mask))
        these = replace(labels, of_skill=[labels.of(r["family"], r["params"]) for r in pool])
        loss, family, values = param_probe_loss(logits, these, list(range(len(pool))))
        # The bar to clear: naming each parameter's commonest value among the train skills, whatever the skill says.
        hits = [c == majority[g] for row in these.of_skill for g, c in row[1:] if labels.groups[g][1] > 1]
        result["splits"][split] = {"n_skills": len(pool), "loss": loss.item(), "family_acc": family.item(), "value_acc": values.item(),
                                   "value_acc_commonest": sum(hits) / len(hits)}
        print(split, result["splits"][split], flush=True)
    result.update({"command": shlex.join(["python", "-m", "training.probe_eval", *(sys.argv[1:] if argv is None else argv)]),
                   "seed": args.seed, "commit": git_commit(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   "wall_s": round(time.time() - t0, 1)})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
