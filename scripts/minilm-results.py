#!/usr/bin/env python3
"""Markdown tables for docs/results-minilm.md from `leopard train --json` outputs (one object or an array per file).

usage: minilm-results.py RUN.json [RUN.json ...]
Prints (1) dense vs control vs pruned per task: the λ with the highest prune rate whose loss is ≤ 0.5 points
against the dense metric, and the same against the control (the dense weights fine-tuned for the same steps
without thresholds, `control` in the report, when the run had --control); (2) every λ row (the λ curves) with the
baselines on the dense weights at the same prune rate.
Losses are in points: 100 × (reference − pruned) for higher-is-better metrics.
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


def control_loss(r):
    c = r.get("control")
    return c["metric_loss"] if c else None


def best_within(runs, loss):
    ok = [r for r in runs if loss(r) is not None and loss(r) <= 0.005]
    return max(ok, key=lambda r: r["prune_rate"]) if ok else None


print("| task | metric | dense | control | train examples × epochs (dense steps) | fine-tune steps | padding | "
      "prune rate at ≤ 0.5 pts vs dense (λ) | vs control (λ) | dense s | control s |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for task in sorted({r["task"] for r in rows}):
    runs = [r for r in rows if r["task"] == task]
    r0 = runs[0]
    c = r0.get("control")
    vs_dense = best_within(runs, lambda r: r["metric_loss"])
    vs_control = best_within(runs, control_loss)
    fmt = lambda b: f"{b['prune_rate']:.3f} ({b['lambda']:g})" if b else "none"
    pad = r0.get("training_padding_fraction")
    pad = f"{pad:.3f}" if pad is not None else "n/a"
    print(f"| {task} | {r0['metric_name']} | {pts(r0['dense_metric'])} | {pts(c['metric']) if c else 'n/a'} | "
          f"{r0['training_examples']} × {r0['epochs']} ({r0.get('dense_steps', '?')}) | {r0.get('fine_tune_steps', '?')} | "
          f"{pad} | {fmt(vs_dense)} | {fmt(vs_control)} | {r0.get('dense_seconds', 0):.0f} | "
          f"{c.get('seconds', 0) if c else 0:.0f} |")
print()
print("| task | λ | pruned | loss vs dense | loss vs control | prune rate | per-layer prune rates | top-k on dense (rate) | "
      "fixed threshold on dense (rate) | Q/K 12-bit dense | trace int / float rate | fine-tune s |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in sorted(rows, key=lambda r: (r["task"], r["lambda"])):
    b = r["baselines"]
    q = b["qk_quantized"]["metric"]
    cl = control_loss(r)
    t = r.get("trace")
    trace = f"{t['integer_prune_rate']:.3f} / {t['model_prune_rate']:.3f}" if t else "n/a"
    print(f"| {r['task']} | {r['lambda']:g} | {pts(r['pruned_metric'])} | {pts(r['metric_loss'])} | "
          f"{pts(cl) if cl is not None else 'n/a'} | {r['prune_rate']:.3f} | "
          f"{' '.join(f'{x:.2f}' for x in r['layer_prune_rates'])} | {pts(b['top_k']['metric'])} ({b['top_k']['prune_rate']:.3f}) | "
          f"{pts(b['fixed_threshold']['metric'])} ({b['fixed_threshold']['prune_rate']:.3f}) | {pts(q) if q is not None else 'n/a'} | "
          f"{trace} | {r.get('fine_tune_seconds', 0):.0f} |")
