#!/usr/bin/env bash
# Interleaved side-by-side runs of `leopard bench train --model bert-tiny` and benchmarks/torch_bench.py with the
# same thread count and OpenBLAS environment, one JSON line per run, then medians per setting.
#   benchmarks/side_by_side.sh [LEOPARD_BINARY] [ROUNDS] [STEPS]
# LEOPARD_BINARY defaults to the release build; PYTHON (default .venv/bin/python3) must import torch.
# On a machine shared with other work, set TORCH_OMP_WAIT_POLICY=PASSIVE: PyTorch's OpenMP workers otherwise
# spin-wait for each other and its 2-thread speed collapses under contention (Leopard's workers block).
set -euo pipefail
cd "$(dirname "$0")/.."
LEOPARD=${1:-$(swift build -c release --show-bin-path)/leopard}
ROUNDS=${2:-5}
STEPS=${3:-40}
PYTHON=${PYTHON:-.venv/bin/python3}
OUT=$(mktemp)
for round in $(seq 1 "$ROUNDS"); do
  for envset in unset haswell; do
    if [ "$envset" = haswell ]; then E=(env OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=512); else E=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE); fi
    for threads in 1 2; do
      echo "$envset $threads leopard $("${E[@]}" "$LEOPARD" bench train --model bert-tiny --threads "$threads" --steps "$STEPS" --json | tr -d '\n ')" | tee -a "$OUT"
      echo "$envset $threads torch $("${E[@]}" ${TORCH_OMP_WAIT_POLICY:+OMP_WAIT_POLICY=$TORCH_OMP_WAIT_POLICY} "$PYTHON" benchmarks/torch_bench.py --threads "$threads" --steps "$STEPS" --json)" | tee -a "$OUT"
    done
  done
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [(l.split(" ", 3)[:3], json.loads(l.split(" ", 3)[3])) for l in open(sys.argv[1]) if l.strip()]
print("env      threads  leopard steps/s  torch steps/s  ratio  leopard cpu ms  torch cpu ms  achieved/sgemm")
for env in ("unset", "haswell"):
    for th in ("1", "2"):
        pick = lambda fw: [d for (e, t, f), d in rows if (e, t, f) == (env, th, fw)]
        L, T = pick("leopard"), pick("torch")
        if not L or not T:
            continue
        med = lambda ds, k: statistics.median(d[k] for d in ds)
        eff = statistics.median(d["achieved_gflops"] / d["sgemm_gflops"] for d in L)
        print(f"{env:8} {th:>7}  {med(L, 'steps_per_s'):15.2f}  {med(T, 'steps_per_s'):13.2f}  {med(L, 'steps_per_s') / med(T, 'steps_per_s'):5.2f}"
              f"  {med(L, 'cpu_ms_per_step'):14.1f}  {med(T, 'cpu_ms_per_step'):12.1f}  {eff:14.0%}")
PY
