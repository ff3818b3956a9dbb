#!/usr/bin/env bash
# #23 ablations at equal CPU time (--clock cpu: a run paused or sharing the CPU still gets its minutes): the same hypernetwork recipe with one part added at a time, 3 seeds each,
# then the skill benchmark over the seeds (training.bench_skills, conditions base/icl/adapter/adapter_icl/shuffled/
# accumulate_3). One run after another (two trainings at once slow both on a CPU).
#   scripts/ablate-hypernet.sh MINUTES [VARIANT ...]        (default: every variant)
# Env: PACK (default public/models/small-skills), CONFIG (hypernet-small-cpu.json on the CPU, hypernet-small.json on a GPU), DEVICE (cpu|cuda),
# SEEDS ("0 1 2"), LIMIT (cases per split for the benchmark; 0 = all), TESTSET (training/data/testset-v2.jsonl),
# RUNS (training/runs/ablate), RESULTS (bench/results), FAMILIES_FROM (a JSONL whose families alone are trained on and
# scored; for small-skills, whose base knows testset-v1's families only, it defaults to training/data/testset-v1.jsonl).
# Each variant writes RESULTS/ablate-<pack>-<variant>.json.
set -euo pipefail
minutes=${1:?usage: scripts/ablate-hypernet.sh MINUTES [VARIANT ...]}
shift
pack=${PACK:-public/models/small-skills}
device=${DEVICE:-cpu}
# The CPU recipe (batch 16 at lr 3e-4: the GPU recipe's lr 1e-3 diverges at batch 16) or the GPU one.
if [ "$device" = cpu ]; then config=${CONFIG:-training/configs/hypernet-small-cpu.json}; else config=${CONFIG:-training/configs/hypernet-small.json}; fi
seeds=${SEEDS:-0 1 2}
limit=${LIMIT:-0}
testset=${TESTSET:-training/data/testset-v2.jsonl}
runs=${RUNS:-training/runs/ablate}
results=${RESULTS:-bench/results}
py=${PYTHON:-scripts/python.sh}
name=$(basename "$pack")
if [ "$name" = small-skills ]; then families_from=${FAMILIES_FROM-training/data/testset-v1.jsonl}; else families_from=${FAMILIES_FROM:-}; fi
clock=wall
[ "$device" != cpu ] || clock=cpu  # CPU seconds: a run paused or sharing the CPU still gets its minutes
fam=()
[ -z "$families_from" ] || fam=(--families_from "$families_from")

declare -A args=(
  [plain]=""
  [siblings]="--sibling_fraction 0.5 --sibling_k 4"
  [contrast]="--sibling_fraction 0.5 --sibling_k 4 --contrast_weight 1 --contrast_margin 1"
  [bias]="--sibling_fraction 0.5 --sibling_k 4 --contrast_weight 1 --contrast_margin 1 --bias_rank 2 --gen_penalty ${GEN_PENALTY:-100}"
  [atoms]="--sibling_fraction 0.5 --sibling_k 4 --contrast_weight 1 --contrast_margin 1 --head atoms --num_atoms 16"
  [tokens]="--head tokens"
  [tokens-siblings]="--head tokens --sibling_fraction 0.5 --sibling_k 4"
  [phrasing]="--phrasing_weight 1"
  [phrasing5]="--phrasing_weight 5"
  [tokens-phrasing]="--head tokens --phrasing_weight 1"
  [phrasing-bias]="--phrasing_weight 1 --bias_rank 2 --gen_penalty ${GEN_PENALTY:-100}"
  [contrast-logistic]="--sibling_fraction 0.5 --sibling_k 4 --contrast_weight 1 --contrast_loss logistic"
  [params]="--param_weight 1"
  [phrasing-params]="--phrasing_weight 1 --param_weight 1"
)
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(plain siblings contrast bias atoms tokens tokens-siblings phrasing phrasing5 tokens-phrasing phrasing-bias params phrasing-params)  # contrast-logistic by name only (it broke the model)
for v in "${variants[@]}"; do
  [ -n "${args[$v]+set}" ] || { echo "unknown variant '$v' (${!args[*]})" >&2; exit 2; }
done
mkdir -p "$runs" "$results"
for v in "${variants[@]}"; do
  files=()
  for s in $seeds; do
    dir="$runs/$name-$v-s$s"
    rm -rf "$dir"  # a fresh run: resuming one would train it MINUTES more on a restarted schedule
    # shellcheck disable=SC2086
    $py -m training.train_hypernet --config "$config" --pack "$pack" --device "$device" --seed "$s" --out "$dir" \
      --max_steps 1000000 --max_minutes "$minutes" --clock "$clock" "${fam[@]}" ${args[$v]} >"$dir.log" 2>&1 || { tail -5 "$dir.log" >&2; exit 1; }
    tail -n 2 "$dir.log"
    files+=("$dir/hypernet.safetensors")
  done
  cmd="scripts/ablate-hypernet.sh $minutes $v (train_hypernet --config $config ${args[$v]} --max_minutes $minutes --clock $clock ${fam[*]}; seeds $seeds; limit $limit)"
  $py -m training.bench_skills --pack "$pack" --hypernets "${files[@]}" --testset "$testset" --limit "$limit" "${fam[@]}" \
    --command "$cmd" --out "$results/ablate-$name-$v.json"
done
