#!/usr/bin/env python3
"""Cross-check Leopard's bert-tiny against the identical model in plain PyTorch.

Inputs (written by Leopard, e.g. by the ModelsTests cross-check test):
  CHECKPOINT  Leopard safetensors checkpoint (parameters; `__metadata__.config` holds the model config)
  BATCH       JSON: {"tokens": [[...]], "lengths": [...], "labels": [...],
                     "logits": [[...]], "loss": x}   (Leopard's outputs, dropout off)
  GRADS       safetensors with Leopard's gradient of the loss for every parameter (same names)

PyTorch recomputes logits, loss and every parameter gradient in float64 (a more precise reference than either
float32 implementation) and compares. Relative error of a value a against the reference b:
    |a - b| / max(|b|, scale),  scale = 1e-2 * max|b| over the tensor (floored at 1e-12)
i.e. ordinary relative error for entries near the tensor's magnitude, and error relative to 1% of the tensor's
largest entry for entries near zero (where float32 rounding of sums dominates). Pass: max error <= --tolerance
(default 1e-4) for logits, loss and every gradient. Exit 0 on pass, 1 on failure; `--json` prints a report.
"""
import argparse
import json
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.numpy import load_file

import leopard_bert


def rel_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(1e-2 * float(np.max(np.abs(b))) if b.size else 0.0, 1e-12)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), scale))) if b.size else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("batch")
    ap.add_argument("grads")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    with safe_open(args.checkpoint, framework="np") as f:
        cfg = leopard_bert.config_from_metadata(f.metadata())
    weights = load_file(args.checkpoint)
    grads = load_file(args.grads)
    with open(args.batch) as fh:
        batch = json.load(fh)

    torch.set_num_threads(1)
    params = {n: torch.tensor(w, dtype=torch.float64, requires_grad=True) for n, w in weights.items()}
    expected = set(leopard_bert.parameter_shapes(cfg))
    if set(params) != expected:
        print(f"checkpoint tensors differ from the model: missing {sorted(expected - set(params))}, extra {sorted(set(params) - expected)}")
        return 1
    tokens = torch.tensor(batch["tokens"], dtype=torch.int64)
    lengths = torch.tensor(batch["lengths"], dtype=torch.int64)
    labels = torch.tensor(batch["labels"], dtype=torch.int64)
    logits = leopard_bert.forward(params, cfg, tokens, lengths, training=False)
    loss = leopard_bert.loss_fn(logits, labels, cfg)
    loss.backward()

    errors = {"logits": rel_error(batch["logits"], logits.detach().numpy()),
              "loss": rel_error([batch["loss"]], [loss.item()])}
    for name, p in params.items():
        errors["grad:" + name] = rel_error(grads[name], p.grad.numpy())
    worst_name = max(errors, key=errors.get)
    ok = errors[worst_name] <= args.tolerance
    if args.json:
        print(json.dumps({"ok": ok, "tolerance": args.tolerance, "worst": worst_name, "worst_error": errors[worst_name],
                          "loss_torch": loss.item(), "loss_leopard": batch["loss"], "errors": errors}, sort_keys=True))
    else:
        for name in sorted(errors, key=errors.get, reverse=True)[:8]:
            print(f"{errors[name]:.3e}  {name}")
        print(f"{'PASS' if ok else 'FAIL'}: worst relative error {errors[worst_name]:.3e} ({worst_name}), "
              f"tolerance {args.tolerance:g}; loss torch {loss.item():.8f} leopard {batch['loss']:.8f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
