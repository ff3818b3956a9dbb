"""The small model's training loop, checkpoint/resume, loss mask, packed forward and the base-model evaluator."""
import dataclasses
import json
import random
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

from training.eval_base import evaluate
from training.model import Transformer, init_weights
from training.runner import Runner, eos_ids_of
from training.small_data import ChatEncoder, SkillData, build_rows, collate, pack_rows
from training.train_small import (EpochSource, SmallConfig, batch_loss, load_config, load_milestone, load_run, model_config,
                                  packed_forward, train)

DATA = Path(__file__).resolve().parents[1] / "data"
TINY = ["--vocab_size=400", "--model.hidden_size=32", "--model.num_hidden_layers=2", "--model.num_attention_heads=2",
        "--model.num_key_value_heads=1", "--model.head_dim=16", "--model.intermediate_size=64",
        "--max_row_tokens=2048", "--model.max_position_embeddings=2048", "--batch_tokens=4096", "--max_skills=6",
        "--warmup_steps=2", "--lr=0.01", "--min_lr=0.01", "--log_every=1", "--valid_rows=2", "--valid_every_steps=1000",
        "--threads=1", "--bf16=false", "--checkpoint_every_s=100000"]

needs_data = pytest.mark.skipif(not (DATA / "train.jsonl").exists(), reason="run python -m training.make_data first")


def tiny_cfg(out: Path, *extra: str) -> SmallConfig:
    return load_config(None, [*TINY, f"--out_dir={out}", *extra])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    train(tiny_cfg(out, "--max_tokens=10000"))
    return out


@needs_data
def test_loss_decreases(trained):
    history = [json.loads(line) for line in (trained / "log.jsonl").open() if '"loss"' in line]
    assert len(history) >= 4
    first, last = history[0]["loss"], min(h["loss"] for h in history[-3:])
    assert last < first - 0.3, (first, last)


@needs_data
def test_resume_gives_the_same_state(trained, tmp_path):
    # Run A: straight to 10000 tokens (the fixture). Run B: stop at ~5000, then resume with the same command.
    b = tmp_path / "b"
    b.mkdir()
    (b / "tokenizer").mkdir()
    for f in ("tokenizer.json", "tokenizer_config.json"):
        (b / "tokenizer" / f).write_bytes((trained / "tokenizer" / f).read_bytes())
    train(tiny_cfg(b, "--max_tokens=10000", "--stop_after_tokens=5000"))  # as if killed after a checkpoint
    assert not load_run(b)[2].get("done")
    train(tiny_cfg(b, "--max_tokens=10000"))
    model_a, _, state_a = load_run(trained)
    model_b, _, state_b = load_run(b)
    assert state_a["tokens"] == state_b["tokens"] and state_a["step"] == state_b["step"]
    for (name, pa), pb in zip(model_a.state_dict().items(), model_b.state_dict().values()):
        torch.testing.assert_close(pa, pb, rtol=1e-5, atol=1e-6, msg=name)


@needs_data
def test_a_wiped_run_resumes_from_its_committed_milestone(trained, tmp_path):
    # Run C stops at ~5000 tokens writing a milestone (float16 weights, tokenizer, state); its run folder is then lost
    # (a wiped machine) and the same command in a fresh folder goes on from the milestone to the straight run's end.
    milestone, c, d = tmp_path / "milestone", tmp_path / "c", tmp_path / "d"
    (c / "tokenizer").mkdir(parents=True)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        (c / "tokenizer" / f).write_bytes((trained / "tokenizer" / f).read_bytes())
    train(tiny_cfg(c, "--max_tokens=10000", "--stop_after_tokens=5000", f"--milestone_dir={milestone}"))
    model_c, _, state_c = load_run(c)
    assert (milestone / "tokenizer" / "tokenizer.json").read_bytes() == (trained / "tokenizer" / "tokenizer.json").read_bytes()
    # The milestone holds the stopped run's weights rounded to float16 and its position in the data.
    fresh = Transformer(model_config(tiny_cfg(d)))
    state_m = load_milestone(milestone, fresh, tiny_cfg(d))
    assert (state_m["step"], state_m["tokens"], state_m["epoch"], state_m["batch"]) == (state_c["step"], state_c["tokens"], state_c["epoch"], state_c["batch"])
    for (name, pa), pb in zip(model_c.state_dict().items(), fresh.state_dict().values()):
        torch.testing.assert_close(pa.half().float(), pb, rtol=0, atol=0, msg=name)
    # No ckpt.pt in d: from the milestone. At learning rate 0 the run ends with exactly the weights it started from,
    # which must be the milestone's, not a fresh model's.
    out = train(tiny_cfg(d, "--max_tokens=10000", "--lr=0", "--min_lr=0", f"--milestone_dir={milestone}"))
    _, _, state_a = load_run(trained)
    assert out["state"]["step"] == state_a["step"] and out["state"]["tokens"] == state_a["tokens"]
    assert out["state"]["history"][: len(state_c["history"])] == state_c["history"]
    assert [x["from"] for x in out["state"]["sessions"]] == ["start", "milestone"]
    for (name, pa), pb in zip(model_c.state_dict().items(), load_run(d)[0].state_dict().values()):
        torch.testing.assert_close(pa.half().float(), pb, rtol=0, atol=0, msg=name)
    # A machine that kept its older run folder (c, stopped at ~5000 tokens) goes on from the newer milestone (d's
    # finished run) instead of writing its older state over it.
    again = train(tiny_cfg(c, "--max_tokens=10000", f"--milestone_dir={milestone}"))
    assert again["state"]["tokens"] == state_a["tokens"] and load_milestone(milestone, fresh, tiny_cfg(c))["tokens"] == state_a["tokens"]
    # A milestone of another model shape or data order is refused by name before anything is written.
    for bad, name in (("--model.hidden_size=48", "hidden_size"), ("--batch_tokens=2048", "batch_tokens"), ("--seed=1", "seed")):
        with pytest.raises(SystemExit, match=name):
            train(tiny_cfg(tmp_path / "e", "--max_tokens=10000", bad, f"--milestone_dir={milestone}"))
    assert not (tmp_path / "e" / "tokenizer").exists()


@needs_data
def test_prefetching_workers_build_the_same_batches(trained):
    """A GPU run builds epochs ahead in worker processes: the batches equal those built in process."""
    cfg = tiny_cfg(trained, "--max_tokens=10000")
    data = SkillData(DATA, cfg.max_skills)
    tok_path = trained / "tokenizer" / "tokenizer.json"
    enc = ChatEncoder(Tokenizer.from_file(str(tok_path)))
    here = EpochSource(cfg, data, enc, tok_path)
    ahead = EpochSource(dataclasses.replace(cfg, prefetch_workers=2), data, enc, tok_path)
    try:
        for epoch in (0, 1, 2):
            a, b = here.get(epoch), ahead.get(epoch)
            assert [[r.ids for r in batch] for batch in a] == [[r.ids for r in batch] for batch in b]
            assert [[r.mask for r in batch] for batch in a] == [[r.mask for r in batch] for batch in b]
        assert here.get(1) != here.get(2)  # epochs after the first are fresh wordings
    finally:
        ahead.close()


def make_encoder(tmp_path: Path) -> ChatEncoder:
    from training.tokenizer import train_bpe

    texts = ["Write the commit message: fix parser", "fix(parser): handle empty input", "system\n", "user\n", "assistant\n"] * 5
    return ChatEncoder(train_bpe(texts, 300, tmp_path / "tok"))


def test_loss_mask_covers_exactly_the_answer_tokens(tmp_path):
    enc = make_encoder(tmp_path)
    messages = [
        {"role": "user", "content": "Write the commit message: fix parser"},
        {"role": "assistant", "content": "fix: parser", "target": False},
        {"role": "user", "content": "Wrong format. Try again."},
        {"role": "assistant", "content": "fix(parser): handle empty input", "target": True},
    ]
    ids, mask = enc.conversation(messages)
    masked = [i for i, m in zip(ids, mask) if m]
    assert masked[-1] == enc.im_end
    assert enc.tok.decode(masked[:-1]) == "fix(parser): handle empty input"
    assert masked.count(enc.im_end) == 1  # the deliberately wrong answer is not a target
    # Piecewise ids equal the chat template rendered by transformers, so training and inference agree.
    hf = PreTrainedTokenizerFast.from_pretrained(str(tmp_path / "tok"))
    skill = "---\nname: x\n---\n\nUse fix(scope): subject."
    templated = hf.apply_chat_template([{"role": "system", "content": skill}, *messages[:3]], add_generation_prompt=True, tokenize=True)
    templated = list(templated["input_ids"] if hasattr(templated, "keys") else templated)
    assert enc.prompt(skill, messages[:3]) == templated


def test_packed_rows_match_separate_examples(tmp_path):
    """Conversations sharing one skill prefix in a row give the same logits as each conversation alone."""
    enc = make_encoder(tmp_path)
    cfg = load_config(None, TINY)
    torch.manual_seed(0)
    model = Transformer(model_config(cfg))
    init_weights(model, 0, std=0.2)
    prefix = enc.prefix("Use fix(scope): subject.")
    convs = [enc.conversation([{"role": "user", "content": t}, {"role": "assistant", "content": a, "target": True}])
             for t, a in (("fix parser", "fix(parser): x"), ("commit message: handle empty input", "fix: handle"))]
    row = pack_rows(prefix, convs, 512)
    assert len(row) == 1
    batch = collate(row, 0)
    with torch.no_grad():
        packed = packed_forward(model, batch["ids"], batch["position"], batch["segment"]) @ model.lm_head_weight().T
        start = len(prefix)
        for ids, _ in convs:
            alone, _, _ = model(torch.tensor([prefix + ids]), all_logits=True)
            torch.testing.assert_close(packed[0, start : start + len(ids)], alone[0, len(prefix):], rtol=1e-4, atol=1e-4)
            start += len(ids)


@needs_data
def test_eval_scorer_end_to_end_with_a_tiny_random_model(tmp_path):
    enc = make_encoder(tmp_path)
    cfg = load_config(None, TINY)
    model = Transformer(model_config(cfg))
    init_weights(model, 0)
    model.eval()
    tok = PreTrainedTokenizerFast.from_pretrained(str(tmp_path / "tok"))
    runner = Runner(model, tok, eos_ids_of(tok, tmp_path / "tok"))
    cases = [json.loads(line) for line in (DATA / "testset-v1.jsonl").open()][:3]
    report = evaluate(runner, cases, max_new_tokens=4)
    for cond in ("icl", "no_skill"):
        split = report["conditions"][cond]["train"]
        assert split["n_cases"] == 3 and 0.0 <= split["pass_rate"] <= 1.0 and "by_length_bucket" in split
        # The per-case record agrees with the pass rate it sits beside.
        assert len(report["per_case"]["passed_by_seed"][0][cond]) == round(3 * split["pass_rate"])
    assert report["per_case"]["case_ids"] == {"train": sorted(c["case_id"] for c in cases)}


def test_eval_base_bench_cases_are_the_skill_benchmark_subset(monkeypatch, tmp_path):
    """--bench-cases evaluates exactly the cases the skill benchmark picks for the same --limit and --seed, so its
    numbers sit beside that table; without it eval_base keeps its own subset."""
    import training.eval_base as eval_base
    from training.cases import load_cases as bench_cases

    seen = []
    monkeypatch.setattr(eval_base, "evaluate", lambda runner, cases, *a, **k: seen.append([c["case_id"] for c in cases]) or {"conditions": {}, "samples": {}, "per_case": {}})
    out = tmp_path / "eval.json"
    eval_base.main(["--model", "small", "--limit", "2", "--bench-cases", "--out", str(out), "--no-general-text"])
    eval_base.main(["--model", "small", "--limit", "2", "--out", str(tmp_path / "own.json"), "--no-general-text"])
    assert seen[0] == [c["case_id"] for c in bench_cases(DATA / "testset-v2.jsonl", 2, 0)]
    assert len(seen[1]) == len(seen[0]) == 8 and seen[1] != seen[0]
    assert json.loads(out.read_text())["small"]["case_selection"] == "bench_skills"
    # Its per-case record names the test set (case ids recur across versions): training.paired checks it.
    import hashlib
    assert json.loads(out.read_text())["small"]["per_case"]["testset"]["sha256"] == hashlib.sha256((DATA / "testset-v2.jsonl").read_bytes()).hexdigest()
    with pytest.raises(SystemExit, match="for a --limit"):
        eval_base.main(["--model", "small", "--bench-cases", "--out", str(out)])


def test_eval_base_answers_by_the_benchmark_line_rule(monkeypatch):
    """eval_base and the skill benchmark read a one-line answer the same way (runner.first_line_answer)."""
    import training.runner as runner_module

    text = "\n  \r\n  ticket-42 \rtail\nmore\n"  # splitlines ends a line at \r too

    class Tok:
        def decode(self, ids, skip_special_tokens=True):
            return text[: len(ids)]

        def apply_chat_template(self, messages, **kw):
            return [1]

    monkeypatch.setattr(runner_module, "generate", lambda model, prompt, n, eos, lora=None, until=None: list(range(len(text))))
    runner = Runner(None, Tok(), set())
    question = [{"role": "user", "content": "ticket?"}]
    assert runner.answer(question, one_line=True, max_new_tokens=64) == ("ticket-42", False)
    assert runner.answer(question, one_line=False, max_new_tokens=64) == (text.strip(), False)
