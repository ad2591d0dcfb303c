#!/usr/bin/env python3
"""Reference forward of a Hugging Face BertModel checkpoint in plain PyTorch (no `transformers` package), to
check Leopard's checkpoint import.

Inputs:
  MODEL_DIR  a checkpoint folder with config.json and model.safetensors (read here by a small safetensors reader)
  BATCH      JSON {"tokens": [[...]], "token_types": [[...]], "lengths": [...]} (rows padded to one length)
  HIDDEN     Leopard's last hidden states: raw little-endian float32, [batch, time, hidden]

The forward is BertModel's (post-LayerNorm encoder):
  h = LN(E_word[x] + E_pos[t] + E_type[s])
  per layer: a = softmax(q·kᵀ/√d + mask) v;  h = LN(h + a·W_oᵀ + b);  h = LN(h + GELU(h·W_iᵀ + b)·W_outᵀ + b)
with mask = finfo.min on padded keys (as `get_extended_attention_mask`), GELU per `hidden_act` (`gelu` = exact
erf form), LayerNorm eps = `layer_norm_eps`. Padded query rows are computed too (they attend the valid keys), so
every position is compared. Pass: max |Leopard − PyTorch| ≤ --tolerance (default 1e-4). Exit 0 pass, 1 fail;
`--json` prints one JSON report line.
"""
import argparse
import json
import math
import struct
import sys

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return out


def bert_forward(weights, config, tokens, types, lengths, dtype):
    w = {k: torch.from_numpy(np.array(v)).to(dtype) for k, v in weights.items() if v.dtype != np.int64}
    p = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""
    eps = config.get("layer_norm_eps", 1e-12)
    heads = config["num_attention_heads"]
    act = config.get("hidden_act", "gelu")
    gelu = (lambda x: torch.nn.functional.gelu(x)) if act == "gelu" else \
        (lambda x: torch.nn.functional.gelu(x, approximate="tanh"))
    batch, time = tokens.shape
    ln = lambda x, name: torch.nn.functional.layer_norm(x, (x.shape[-1],), w[name + ".weight"], w[name + ".bias"], eps)
    lin = lambda x, name: x @ w[name + ".weight"].T + w[name + ".bias"]

    h = w[p + "embeddings.word_embeddings.weight"][tokens] + w[p + "embeddings.position_embeddings.weight"][:time][None] \
        + w[p + "embeddings.token_type_embeddings.weight"][types]
    h = ln(h, p + "embeddings.LayerNorm")
    valid = torch.arange(time)[None, :] < lengths[:, None]                      # [B, T] keys
    mask = torch.zeros(batch, 1, 1, time, dtype=dtype).masked_fill(~valid[:, None, None, :], torch.finfo(dtype).min)
    d = h.shape[-1] // heads
    split = lambda x: x.view(batch, time, heads, d).transpose(1, 2)             # [B, H, T, d]
    for l in range(config["num_hidden_layers"]):
        e = f"{p}encoder.layer.{l}."
        q, k, v = (split(lin(h, e + "attention.self." + part)) for part in ("query", "key", "value"))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + mask
        ctx = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(batch, time, -1)
        h = ln(h + lin(ctx, e + "attention.output.dense"), e + "attention.output.LayerNorm")
        h = ln(h + lin(gelu(lin(h, e + "intermediate.dense")), e + "output.dense"), e + "output.LayerNorm")
    return h


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("batch")
    ap.add_argument("hidden")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(1)
    config = json.load(open(args.model_dir + "/config.json"))
    weights = read_safetensors(args.model_dir + "/model.safetensors")
    batch = json.load(open(args.batch))
    tokens = torch.tensor(batch["tokens"], dtype=torch.long)
    types = torch.tensor(batch["token_types"], dtype=torch.long)
    lengths = torch.tensor(batch["lengths"], dtype=torch.long)
    with torch.no_grad():
        ref32 = bert_forward(weights, config, tokens, types, lengths, torch.float32).numpy().astype(np.float64)
        ref64 = bert_forward(weights, config, tokens, types, lengths, torch.float64).numpy()
    ours = np.fromfile(args.hidden, dtype="<f4").astype(np.float64)
    if ours.size != ref32.size:
        print(f"Leopard gave {ours.size} values; expected {ref32.size} {list(ref32.shape)}", file=sys.stderr)
        sys.exit(2)
    ours = ours.reshape(ref32.shape)
    valid = (np.arange(ref32.shape[1])[None, :] < lengths.numpy()[:, None])
    err = np.abs(ours - ref32)
    report = {
        "ok": bool(err.max() <= args.tolerance),
        "max_abs_error": float(err.max()),
        "max_abs_error_valid_positions": float(err[valid].max()),
        "max_abs_error_vs_float64": float(np.abs(ours - ref64).max()),
        "torch_float32_vs_float64": float(np.abs(ref32 - ref64).max()),
        "max_abs_hidden": float(np.abs(ref64).max()),
        "shape": list(ref32.shape),
        "tolerance": args.tolerance,
    }
    print(json.dumps(report, sort_keys=True) if args.json else
          "\n".join(f"{k}: {v}" for k, v in sorted(report.items())))
    sys.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()
