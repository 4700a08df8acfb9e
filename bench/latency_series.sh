#!/usr/bin/env bash
# bench/latency.exs run RUNS times, PAUSE seconds apart, pinned to one CPU: a machine
# whose echo floor drifts (quiet at the slow class's ~12.5 µs, contended at 16–20 µs)
# gives one ratio per stretch, so the runs are grouped by the floor they read.
#
#     bench/latency_series.sh [RUNS] [PAUSE]
#
# Writes bench/results/latency_series.txt: each run's floor, call and ratio, then the
# median ratio by floor band. The bench's own recorded result
# (bench/results/latency.exs), which each run rewrites, is put back.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
pause=${2:-30}
[[ $runs =~ ^[1-9][0-9]*$ && $pause =~ ^[0-9]+$ ]] || {
  echo "usage: bench/latency_series.sh [RUNS] [PAUSE]" >&2
  exit 2
}
recorded=bench/results/latency.exs
kept=$(mktemp)
cp "$recorded" "$kept"
trap 'cp "$kept" "$recorded"; rm -f "$kept"' EXIT
mix compile >/dev/null

out=bench/results/latency_series.txt
{
  echo "command: bench/latency_series.sh $runs $pause"
  echo "date: $(date -u +%F)  here: $(git rev-parse --short HEAD)$(git diff --quiet -- . ":!bench/results" ":!*.md" || echo +changes)"
  echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
  echo "run time echo_us call_us ratio"
} >"$out"

for run in $(seq "$runs"); do
  result=$(taskset -c 0 mix run bench/latency.exs 2>/dev/null)
  echo_us=$(echo "$result" | sed -n 's/^raw port echo[^:]*: *median \([0-9.]*\).*/\1/p')
  call_us=$(echo "$result" | sed -n 's/^SnakeBridge.call[^:]*: *median \([0-9.]*\).*/\1/p')
  ratio=$(echo "$result" | sed -n 's/^ratio [^:]*: *\([0-9.]*\).*/\1/p')
  echo "$run $(date -u +%T) $echo_us $call_us $ratio" | tee -a "$out"
  [ "$run" -lt "$runs" ] && sleep "$pause"
done

# Bands by floor: the slow class's (and the VM's share of it), in between, contended.
awk 'NR > 4 {
  band = ($3 <= 14) ? "floor <= 14 us" : ($3 <= 16.5) ? "floor 14-16.5 us" : "floor > 16.5 us"
  n[band]++; r[band, n[band]] = $5; all[++total] = $5
  if ($5 <= 1.8) le18[band]++
  if ($5 <= 2.0) le20[band]++
}
function median(a, k,    i, j, t, v) {
  for (i = 1; i <= k; i++) v[i] = a[i]
  for (i = 2; i <= k; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
  return (k % 2) ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
}
END {
  split("floor <= 14 us|floor 14-16.5 us|floor > 16.5 us", order, "|")
  for (b = 1; b <= 3; b++) {
    band = order[b]
    if (!n[band]) continue
    for (i = 1; i <= n[band]; i++) x[i] = r[band, i]
    printf "%s: %d runs, median ratio %.3f, <= 1.8 in %d, <= 2.0 in %d\n", band, n[band], median(x, n[band]), le18[band], le20[band]
  }
  printf "all: %d runs, median ratio %.3f\n", total, median(all, total)
}' "$out" | tee -a "$out"
