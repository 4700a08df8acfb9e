#!/usr/bin/env bash
# A bench at a base commit and at this tree, alternated in one session (base, here,
# base, here, ...), pinned to one CPU, so a change's effect on the bench's ratio is read
# against the same machine state. Each run measures its own floor. BENCH is latency (the
# call/echo ratio, the default) or callbacks (the callback/plain call ratio).
#
#     bench/compare_base.sh BASE_REV [ROUNDS] [BENCH]
#
# Writes bench/results/BENCH_vs_BASE.txt (BASE abbreviated as git does). The bench's own
# recorded result (bench/results/BENCH.exs), which each run here rewrites, is put back.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() {
  echo "usage: bench/compare_base.sh BASE_REV [ROUNDS] [latency|callbacks]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
base_rev=$1
rounds=${2:-4}
bench=${3:-latency}
case $bench in
  latency | callbacks) ;;
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

ratio_of() { sed -n 's/^ratio [^:]*: *\([0-9.]*\).*/\1/p'; }
medians_of() { sed -n 's/^\(raw port echo\|SnakeBridge.call\|callback round trip\|plain call\)[^:]*: *median \([0-9.]*\).*/\2/p' | paste -sd/; }

out=bench/results/${bench}_vs_$(git rev-parse --short "$base_rev").txt
{
  echo "command: bench/compare_base.sh $base_rev $rounds $bench"
  echo "date: $(date -u +%F)  base: $(git rev-parse --short "$base_rev")  here: $(git rev-parse --short HEAD)$(git diff --quiet -- . ":!bench/results" ":!*.md" || echo +changes)"
  echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
  echo "round side ratio $([ "$bench" = latency ] && echo echo_us/call_us || echo callback_us/call_us)"
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
echo "median ratio: base $base, here $mine, here/base $(awk -v a="$mine" -v b="$base" 'BEGIN {printf "%.3f", a / b}')" | tee -a "$out"
