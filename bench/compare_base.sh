#!/usr/bin/env bash
# A bench at a base commit and at this tree, alternated in one session (base, here,
# base, here, ...), pinned to one CPU, so a change's effect on the bench's ratio is read
# against the same machine state. Each run measures its own floor. BENCH is latency (the
# call/echo ratio, the default), callbacks (the callback/plain call ratio) or streaming
# (no floor: the default batching's items per second, in millions, higher is better).
#
#     bench/compare_base.sh BASE_REV [ROUNDS] [BENCH]
#
# Writes bench/results/BENCH_vs_BASE.txt (BASE abbreviated as git does). The bench's own
# recorded result (bench/results/BENCH.exs), which each run here rewrites, is put back.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() {
  echo "usage: bench/compare_base.sh BASE_REV [ROUNDS] [latency|callbacks|streaming]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
base_rev=$1
rounds=${2:-4}
bench=${3:-latency}
case $bench in
  latency | callbacks | streaming) ;;
  *) usage ;;
esac
here=$PWD
recorded=bench/results/$bench.exs
tmp=$(mktemp -d)
cp "$recorded" "$tmp/recorded.exs"
trap 'cp "$tmp/recorded.exs" "$here/$recorded"; git worktree remove --force "$tmp/base" 2>/dev/null; rm -rf "$tmp"' EXIT
git worktree add -q --detach "$tmp/base" "$base_rev"
# The same interpreter and libraries; each tree's workers run its own priv/python.
ln -s "$here/.venv" "$tmp/base/.venv"
(cd "$tmp/base" && mix compile >/dev/null)
mix compile >/dev/null

if [ "$bench" = streaming ]; then
  ratio_of() { sed -n 's/^default batching: *\([0-9]*\) items\/s.*/\1/p' | awk '{printf "%.3f", $1 / 1e6}'; }
  medians_of() { sed -n 's/^\(auto\|batch 8192\) .*: *\([0-9]*\) items\/s/\2/p' | awk '{printf "%s%.3f", (NR > 1 ? "/" : ""), $1 / 1e6}'; }
else
  ratio_of() { sed -n 's/^ratio [^:]*: *\([0-9.]*\).*/\1/p'; }
  medians_of() { sed -n 's/^\(raw port echo\|SnakeBridge.call\|callback round trip\|plain call\)[^:]*: *median \([0-9.]*\).*/\2/p' | paste -sd/; }
fi

out=bench/results/${bench}_vs_$(git rev-parse --short "$base_rev").txt
{
  echo "command: bench/compare_base.sh $base_rev $rounds $bench"
  echo "date: $(date -u +%F)  base: $(git rev-parse --short "$base_rev")  here: $(git rev-parse --short HEAD)$(git diff --quiet -- . ":!bench/results" ":!*.md" || echo +changes)"
  echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
  case $bench in
    latency) echo "round side ratio echo_us/call_us" ;;
    callbacks) echo "round side ratio callback_us/call_us" ;;
    streaming) echo "round side auto_M_items_s auto_M/batch_8192_M" ;;
  esac
} >"$out"

for round in $(seq "$rounds"); do
  for side in base here; do
    dir=$here
    [ "$side" = base ] && dir=$tmp/base
    run=$(cd "$dir" && taskset -c 0 mix run "bench/$bench.exs" 2>/dev/null)
    line="$round $side $(echo "$run" | ratio_of) $(echo "$run" | medians_of)"
    echo "$line" | tee -a "$out"
  done
done

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
base=$(awk '$2 == "base" {print $3}' "$out" | median)
mine=$(awk '$2 == "here" {print $3}' "$out" | median)
measure=$([ "$bench" = streaming ] && echo "M items/s" || echo ratio)
echo "median $measure: base $base, here $mine, here/base $(awk -v a="$mine" -v b="$base" 'BEGIN {printf "%.3f", a / b}')" | tee -a "$out"
