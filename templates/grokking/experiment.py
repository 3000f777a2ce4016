"""Grokking on small algorithmic tasks.

Trains a small decoder-only transformer on binary operations over a finite
set (modular addition, subtraction and division mod PRIME, and composition
of permutations in S5) and records how training and validation metrics evolve.
Grokking shows up as validation accuracy jumping to ~100% long after the
training set has been memorised.

Usage:
    python3 experiment.py --out_dir=run_0

Writes <out_dir>/final_info.json (means and standard errors over seeds for
each dataset), <out_dir>/all_results.json (per-seed learning curves) and
<out_dir>/config.json (the resolved configuration).

Set AISCI_QUICK=1 for a small configuration that runs on two CPU cores in
about a minute; only size-related settings (steps, evaluation interval,
prime, seeds, permutation group size) are shrunk, every other hyperparameter
below is shared.
"""

import argparse
import itertools
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------
# HYPERPARAMETERS (edit these; one plain assignment per line)
# ---------------------------------------------------------------------------
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 1.0
BETA1 = 0.9
BETA2 = 0.98
NUM_LAYERS = 2
DIM_MODEL = 128
NUM_HEADS = 4
DROPOUT = 0.0
BATCH_SIZE = 512
TRAIN_FRACTION = 0.5
WARMUP_STEPS = 50
NUM_STEPS = 7500
EVAL_EVERY = 50
PRIME = 97
SEEDS = [0, 1, 2]
DATASETS = ["x_div_y", "x_minus_y", "x_plus_y", "permutation"]
# ---------------------------------------------------------------------------
# END HYPERPARAMETERS
# ---------------------------------------------------------------------------

# Quick mode (AISCI_QUICK=1): caps on size-related settings only, so that a
# smoke run finishes in about a minute on two CPU cores. The values above
# still apply where they are smaller (e.g. fewer steps).
QUICK_STEP_CAP = 200
QUICK_EVAL_INTERVAL = 20
QUICK_MODULUS = 23
QUICK_SEED_COUNT = 1
QUICK_PERM_SIZE = 4  # S4 instead of S5 keeps the permutation task small


def is_quick():
    return os.environ.get("AISCI_QUICK", "") not in ("", "0")


def resolve_config():
    """Collects the hyperparameters, applying the quick-mode caps if asked."""
    cfg = dict(
        learning_rate=LEARNING_RATE,
        weight_decay=WEIGHT_DECAY,
        beta1=BETA1,
        beta2=BETA2,
        num_layers=NUM_LAYERS,
        dim_model=DIM_MODEL,
        num_heads=NUM_HEADS,
        dropout=DROPOUT,
        batch_size=BATCH_SIZE,
        train_fraction=TRAIN_FRACTION,
        warmup_steps=WARMUP_STEPS,
        num_steps=NUM_STEPS,
        eval_every=EVAL_EVERY,
        prime=PRIME,
        seeds=list(SEEDS),
        datasets=list(DATASETS),
        permutation_size=5,
        quick=is_quick(),
    )
    if cfg["quick"]:
        cfg["num_steps"] = min(NUM_STEPS, QUICK_STEP_CAP)
        cfg["eval_every"] = min(EVAL_EVERY, QUICK_EVAL_INTERVAL)
        cfg["prime"] = min(PRIME, QUICK_MODULUS)
        cfg["seeds"] = list(SEEDS)[:QUICK_SEED_COUNT]
        cfg["permutation_size"] = QUICK_PERM_SIZE
    return cfg


# ---------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------
class BinaryOpTask:
    """All equations "a op b = c" over a finite set of `n` elements.

    Tokens 0..n-1 are the elements, n is the operator and n+1 is "=".
    Each input is the 4-token sequence [a, op, b, =] and the label is c.
    """

    def __init__(self, name, n, pairs, answer):
        self.name = name
        self.n = n
        self.vocab_size = n + 2
        a = torch.tensor([p[0] for p in pairs], dtype=torch.long)
        b = torch.tensor([p[1] for p in pairs], dtype=torch.long)
        op = torch.full_like(a, n)
        eq = torch.full_like(a, n + 1)
        self.inputs = torch.stack([a, op, b, eq], dim=1)
        self.labels = torch.tensor([answer(x, y) for x, y in pairs], dtype=torch.long)

    def __len__(self):
        return len(self.labels)


def make_task(name, prime, permutation_size):
    p = prime
    if name == "x_plus_y":
        pairs = [(x, y) for x in range(p) for y in range(p)]
        return BinaryOpTask(name, p, pairs, lambda x, y: (x + y) % p)
    if name == "x_minus_y":
        pairs = [(x, y) for x in range(p) for y in range(p)]
        return BinaryOpTask(name, p, pairs, lambda x, y: (x - y) % p)
    if name == "x_div_y":
        # x / y = x * y^(p-2) mod p (Fermat), defined for y != 0.
        pairs = [(x, y) for x in range(p) for y in range(1, p)]
        return BinaryOpTask(name, p, pairs, lambda x, y: (x * pow(y, p - 2, p)) % p)
    if name == "permutation":
        perms = list(itertools.permutations(range(permutation_size)))
        index = {perm: i for i, perm in enumerate(perms)}
        n = len(perms)
        pairs = [(i, j) for i in range(n) for j in range(n)]

        def compose(i, j):
            # (perms[i] o perms[j])(k) = perms[i][perms[j][k]]
            a, b = perms[i], perms[j]
            return index[tuple(a[b[k]] for k in range(permutation_size))]

        return BinaryOpTask(name, n, pairs, compose)
    raise ValueError(f"unknown dataset {name!r}")


def split(task, train_fraction, generator):
    """Random train/validation split of all equations of a task."""
    order = torch.randperm(len(task), generator=generator)
    n_train = int(round(train_fraction * len(task)))
    n_train = max(1, min(len(task) - 1, n_train))
    tr, va = order[:n_train], order[n_train:]
    return (task.inputs[tr], task.labels[tr]), (task.inputs[va], task.labels[va])


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------
class Block(nn.Module):
    """Pre-norm transformer decoder block with causal multi-head self-attention."""

    def __init__(self, dim, heads, dropout):
        super().__init__()
        assert dim % heads == 0, "DIM_MODEL must be divisible by NUM_HEADS"
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim)
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, 4 * dim),
            nn.GELU(),
            nn.Linear(4 * dim, dim),
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask, last_only=False):
        # With last_only=True only the final position is computed (queries,
        # attention output and MLP); keys/values still cover every position.
        # The model only reads the last position, so the final block can skip
        # the rest: same result, about a third less compute per step.
        b, t, d = x.shape
        hd = d // self.heads
        h = self.ln1(x)
        k, v = self.kv(h).split(d, dim=-1)
        if last_only:
            x, h, mask = x[:, -1:], h[:, -1:], mask[-1:]
        q = self.q(h)
        tq = q.shape[1]
        q = q.view(b, tq, self.heads, hd).transpose(1, 2)
        k = k.view(b, t, self.heads, hd).transpose(1, 2)
        v = v.view(b, t, self.heads, hd).transpose(1, 2)
        # Sequences are only 4 tokens long, so broadcast-and-sum is much
        # faster on CPU than batched matmul over tiny 4x32 matrices.
        att = (q.unsqueeze(-2) * k.unsqueeze(-3)).sum(-1) / math.sqrt(hd)
        att = att.masked_fill(mask, float("-inf")).softmax(dim=-1)
        y = (self.drop(att).unsqueeze(-1) * v.unsqueeze(-3)).sum(-2)
        y = y.transpose(1, 2).reshape(b, tq, d)
        x = x + self.drop(self.proj(y))
        return x + self.drop(self.mlp(self.ln2(x)))


class Transformer(nn.Module):
    def __init__(self, vocab_size, num_classes, seq_len, dim, layers, heads, dropout):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, dim)
        self.pos = nn.Embedding(seq_len, dim)
        self.blocks = nn.ModuleList([Block(dim, heads, dropout) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)
        # True above the diagonal = position may not attend to later positions.
        mask = torch.triu(torch.ones(seq_len, seq_len, dtype=torch.bool), diagonal=1)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, idx):
        pos = torch.arange(idx.shape[1], device=idx.device)
        x = self.tok(idx) + self.pos(pos)[None]
        for i, block in enumerate(self.blocks):
            x = block(x, self.mask, last_only=(i == len(self.blocks) - 1))
        # The answer is read from the last position (the "=" token).
        return self.head(self.ln_f(x[:, -1]))


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------
@torch.no_grad()
def evaluate(model, inputs, labels, chunk=8192):
    model.eval()
    total_loss, correct = 0.0, 0
    for i in range(0, len(labels), chunk):
        x, y = inputs[i:i + chunk], labels[i:i + chunk]
        logits = model(x)
        total_loss += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(-1) == y).sum().item()
    model.train()
    return total_loss / len(labels), correct / len(labels)


def train_one(dataset, seed, cfg, device):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    task = make_task(dataset, cfg["prime"], cfg["permutation_size"])
    (x_tr, y_tr), (x_va, y_va) = split(task, cfg["train_fraction"], gen)
    x_tr, y_tr, x_va, y_va = (t.to(device) for t in (x_tr, y_tr, x_va, y_va))

    model = Transformer(
        vocab_size=task.vocab_size,
        num_classes=task.n,
        seq_len=x_tr.shape[1],
        dim=cfg["dim_model"],
        layers=cfg["num_layers"],
        heads=cfg["num_heads"],
        dropout=cfg["dropout"],
    ).to(device)
    opt = torch.optim.AdamW(
        model.parameters(),
        lr=cfg["learning_rate"],
        betas=(cfg["beta1"], cfg["beta2"]),
        weight_decay=cfg["weight_decay"],
    )
    warmup = max(1, cfg["warmup_steps"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup))

    batch = min(cfg["batch_size"], len(y_tr))
    num_steps = cfg["num_steps"]
    curves = dict(steps=[], train_loss=[], val_loss=[], train_acc=[], val_acc=[])
    step_99 = None
    t0 = time.time()
    for step in range(1, num_steps + 1):
        idx = torch.randint(len(y_tr), (batch,), generator=gen).to(device)
        loss = F.cross_entropy(model(x_tr[idx]), y_tr[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()

        if step % cfg["eval_every"] == 0 or step == num_steps:
            tl, ta = evaluate(model, x_tr, y_tr)
            vl, va = evaluate(model, x_va, y_va)
            for k, v in zip(curves, (step, tl, vl, ta, va)):
                curves[k].append(v)
            if step_99 is None and va >= 0.99:
                step_99 = step
            print(
                f"[{dataset} seed={seed}] step {step}/{num_steps} "
                f"train_loss={tl:.4f} val_loss={vl:.4f} "
                f"train_acc={ta:.3f} val_acc={va:.3f} ({time.time() - t0:.1f}s)",
                flush=True,
            )

    final = dict(
        final_train_loss=curves["train_loss"][-1],
        final_val_loss=curves["val_loss"][-1],
        final_train_acc=curves["train_acc"][-1],
        final_val_acc=curves["val_acc"][-1],
        step_val_acc_99=step_99 if step_99 is not None else num_steps,
    )
    return final, curves


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out_dir", type=str, default="run_0")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    cfg = resolve_config()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device={device} quick={cfg['quick']} config={json.dumps(cfg)}", flush=True)

    final_info, all_results = {}, {}
    start = time.time()
    for dataset in cfg["datasets"]:
        per_seed = []
        for seed in cfg["seeds"]:
            final, curves = train_one(dataset, seed, cfg, device)
            per_seed.append(dict(seed=seed, final=final, **curves))
        keys = list(per_seed[0]["final"])
        means, stderrs = {}, {}
        for k in keys:
            vals = np.array([r["final"][k] for r in per_seed], dtype=float)
            means[k] = float(vals.mean())
            stderrs[k] = float(vals.std() / math.sqrt(len(vals)))
        final_info[dataset] = {"means": means, "stderrs": stderrs}
        all_results[dataset] = {"seeds": list(cfg["seeds"]), "runs": per_seed}
        print(f"[{dataset}] means={json.dumps(means)}", flush=True)

    with open(os.path.join(args.out_dir, "final_info.json"), "w") as f:
        json.dump(final_info, f, indent=2)
    with open(os.path.join(args.out_dir, "all_results.json"), "w") as f:
        json.dump(all_results, f)
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        json.dump(dict(cfg, device=str(device)), f, indent=2)
    print(f"done in {time.time() - start:.1f}s; results in {args.out_dir}", flush=True)


if __name__ == "__main__":
    main()
