#!/usr/bin/env bash
# `make run`: Leopard's main job on the quickstart manifest — the sweep (resumable: rerunning continues where a
# previous run stopped and does nothing when it finished), then its Pareto CSVs and plots.
#   scripts/demo.sh <path of the leopard binary> [manifest]
# The data directory comes from LEOPARD_DATA (the Makefile sets it). Outputs: results/quickstart.sqlite,
# results/quickstart/pareto.csv, plots/quickstart/*.svg.
set -uo pipefail
cd "$(dirname "$0")/.."
LEOPARD="${1:?usage: scripts/demo.sh <leopard-binary> [manifest]}"
MANIFEST="${2:-experiments/quickstart.json}"
NAME="$(basename "$MANIFEST" .json)"
STORE="results/$NAME.sqlite"

"$LEOPARD" sweep plan "$MANIFEST"
"$LEOPARD" sweep run "$MANIFEST"
status=$?   # 1 when some job failed: the sweep still went on; report what it produced
"$LEOPARD" status --store "$STORE"
"$LEOPARD" pareto --store "$STORE" --csv "results/$NAME/pareto.csv" || status=1
"$LEOPARD" plot --store "$STORE" --out "plots/$NAME" || status=1
echo "results: $STORE, results/$NAME/pareto.csv, plots/$NAME/"
exit $status
