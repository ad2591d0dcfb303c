#!/usr/bin/env python3
"""PyTorch side of `leopard bench train --model bert-tiny`: the identical model (leopard_bert.py), batch
(32 x 64 random tokens, full length, 2 classes) and optimiser (AdamW lr 1e-4, weight decay 0.01 on matrices and
embeddings only, no clipping), dropout 0.1 in the same three places, timed after 5 warm-up steps.
Prints steps/s (or one JSON object with --json). Threads: torch.set_num_threads(--threads)."""
import argparse
import json
import resource
import time

import torch

import leopard_bert


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    cfg = leopard_bert.bert_tiny_config()
    model = leopard_bert.BertClassifier(cfg)
    model.train()
    opt = torch.optim.AdamW(model.optimizer_groups(0.01), lr=1e-4, betas=(0.9, 0.999), eps=1e-8)
    g = torch.Generator().manual_seed(2)
    tokens = torch.randint(0, cfg["vocabulary"], (args.batch, cfg["max_time"]), generator=g)
    lengths = torch.full((args.batch,), cfg["max_time"], dtype=torch.int64)
    labels = torch.randint(0, cfg["classes"], (args.batch,), generator=g)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = leopard_bert.loss_fn(model(tokens, lengths), labels, cfg)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    times = []
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    times.sort()
    report = {"framework": f"torch {torch.__version__}", "threads": args.threads, "steps": args.steps,
              "steps_per_s": args.steps / elapsed, "tokens_per_s": args.steps * args.batch * cfg["max_time"] / elapsed,
              "median_step_ms": 1000 * times[len(times) // 2], "final_loss": loss,
              "cpu_ms_per_step": 1000 * cpu / args.steps,
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if args.json:
        print(json.dumps(report, sort_keys=True))
    else:
        print(f"torch {torch.__version__}, {args.threads} thread(s): {report['steps_per_s']:.2f} steps/s, "
              f"median step {report['median_step_ms']:.2f} ms, CPU {report['cpu_ms_per_step']:.2f} ms/step, peak RSS {report['peak_rss_mb']:.0f} MiB")


if __name__ == "__main__":
    main()
