#!/usr/bin/env bash
# GLM and Cox over N sandbox nodes against R on the pooled data, in the same
# script and on the same synthetic data (spoor-bench synth). Prints wall
# times, the ratio, the largest relative difference of the estimates, node
# memory, and for pooled Cox the bytes a node sends per iteration.
#
#   bench/analysis_vs_r.sh [glm] [cox]        (both by default)
# Environment (defaults are the issue's sizes):
#   SITES=8 GLM_ROWS=250000 GLM_P=20 COX_ROWS=50000 COX_P=10
# Needs Rscript with the survival package (scripts/setup installs both) and a
# Release build (scripts/build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
spoor=build/bin/spoor
bench=build/bin/spoor-bench
SITES=${SITES:-8}
GLM_ROWS=${GLM_ROWS:-250000}
GLM_P=${GLM_P:-20}
COX_ROWS=${COX_ROWS:-50000}
COX_P=${COX_P:-10}
which=("$@")
[[ ${#which[@]} -eq 0 ]] && which=(glm cox)

work=$(mktemp -d /tmp/spoor-bench-analysis.XXXXXX)
cleanup() {
  "$spoor" sandbox stop --dir "$work/sandbox" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }

# start_sandbox DATA_DIR [extra sandbox options]
start_sandbox() {
  local data=$1
  shift
  "$spoor" sandbox stop --dir "$work/sandbox" >/dev/null 2>&1 || true
  rm -rf "$work/sandbox"
  local nodes=()
  for ((i = 1; i <= SITES; i++)); do nodes+=(--node "site$i=$data/site$i.csv"); done
  "$spoor" sandbox start --dir "$work/sandbox" "${nodes[@]}" "$@" >/dev/null
  # Load the data at every node before timing (the benchmark is "data loaded").
  "$spoor" --config "$work/sandbox/client.toml" summary --dataset cohort --vars x1 >/dev/null
}

# Peak resident memory of the nodes, largest first, in MB.
node_memory() {
  awk '$1 ~ /^site/ {print $2}' "$work/sandbox/sandbox.pids" | while read -r pid; do
    awk '/VmHWM/ {printf "%.0f\n", $2 / 1024}' "/proc/$pid/status"
  done | sort -n | tail -1
}

covariates() { seq -s ' + ' -f 'x%g' 1 "$1"; }

if [[ " ${which[*]} " == *" glm "* ]]; then
  echo "== logistic GLM: $SITES sites x $GLM_ROWS rows x $GLM_P covariates =="
  "$bench" synth --kind glm --sites "$SITES" --rows "$GLM_ROWS" --covariates "$GLM_P" \
    --out "$work/glm"
  start_sandbox "$work/glm"
  formula="y ~ $(covariates "$GLM_P")"
  t0=$(now)
  "$spoor" --config "$work/sandbox/client.toml" glm --dataset cohort --formula "$formula" \
    --family binomial --json >"$work/glm.json"
  t1=$(now)
  spoor_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
  mem=$(node_memory)
  numeric_mb=$(awk -v n="$GLM_ROWS" -v p="$GLM_P" 'BEGIN {print n * (p + 1) * 8 / 1048576}')
  Rscript --vanilla - "$work/glm" "$SITES" "$formula" "$work/glm.json" "$spoor_s" "$mem" \
    "$numeric_mb" <<'R'
args <- commandArgs(TRUE)
files <- file.path(args[1], sprintf("site%d.csv", seq_len(as.integer(args[2]))))
pooled <- do.call(rbind, lapply(files, function(f) read.csv(f, colClasses = "numeric")))
elapsed <- system.time(fit <- glm(as.formula(args[3]), family = binomial, data = pooled))[["elapsed"]]
lines <- readLines(args[4])
est <- as.numeric(sub(".*\"estimate\": *([-0-9.eE+]+).*", "\\1",
                      grep("\"estimate\"", lines, value = TRUE)))
rel <- max(abs(est - coef(fit)) / abs(coef(fit)))
spoor_s <- as.numeric(args[5])
cat(sprintf("spoor glm (end to end, %s nodes): %.2f s\n", args[2], spoor_s))
cat(sprintf("R glm() on the pooled data:       %.2f s\n", elapsed))
cat(sprintf("ratio: %.1fx faster (target >= 20x)\n", elapsed / spoor_s))
cat(sprintf("largest relative difference of the estimates: %.1e\n", rel))
cat(sprintf("node peak memory: %s MB; its data as doubles: %.0f MB (%.2fx; target <= 2x)\n",
            args[6], as.numeric(args[7]), as.numeric(args[6]) / as.numeric(args[7])))
R
fi

if [[ " ${which[*]} " == *" cox "* ]]; then
  echo "== Cox: $SITES sites x $COX_ROWS rows x $COX_P covariates =="
  "$bench" synth --kind cox --sites "$SITES" --rows "$COX_ROWS" --covariates "$COX_P" \
    --out "$work/cox"
  start_sandbox "$work/cox" --allow-event-time-sums
  formula="Surv(time, status) ~ $(covariates "$COX_P")"
  t0=$(now)
  "$spoor" --config "$work/sandbox/client.toml" cox --dataset cohort --formula "$formula" \
    --json >"$work/cox.json"
  t1=$(now)
  "$spoor" --config "$work/sandbox/client.toml" cox --dataset cohort --formula "$formula" \
    --pooled --json >"$work/cox_pooled.json"
  t2=$(now)
  by_site_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
  pooled_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN {print b - a}')
  # Bytes site1 released per round, from its audit log (the last pooled job).
  bytes=$(grep '"task_released"' "$work/sandbox/nodes/site1/audit.jsonl" | tail -1 |
    sed 's/.*"bytes":\([0-9]*\).*/\1/')
  Rscript --vanilla - "$work/cox" "$SITES" "$formula" "$work/cox.json" "$work/cox_pooled.json" \
    "$by_site_s" "$pooled_s" "$bytes" <<'R'
suppressMessages(library(survival))
args <- commandArgs(TRUE)
files <- file.path(args[1], sprintf("site%d.csv", seq_len(as.integer(args[2]))))
pooled <- do.call(rbind, lapply(seq_along(files), function(k)
  cbind(read.csv(files[k], colClasses = "numeric"), site = k)))
f <- as.formula(args[3])
t_strata <- system.time(fit_s <- coxph(update(f, . ~ . + strata(site)), data = pooled))[["elapsed"]]
t_pooled <- system.time(fit_p <- coxph(f, data = pooled))[["elapsed"]]
est <- function(file) {
  lines <- readLines(file)
  as.numeric(sub(".*\"estimate\": *([-0-9.eE+]+).*", "\\1",
                 grep("\"estimate\"", lines, value = TRUE)))
}
rel_s <- max(abs(est(args[4]) - coef(fit_s)) / abs(coef(fit_s)))
rel_p <- max(abs(est(args[5]) - coef(fit_p)) / abs(coef(fit_p)))
by_site <- as.numeric(args[6]); pooled_s <- as.numeric(args[7])
cat(sprintf("spoor cox, stratified by site: %.2f s; R coxph(+ strata(site)): %.2f s; ratio %.1fx (target >= 5x); max rel. diff %.1e\n",
            by_site, t_strata, t_strata / by_site, rel_s))
cat(sprintf("spoor cox --pooled:            %.2f s; R coxph():               %.2f s; ratio %.1fx; max rel. diff %.1e\n",
            pooled_s, t_pooled, t_pooled / pooled_s, rel_p))
cat(sprintf("pooled: %d distinct event times; a node sends %s bytes per iteration (site 1)\n",
            length(unique(pooled$time[pooled$status == 1])), args[8]))
R
fi
