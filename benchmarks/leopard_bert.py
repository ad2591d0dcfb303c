"""The bert-tiny encoder classifier of Leopard (Sources/Models/BertClassifier.swift), in plain PyTorch.

Same architecture, parameter names and shapes as Leopard's checkpoints, so a Leopard safetensors file loads
directly:  h0 = Dropout(LN(E_tok[x] + E_pos[t]));  per layer  h' = LN(h + Dropout(Attn(h)));
h'' = LN(h' + Dropout(FFN(h'))), FFN = Linear -> GELU(tanh) -> Linear;  logits = h_L[:, 0] @ W_cls^T + b.
Attention masks keys at or past each example's length (padding); no attention-probability dropout.
"""
import json
import math

import torch
import torch.nn.functional as F


def parameter_shapes(cfg):
    c, f = cfg["channels"], cfg["ff_hidden"]
    shapes = {
        "embeddings.token": (cfg["vocabulary"], c), "embeddings.position": (cfg["max_time"], c),
        "embeddings.norm.weight": (c,), "embeddings.norm.bias": (c,),
    }
    for i in range(cfg["layers"]):
        p = f"layers.{i}."
        shapes.update({
            p + "attention.qkv.weight": (3 * c, c), p + "attention.qkv.bias": (3 * c,),
            p + "attention.output.weight": (c, c), p + "attention.output.bias": (c,),
            p + "attention.norm.weight": (c,), p + "attention.norm.bias": (c,),
            p + "ffn.up.weight": (f, c), p + "ffn.up.bias": (f,),
            p + "ffn.down.weight": (c, f), p + "ffn.down.bias": (c,),
            p + "ffn.norm.weight": (c,), p + "ffn.norm.bias": (c,),
        })
    shapes["classifier.weight"] = (cfg["classes"], c)
    shapes["classifier.bias"] = (cfg["classes"],)
    return shapes


def bert_tiny_config():
    return {"model": "bert", "vocabulary": 10000, "max_time": 64, "channels": 128, "heads": 4, "layers": 2,
            "ff_hidden": 512, "classes": 2, "dropout": 0.1, "layer_norm_epsilon": 1e-5}


def config_from_metadata(metadata):
    return json.loads(metadata["config"])


def forward(params, cfg, tokens, lengths, training=False):
    """Logits [B, classes]. `params` maps Leopard names to tensors; tokens [B, T] int64; lengths [B] int64."""
    B, T = tokens.shape
    C, H, eps = cfg["channels"], cfg["heads"], cfg["layer_norm_epsilon"]
    hs = C // H
    p_drop = cfg["dropout"] if training else 0.0
    x = params["embeddings.token"][tokens] + params["embeddings.position"][:T]
    x = F.layer_norm(x, (C,), params["embeddings.norm.weight"], params["embeddings.norm.bias"], eps)
    x = F.dropout(x, p_drop, training)
    key_valid = torch.arange(T, device=tokens.device)[None, :] < lengths[:, None]          # [B, T]
    additive = torch.zeros(B, 1, 1, T, dtype=x.dtype).masked_fill(~key_valid[:, None, None, :], float("-inf"))
    for i in range(cfg["layers"]):
        p = f"layers.{i}."
        qkv = F.linear(x, params[p + "attention.qkv.weight"], params[p + "attention.qkv.bias"])
        q, k, v = qkv.split(C, dim=-1)
        q, k, v = (t.view(B, T, H, hs).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs) + additive
        y = (att.softmax(dim=-1) @ v).transpose(1, 2).reshape(B, T, C)
        a = F.dropout(F.linear(y, params[p + "attention.output.weight"], params[p + "attention.output.bias"]), p_drop, training)
        x = F.layer_norm(x + a, (C,), params[p + "attention.norm.weight"], params[p + "attention.norm.bias"], eps)
        h = F.gelu(F.linear(x, params[p + "ffn.up.weight"], params[p + "ffn.up.bias"]), approximate="tanh")
        h = F.dropout(F.linear(h, params[p + "ffn.down.weight"], params[p + "ffn.down.bias"]), p_drop, training)
        x = F.layer_norm(x + h, (C,), params[p + "ffn.norm.weight"], params[p + "ffn.norm.bias"], eps)
    return F.linear(x[:, 0], params["classifier.weight"], params["classifier.bias"])


def loss_fn(logits, labels, cfg):
    if cfg["classes"] == 1:
        return F.mse_loss(logits[:, 0], labels.to(logits.dtype))
    return F.cross_entropy(logits, labels, ignore_index=-100)


class BertClassifier(torch.nn.Module):
    """nn.Module wrapper (for the optimiser in torch_bench.py), BERT initialisation like Leopard's."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.names = list(parameter_shapes(cfg).keys())
        self.params = torch.nn.ParameterList()
        for name, shape in parameter_shapes(cfg).items():
            t = torch.zeros(shape)
            if name.endswith("norm.weight"):
                t.fill_(1.0)
            elif not name.endswith("bias"):
                t.normal_(0.0, 0.02)
            self.params.append(torch.nn.Parameter(t))

    def param_dict(self):
        return dict(zip(self.names, self.params))

    def forward(self, tokens, lengths):
        return forward(self.param_dict(), self.cfg, tokens, lengths, training=self.training)

    def optimizer_groups(self, weight_decay):
        """AdamW groups as Leopard: decay on matrices and embeddings, none on biases and norm parameters."""
        decay = [p for n, p in zip(self.names, self.params) if not (n.endswith("bias") or "norm" in n)]
        rest = [p for n, p in zip(self.names, self.params) if n.endswith("bias") or "norm" in n]
        return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]
