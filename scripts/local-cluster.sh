#!/usr/bin/env bash
# Runs a whole cluster on this machine: a trainer node and two inference nodes as separate JVM
# processes on loopback, each with the settings given here, e.g.
#
#   scripts/local-cluster.sh train.steps=2
#
# Prints how many segments each inference process served and the trainer's checks, stops every
# process, and exits 0 only if the trainer's checks held and every process exited cleanly.
#
# Environment:
#   TREEPO_CLUSTER_PORT  port of the trainer, the seed node (default 25520)
#   TREEPO_LOG_DIR       folder for the three logs (default: a new temporary folder)
#   TREEPO_CLASSPATH     run the classes on this class path instead of the ./treepo jar (the test
#                        suite uses it, because it runs before the jar is built)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

port="${TREEPO_CLUSTER_PORT:-25520}"
logs="${TREEPO_LOG_DIR:-$(mktemp -d -t treepo-cluster.XXXXXX)}"
mkdir -p "$logs"
seeds="cluster.seed-nodes=[\"127.0.0.1:$port\"]"

if [[ -n "${TREEPO_CLASSPATH:-}" ]]; then
  # As ./treepo does: fewer malloc arenas keep libtorch's native memory from fragmenting.
  export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
  launch() {
    java -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1 \
      -Xmx2g -cp "$TREEPO_CLASSPATH" dev.treepo.cluster.cli.Main "$@"
  }
else
  # Build the jar once, before three processes would each find it stale.
  ./treepo help >/dev/null
  launch() {
    TREEPO_HEAP="${TREEPO_HEAP:-2g}" ./treepo "$@"
  }
fi

pids=()
stop_all() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
}
trap stop_all EXIT INT TERM

echo "local cluster: trainer on 127.0.0.1:$port, logs in $logs"
launch node --role trainer --config conf/trainer.conf "cluster.port=$port" \
  cluster.min-inference-nodes=2 "$@" >"$logs/trainer.log" 2>&1 &
trainer=$!
pids+=("$trainer")
inference=()
for i in 1 2; do
  launch node --role inference --config conf/inference.conf cluster.port=0 "$seeds" "$@" \
    >"$logs/inference-$i.log" 2>&1 &
  inference+=("$!")
  pids+=("$!")
done

status=0
wait "$trainer" || status=$?

# The trainer shuts the inference nodes down when it finishes; give them a moment to exit.
for i in 1 2; do
  pid="${inference[$((i - 1))]}"
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "local cluster: inference process $i did not stop after the trainer finished; stopping it" >&2
    kill "$pid" 2>/dev/null || true
    status=1
  fi
  node_status=0
  wait "$pid" || node_status=$?
  if [[ "$node_status" -ne 0 ]]; then
    echo "local cluster: inference process $i exited with $node_status, see $logs/inference-$i.log" >&2
    status=1
  fi
  served="$(grep -E '^inference node .* served' "$logs/inference-$i.log" || true)"
  echo "inference process $i: ${served:-served nothing (no report in $logs/inference-$i.log)}"
done

grep -E '^(inference node|weight syncs|cluster check|held-out accuracy|final checkpoint)' "$logs/trainer.log" \
  | sed 's/^/trainer: /' || true
if [[ "$status" -ne 0 ]]; then
  echo "local cluster: FAILED (exit $status); the last trainer log lines:" >&2
  tail -n 20 "$logs/trainer.log" >&2
else
  echo "local cluster: all checks passed"
fi
exit "$status"
