"""Character-level GPT language model (a small decoder-only transformer).

Trains a GPT-style model (token + position embeddings, pre-LayerNorm causal
self-attention blocks, tied input/output embeddings) to predict the next
character of a text corpus, with AdamW, linear warmup and cosine decay.

Corpus: Tiny Shakespeare from data/shakespeare_char/input.txt (relative to
the working directory; run prepare.py once where the network is available),
dataset key "shakespeare_char". When that file is absent the script falls
back to an English-like dialogue corpus generated deterministically by
corpus.py, dataset key "generated_char"; its numbers are NOT comparable with
published Tiny Shakespeare numbers.

Usage:
    python3 experiment.py --out_dir=run_0

Writes <out_dir>/final_info.json (means and standard errors over seeds),
<out_dir>/all_results.json (per-seed loss curves), <out_dir>/sample.txt
(generated text) and <out_dir>/config.json (the resolved configuration).

Set AISCI_QUICK=1 for a small configuration that runs on two CPU cores in
well under a minute; only size-related settings (iterations, model size,
context, batch, corpus slice, seeds) are shrunk, every other hyperparameter
below is shared.
"""

import argparse
import hashlib
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import corpus

# ---------------------------------------------------------------------------
# HYPERPARAMETERS (edit these; one plain assignment per line)
# ---------------------------------------------------------------------------
LEARNING_RATE = 1e-3
MIN_LR_RATIO = 0.1
WEIGHT_DECAY = 0.1
BETA1 = 0.9
BETA2 = 0.99
GRAD_CLIP = 1.0
MAX_ITERS = 5000
WARMUP_ITERS = 100
N_LAYER = 6
N_HEAD = 6
N_EMBD = 384
BLOCK_SIZE = 256
BATCH_SIZE = 64
DROPOUT = 0.2
EVAL_INTERVAL = 250
EVAL_ITERS = 200
VAL_FRACTION = 0.1
SAMPLE_TOKENS = 500
NUM_SAMPLES = 3
TEMPERATURE = 0.8
TOP_K = 200
SEEDS = [0, 1, 2]
# ---------------------------------------------------------------------------
# END HYPERPARAMETERS
# ---------------------------------------------------------------------------

# Quick mode (AISCI_QUICK=1): caps on size-related settings only, so that a
# smoke run finishes in well under a minute on two CPU cores. The values
# above still apply where they are smaller. WARMUP_ITERS is scaled by the
# same factor as the iterations, so warmup keeps its share of training.
QUICK_MAX_ITERS = 200
QUICK_EVAL_INTERVAL = 25
QUICK_EVAL_ITERS = 8
QUICK_N_LAYER = 2
QUICK_N_HEAD = 4
QUICK_N_EMBD = 64
QUICK_BLOCK_SIZE = 64
QUICK_BATCH_SIZE = 32
QUICK_CORPUS_CHARS = 250_000
QUICK_SAMPLE_TOKENS = 200
QUICK_NUM_SAMPLES = 1
QUICK_SEED_COUNT = 1
# Quick runs use one CPU thread: for a model this small a second thread
# gains little, and on a busy 2-core machine it can make every step several
# times slower (threads waiting for each other). Full runs keep the default.
QUICK_CPU_THREADS = 1

SHAKESPEARE_PATH = os.path.join("data", "shakespeare_char", "input.txt")
GENERATED_CHARS = 1_100_000
GENERATED_SEED = 1234


def is_quick():
    return os.environ.get("AISCI_QUICK", "") not in ("", "0")


def resolve_config():
    """Collects the hyperparameters, applying the quick-mode caps if asked."""
    cfg = dict(
        learning_rate=LEARNING_RATE,
        min_lr_ratio=MIN_LR_RATIO,
        weight_decay=WEIGHT_DECAY,
        beta1=BETA1,
        beta2=BETA2,
        grad_clip=GRAD_CLIP,
        max_iters=MAX_ITERS,
        warmup_iters=WARMUP_ITERS,
        n_layer=N_LAYER,
        n_head=N_HEAD,
        n_embd=N_EMBD,
        block_size=BLOCK_SIZE,
        batch_size=BATCH_SIZE,
        dropout=DROPOUT,
        eval_interval=EVAL_INTERVAL,
        eval_iters=EVAL_ITERS,
        val_fraction=VAL_FRACTION,
        sample_tokens=SAMPLE_TOKENS,
        num_samples=NUM_SAMPLES,
        temperature=TEMPERATURE,
        top_k=TOP_K,
        seeds=list(SEEDS),
        corpus_chars=None,  # None: the whole corpus
        quick=is_quick(),
    )
    if cfg["quick"]:
        cfg["max_iters"] = min(MAX_ITERS, QUICK_MAX_ITERS)
        cfg["warmup_iters"] = int(round(WARMUP_ITERS * cfg["max_iters"] / max(1, MAX_ITERS)))
        cfg["eval_interval"] = min(EVAL_INTERVAL, QUICK_EVAL_INTERVAL)
        cfg["eval_iters"] = min(EVAL_ITERS, QUICK_EVAL_ITERS)
        cfg["n_layer"] = min(N_LAYER, QUICK_N_LAYER)
        cfg["n_head"] = min(N_HEAD, QUICK_N_HEAD)
        # Keep the embedding a multiple of the head count.
        embd = min(N_EMBD, QUICK_N_EMBD)
        cfg["n_embd"] = max(cfg["n_head"], embd - embd % cfg["n_head"])
        cfg["block_size"] = min(BLOCK_SIZE, QUICK_BLOCK_SIZE)
        cfg["batch_size"] = min(BATCH_SIZE, QUICK_BATCH_SIZE)
        cfg["corpus_chars"] = QUICK_CORPUS_CHARS
        cfg["sample_tokens"] = min(SAMPLE_TOKENS, QUICK_SAMPLE_TOKENS)
        cfg["num_samples"] = min(NUM_SAMPLES, QUICK_NUM_SAMPLES)
        cfg["seeds"] = list(SEEDS)[:QUICK_SEED_COUNT]
    return cfg


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------
def load_corpus():
    """Returns (dataset_name, text, description of where the text came from)."""
    if os.path.isfile(SHAKESPEARE_PATH):
        with open(SHAKESPEARE_PATH, encoding="utf-8") as f:
            text = f.read()
        if len(text) > 10_000:
            return "shakespeare_char", text, dict(kind="file", path=SHAKESPEARE_PATH)
        print(f"warning: {SHAKESPEARE_PATH} holds only {len(text)} characters; "
              "using the generated corpus instead", flush=True)
    else:
        print(f"note: {SHAKESPEARE_PATH} not found (run prepare.py where the network "
              "is available); using the generated corpus, whose numbers are not "
              "comparable with published Tiny Shakespeare results", flush=True)
    text = corpus.generate(GENERATED_CHARS, GENERATED_SEED)
    return "generated_char", text, dict(
        kind="generated", generator="corpus.py", generator_version=corpus.GENERATOR_VERSION,
        seed=GENERATED_SEED, chars=GENERATED_CHARS)


class CharData:
    """Character vocabulary and contiguous train/validation split of a text."""

    def __init__(self, text, val_fraction):
        self.chars = sorted(set(text))
        self.vocab_size = len(self.chars)
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        ids = torch.tensor([self.stoi[c] for c in text], dtype=torch.long)
        n_val = max(1, int(len(ids) * val_fraction))
        # The last VAL_FRACTION of the text is held out (no shuffling, so
        # validation text never overlaps training windows).
        self.train = ids[:-n_val]
        self.val = ids[-n_val:]

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)


def get_batch(data, block_size, batch_size, gen, device):
    """Random windows of block_size+1 characters: inputs and next-char targets."""
    starts = torch.randint(len(data) - block_size - 1, (batch_size,), generator=gen)
    offsets = torch.arange(block_size + 1)
    windows = data[starts[:, None] + offsets[None, :]]
    windows = windows.to(device, non_blocking=True)
    return windows[:, :-1], windows[:, 1:]


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------
class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, block_size, dropout):
        super().__init__()
        assert n_embd % n_head == 0, "N_EMBD must be divisible by N_HEAD"
        self.n_head = n_head
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.out = nn.Linear(n_embd, n_embd)
        self.attn_drop = nn.Dropout(dropout)
        self.resid_drop = nn.Dropout(dropout)
        # True above the diagonal: a position may not look at later ones.
        future = torch.triu(torch.ones(block_size, block_size, dtype=torch.bool), diagonal=1)
        self.register_buffer("future", future, persistent=False)

    def forward(self, x):
        b, t, d = x.shape
        hd = d // self.n_head
        q, k, v = self.qkv(x).split(d, dim=-1)
        q = q.view(b, t, self.n_head, hd).transpose(1, 2)
        k = k.view(b, t, self.n_head, hd).transpose(1, 2)
        v = v.view(b, t, self.n_head, hd).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        scores = scores.masked_fill(self.future[:t, :t], float("-inf"))
        weights = self.attn_drop(F.softmax(scores.float(), dim=-1).type_as(v))
        y = (weights @ v).transpose(1, 2).reshape(b, t, d)
        return self.resid_drop(self.out(y))


class Block(nn.Module):
    """Pre-LayerNorm transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, n_embd, n_head, block_size, dropout):
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, block_size, dropout)
        self.ln2 = nn.LayerNorm(n_embd)
        self.fc = nn.Linear(n_embd, 4 * n_embd)
        self.proj = nn.Linear(4 * n_embd, n_embd)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.drop(self.proj(F.gelu(self.fc(self.ln2(x)))))


class GPT(nn.Module):
    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd, dropout):
        super().__init__()
        self.block_size = block_size
        self.tok = nn.Embedding(vocab_size, n_embd)
        self.pos = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            [Block(n_embd, n_head, block_size, dropout) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab_size, bias=False)
        self.head.weight = self.tok.weight  # weight tying (Press & Wolf, 2017)
        self.apply(self._init)
        # Residual output projections start smaller, by 1/sqrt(2 * layers),
        # so the residual stream's variance does not grow with depth (GPT-2).
        for block in self.blocks:
            for lin in (block.attn.out, block.proj):
                nn.init.normal_(lin.weight, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self):
        # The tied output matrix is counted once (parameters() deduplicates).
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx):
        t = idx.shape[1]
        pos = torch.arange(t, device=idx.device)
        x = self.drop(self.tok(idx) + self.pos(pos)[None])
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))

    @torch.no_grad()
    def generate(self, idx, n_new, temperature, top_k, gen):
        """Samples n_new characters after the context idx (shape 1 x t)."""
        for _ in range(n_new):
            ctx = idx[:, -self.block_size:]
            logits = self(ctx)[:, -1, :].float() / max(temperature, 1e-6)
            if top_k and top_k < logits.shape[-1]:
                kth = torch.topk(logits, top_k).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            probs = F.softmax(logits, dim=-1).cpu()
            nxt = torch.multinomial(probs, 1, generator=gen).to(idx.device)
            idx = torch.cat([idx, nxt], dim=1)
        return idx


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------
def lr_at(it, cfg):
    """Linear warmup to LEARNING_RATE, then cosine decay to MIN_LR_RATIO of it."""
    lr, warm, total = cfg["learning_rate"], cfg["warmup_iters"], cfg["max_iters"]
    if it < warm:
        return lr * (it + 1) / warm
    progress = min(1.0, (it - warm) / max(1, total - warm))
    min_lr = lr * cfg["min_lr_ratio"]
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (lr - min_lr)


def make_optimizer(model, cfg):
    """AdamW; weight decay on matrices (incl. the tied embedding), not on
    biases or LayerNorm parameters."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [
        dict(params=decay, weight_decay=cfg["weight_decay"]),
        dict(params=no_decay, weight_decay=0.0),
    ]
    return torch.optim.AdamW(groups, lr=cfg["learning_rate"], betas=(cfg["beta1"], cfg["beta2"]))


def autocast(device):
    """bfloat16 autocast on CUDA (when supported); a no-op context on CPU."""
    use = device.type == "cuda" and torch.cuda.is_bf16_supported()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use)


@torch.no_grad()
def estimate_loss(model, data, cfg, device, seed):
    """Mean cross-entropy (nats/char) over EVAL_ITERS fixed random batches of
    each split; the same batches at every evaluation of a run."""
    model.eval()
    out = {}
    for i, split in enumerate(("train", "val")):
        gen = torch.Generator().manual_seed(10_000 + 97 * seed + i)
        losses = []
        for _ in range(cfg["eval_iters"]):
            x, y = get_batch(getattr(data, split), cfg["block_size"], cfg["batch_size"], gen, device)
            with autocast(device):
                logits = model(x)
            losses.append(F.cross_entropy(logits.float().view(-1, logits.shape[-1]), y.reshape(-1)).item())
        out[split] = float(np.mean(losses))
    model.train()
    return out


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def train_one(data, seed, cfg, device):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = GPT(data.vocab_size, cfg["block_size"], cfg["n_layer"], cfg["n_head"],
                cfg["n_embd"], cfg["dropout"]).to(device)
    opt = make_optimizer(model, cfg)
    n_iters = cfg["max_iters"]
    curves = dict(iters=[], train_loss=[], val_loss=[], lr=[])
    train_time = 0.0
    print(f"[seed={seed}] {model.num_params():,} parameters", flush=True)

    def evaluate(it):
        losses = estimate_loss(model, data, cfg, device, seed)
        curves["iters"].append(it)
        curves["train_loss"].append(losses["train"])
        curves["val_loss"].append(losses["val"])
        curves["lr"].append(lr_at(min(it, n_iters - 1), cfg))
        print(f"[seed={seed}] iter {it}/{n_iters} train_loss={losses['train']:.4f} "
              f"val_loss={losses['val']:.4f} ({train_time:.1f}s training)", flush=True)

    evaluate(0)
    for it in range(n_iters):
        sync(device)
        t0 = time.time()
        for group in opt.param_groups:
            group["lr"] = lr_at(it, cfg)
        x, y = get_batch(data.train, cfg["block_size"], cfg["batch_size"], gen, device)
        with autocast(device):
            logits = model(x)
        loss = F.cross_entropy(logits.float().view(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg["grad_clip"] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
        opt.step()
        sync(device)
        train_time += time.time() - t0
        if not math.isfinite(loss.item()):
            print(f"[seed={seed}] loss is {loss.item()} at iter {it + 1}; stopping", flush=True)
            evaluate(it + 1)
            break
        done = it + 1
        if done % cfg["eval_interval"] == 0 or done == n_iters:
            evaluate(done)

    # Sampling speed: NUM_SAMPLES samples of SAMPLE_TOKENS characters each,
    # started from a newline, in eval mode (no dropout).
    model.eval()
    sample_gen = torch.Generator().manual_seed(seed)
    start = torch.tensor([[data.stoi.get("\n", 0)]], dtype=torch.long, device=device)
    speeds, samples = [], []
    for _ in range(cfg["num_samples"]):
        sync(device)
        t0 = time.time()
        try:
            with autocast(device):
                ids = model.generate(start, cfg["sample_tokens"], cfg["temperature"], cfg["top_k"], sample_gen)
        except RuntimeError as err:  # e.g. non-finite probabilities after divergence
            print(f"[seed={seed}] sampling failed: {err}", flush=True)
            speeds.append(float("nan"))
            samples.append(f"(sampling failed: {err})")
            break
        sync(device)
        speeds.append(cfg["sample_tokens"] / max(time.time() - t0, 1e-9))
        samples.append(data.decode(ids[0].tolist()))

    val = [v for v in curves["val_loss"] if math.isfinite(v)]
    final = dict(
        final_train_loss=curves["train_loss"][-1],
        best_val_loss=min(val) if val else float("nan"),
        total_train_time=train_time,
        avg_inference_tokens_per_second=float(np.mean(speeds)),
    )
    return final, curves, samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out_dir", type=str, default="run_0")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    cfg = resolve_config()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    elif cfg["quick"]:
        torch.set_num_threads(QUICK_CPU_THREADS)
    dataset, text, source = load_corpus()
    full_chars = len(text)
    if cfg["corpus_chars"]:
        text = text[:cfg["corpus_chars"]]
    data = CharData(text, cfg["val_fraction"])
    source.update(used_chars=len(text), total_chars=full_chars,
                  sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                  vocab_size=data.vocab_size, train_chars=len(data.train), val_chars=len(data.val))
    print(f"device={device} quick={cfg['quick']} dataset={dataset} corpus={json.dumps(source)}", flush=True)
    print(f"config={json.dumps(cfg)}", flush=True)

    start = time.time()
    per_seed, sample_text = [], []
    for seed in cfg["seeds"]:
        final, curves, samples = train_one(data, seed, cfg, device)
        per_seed.append(dict(seed=seed, final=final, **curves))
        for i, s in enumerate(samples):
            sample_text.append(f"===== seed {seed}, sample {i} =====\n{s}\n")
    means, stderrs = {}, {}
    for k in per_seed[0]["final"]:
        vals = np.array([r["final"][k] for r in per_seed], dtype=float)
        means[k] = float(vals.mean())
        stderrs[k] = float(vals.std() / math.sqrt(len(vals)))
    print(f"[{dataset}] means={json.dumps(means)}", flush=True)

    final_info = {dataset: {"means": means, "stderrs": stderrs}}
    all_results = {dataset: {"seeds": list(cfg["seeds"]), "runs": per_seed}}
    with open(os.path.join(args.out_dir, "final_info.json"), "w") as f:
        json.dump(final_info, f, indent=2)
    with open(os.path.join(args.out_dir, "all_results.json"), "w") as f:
        json.dump(all_results, f)
    with open(os.path.join(args.out_dir, "sample.txt"), "w", encoding="utf-8") as f:
        f.write(f"dataset: {dataset}\n\n" + "\n".join(sample_text))
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        json.dump(dict(cfg, device=str(device), configuration="quick" if cfg["quick"] else "full",
                       dataset=dataset, corpus=source, torch_version=torch.__version__,
                       cpu_threads=torch.get_num_threads(),
                       bf16_autocast=device.type == "cuda" and torch.cuda.is_bf16_supported()),
                  f, indent=2)
    print(f"done in {time.time() - start:.1f}s; results in {args.out_dir}", flush=True)


if __name__ == "__main__":
    main()
