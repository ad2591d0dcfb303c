#!/usr/bin/env python3
"""Markdown tables for docs/results-minilm.md from `leopard train --json` outputs (one object or an array per file).

usage: minilm-results.py RUN.json [RUN.json ...]
Prints (1) dense vs pruned per task (the λ with the highest prune rate whose metric loss is ≤ 0.5 points, else the
smallest loss), (2) every λ row (the λ curve), with the baselines at the same prune rate and the wall times.
"""
import json
import sys

rows = []
for path in sys.argv[1:]:
    with open(path) as f:
        data = json.load(f)
    rows += data if isinstance(data, list) else [data]


def pts(x):
    return f"{100 * x:.2f}"


print("| task | metric | dense | pruned | loss (points) | prune rate | λ | train examples | dense s | fine-tune s |")
print("|---|---|---|---|---|---|---|---|---|---|")
for task in sorted({r["task"] for r in rows}):
    runs = [r for r in rows if r["task"] == task]
    ok = [r for r in runs if r["metric_loss"] <= 0.005]
    best = max(ok, key=lambda r: r["prune_rate"]) if ok else min(runs, key=lambda r: r["metric_loss"])
    print(f"| {task} | {best['metric_name']} | {pts(best['dense_metric'])} | {pts(best['pruned_metric'])} | "
          f"{pts(best['metric_loss'])} | {best['prune_rate']:.3f} | {best['lambda']:g} | {best['training_examples']} | "
          f"{best.get('dense_seconds', 0):.0f} | {best.get('fine_tune_seconds', 0):.0f} |")
print()
print("| task | λ | pruned | loss (points) | prune rate | per-layer prune rates | top-k (same rate) | fixed threshold (same rate) | Q/K 12-bit dense |")
print("|---|---|---|---|---|---|---|---|---|")
for r in sorted(rows, key=lambda r: (r["task"], r["lambda"])):
    b = r["baselines"]
    q = b["qk_quantized"]["metric"]
    print(f"| {r['task']} | {r['lambda']:g} | {pts(r['pruned_metric'])} | {pts(r['metric_loss'])} | {r['prune_rate']:.3f} | "
          f"{' '.join(f'{x:.2f}' for x in r['layer_prune_rates'])} | {pts(b['top_k']['metric'])} @ {b['top_k']['prune_rate']:.3f} | "
          f"{pts(b['fixed_threshold']['metric'])} @ {b['fixed_threshold']['prune_rate']:.3f} | {pts(q) if q is not None else 'n/a'} |")
