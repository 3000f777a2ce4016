"""Denoising diffusion (DDPM) on 2-D point sets.

Trains a small MLP denoiser with the DDPM objective (predict the noise that
was added, Ho et al. 2020) on four 2-D shapes generated in code (circle,
two moons, a line segment and a two-turn spiral), then samples from it with
ancestral DDPM sampling and compares the samples with held-out data.

Usage:
    python3 experiment.py --out_dir=run_0

Writes <out_dir>/final_info.json (per dataset: means and standard errors
over seeds of eval_loss, kl_divergence, kl_divergence_reference,
training_time and inference_time), <out_dir>/all_results.pkl (per seed:
training-loss curve and generated samples; per dataset: the held-out
points) and <out_dir>/config.json (the resolved configuration).

Set AISCI_QUICK=1 for a small configuration that runs in well under a
minute on two CPU cores; only size-related settings (training steps, number
of evaluation points, seeds) are shrunk, every other hyperparameter below
is shared.
"""

import argparse
import json
import math
import os
import pickle
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------
# HYPERPARAMETERS (edit these; one plain assignment per line)
# ---------------------------------------------------------------------------
LEARNING_RATE = 1e-3
NUM_TRAIN_STEPS = 10000
BATCH_SIZE = 256
NUM_TIMESTEPS = 100
BETA_SCHEDULE = "linear"  # "linear", "quadratic" or "cosine"
BETA_START = 1e-4  # linear/quadratic: betas of a 1000-step chain, scaled by 1000 / NUM_TIMESTEPS
BETA_END = 0.02
HIDDEN_SIZE = 256
HIDDEN_LAYERS = 3
EMBEDDING_DIM = 128
INPUT_EMB_SCALE = 25.0  # coordinates are multiplied by this before their sinusoidal embedding
TIME_EMB_SCALE = 1.0
EMA_DECAY = 0.995
GRAD_CLIP = 1.0
NUM_TRAIN_POINTS = 10000
NUM_EVAL_POINTS = 10000
DATA_NOISE = 0.05
KNN_K = 5
SEEDS = [0, 1, 2]
DATASETS = ["circle", "moons", "line", "spiral"]
# ---------------------------------------------------------------------------
# END HYPERPARAMETERS
# ---------------------------------------------------------------------------

# Quick mode (AISCI_QUICK=1): caps on size-related settings only, so that a
# smoke run of all four datasets takes well under a minute on two CPU cores.
# The values above still apply where they are smaller.
QUICK_STEP_CAP = 400
QUICK_EVAL_POINTS = 1500
QUICK_SEED_COUNT = 1

# The held-out points of each dataset come from this seed (plus the dataset's
# index), so every run and every seed is evaluated against the same points.
EVAL_DATA_SEED = 10_000
# A second, independent draw of the true distribution: the KL estimate it
# gets against the held-out points is what a perfect model would score.
REFERENCE_DATA_SEED = 20_000


def is_quick():
    return os.environ.get("AISCI_QUICK", "") not in ("", "0")


def resolve_config():
    """Collects the hyperparameters, applying the quick-mode caps if asked."""
    cfg = dict(
        learning_rate=LEARNING_RATE,
        num_train_steps=NUM_TRAIN_STEPS,
        batch_size=BATCH_SIZE,
        num_timesteps=NUM_TIMESTEPS,
        beta_schedule=BETA_SCHEDULE,
        beta_start=BETA_START,
        beta_end=BETA_END,
        hidden_size=HIDDEN_SIZE,
        hidden_layers=HIDDEN_LAYERS,
        embedding_dim=EMBEDDING_DIM,
        input_emb_scale=INPUT_EMB_SCALE,
        time_emb_scale=TIME_EMB_SCALE,
        ema_decay=EMA_DECAY,
        grad_clip=GRAD_CLIP,
        num_train_points=NUM_TRAIN_POINTS,
        num_eval_points=NUM_EVAL_POINTS,
        data_noise=DATA_NOISE,
        knn_k=KNN_K,
        seeds=list(SEEDS),
        datasets=list(DATASETS),
        quick=is_quick(),
    )
    if cfg["quick"]:
        cfg["num_train_steps"] = min(NUM_TRAIN_STEPS, QUICK_STEP_CAP)
        cfg["num_eval_points"] = min(NUM_EVAL_POINTS, QUICK_EVAL_POINTS)
        cfg["seeds"] = list(SEEDS)[:QUICK_SEED_COUNT]
    return cfg


# ---------------------------------------------------------------------------
# Datasets: 2-D point sets drawn with numpy (coordinates roughly in [-2, 2])
# ---------------------------------------------------------------------------
def circle(n, rng, noise):
    """Circle of radius 1.5, uniform in angle, Gaussian radial noise."""
    theta = rng.uniform(0.0, 2.0 * np.pi, n)
    r = 1.5 + noise * rng.standard_normal(n)
    return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)


def moons(n, rng, noise):
    """Two interleaving half circles (as sklearn's make_moons), centred and
    scaled by 1.2, with isotropic Gaussian noise added after scaling."""
    n_outer = n // 2
    n_inner = n - n_outer
    t_outer = rng.uniform(0.0, np.pi, n_outer)
    t_inner = rng.uniform(0.0, np.pi, n_inner)
    outer = np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1)
    inner = np.stack([1.0 - np.cos(t_inner), 0.5 - np.sin(t_inner)], axis=1)
    x = np.concatenate([outer, inner], axis=0)
    x = (x - np.array([0.5, 0.25])) * 1.2
    x = x + noise * rng.standard_normal(x.shape)
    return x[rng.permutation(n)]


def line(n, rng, noise):
    """Segment from (-2, -1) to (2, 1), uniform along it, Gaussian noise
    perpendicular to it."""
    t = rng.uniform(-1.0, 1.0, n)
    direction = np.array([2.0, 1.0])
    normal = np.array([-1.0, 2.0]) / np.sqrt(5.0)
    return t[:, None] * direction + (noise * rng.standard_normal(n))[:, None] * normal


def spiral(n, rng, noise):
    """Archimedean spiral r = 2 * theta / (4 pi), theta in [pi/2, 4 pi] (about
    two turns, 1.0 apart), uniform along its length, isotropic Gaussian noise."""
    lo, hi = 0.5 * np.pi, 4.0 * np.pi
    # Arc length grows as theta^2 for an Archimedean spiral, so theta =
    # sqrt(uniform in [lo^2, hi^2]) is (nearly) uniform along the curve.
    theta = np.sqrt(rng.uniform(lo ** 2, hi ** 2, n))
    r = 2.0 * theta / hi
    x = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    return x + noise * rng.standard_normal(x.shape)


GENERATORS = {"circle": circle, "moons": moons, "line": line, "spiral": spiral}


def make_points(name, n, seed, noise):
    if name not in GENERATORS:
        raise ValueError(f"unknown dataset {name!r} (known: {', '.join(GENERATORS)})")
    rng = np.random.default_rng(seed)
    return GENERATORS[name](n, rng, noise).astype(np.float32)


# ---------------------------------------------------------------------------
# Noise schedule (DDPM forward process and ancestral sampler)
# ---------------------------------------------------------------------------
def make_betas(schedule, num_timesteps, beta_start, beta_end):
    """Betas of the forward process.

    linear / quadratic: BETA_START..BETA_END describe a 1,000-step chain (Ho
    et al. 2020) and are multiplied by 1000 / NUM_TIMESTEPS (as in Nichol &
    Dhariwal 2021), so x_T is close to pure noise for any number of steps
    (alpha_bar at the last step: 2e-5 at 100 steps, 2e-7 at 25, 3e-5 at
    200; the unscaled betas over 100 steps would leave 0.36). cosine: Nichol &
    Dhariwal's alpha_bar(t) = cos^2(((t/T + s) / (1 + s)) * pi / 2), s = 0.008.
    Betas are clipped to at most 0.999.
    """
    T = num_timesteps
    scale = 1000.0 / T
    if schedule == "linear":
        betas = np.linspace(scale * beta_start, scale * beta_end, T, dtype=np.float64)
    elif schedule == "quadratic":
        betas = np.linspace(math.sqrt(scale * beta_start), math.sqrt(scale * beta_end), T, dtype=np.float64) ** 2
    elif schedule == "cosine":
        s = 0.008
        steps = np.arange(T + 1, dtype=np.float64) / T
        f = np.cos((steps + s) / (1 + s) * np.pi / 2) ** 2
        alpha_bar = f / f[0]
        betas = 1.0 - alpha_bar[1:] / alpha_bar[:-1]
    else:
        raise ValueError(f"unknown BETA_SCHEDULE {schedule!r} (linear, quadratic or cosine)")
    return np.clip(betas, 1e-8, 0.999)


class NoiseScheduler:
    def __init__(self, cfg, device):
        betas = make_betas(cfg["beta_schedule"], cfg["num_timesteps"], cfg["beta_start"], cfg["beta_end"])
        alphas = 1.0 - betas
        alpha_bar = np.cumprod(alphas)
        alpha_bar_prev = np.concatenate([[1.0], alpha_bar[:-1]])
        self.num_timesteps = len(betas)
        self.alpha_bar_final = float(alpha_bar[-1])

        def t32(a):
            return torch.tensor(a, dtype=torch.float32, device=device)

        self.betas = t32(betas)
        self.sqrt_alpha_bar = t32(np.sqrt(alpha_bar))
        self.sqrt_one_minus_alpha_bar = t32(np.sqrt(1.0 - alpha_bar))
        self.sqrt_recip_alphas = t32(1.0 / np.sqrt(alphas))
        # eps coefficient of the posterior mean: beta_t / sqrt(1 - alpha_bar_t)
        self.eps_coef = t32(betas / np.sqrt(1.0 - alpha_bar))
        # Posterior variance beta~_t = beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t)
        self.posterior_std = t32(np.sqrt(np.clip(betas * (1.0 - alpha_bar_prev) / (1.0 - alpha_bar), 1e-20, None)))

    def add_noise(self, x0, noise, t):
        """Samples q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I)."""
        return self.sqrt_alpha_bar[t, None] * x0 + self.sqrt_one_minus_alpha_bar[t, None] * noise

    def step(self, eps, t, x, generator):
        """One ancestral step x_t -> x_{t-1} given the predicted noise (t is an int)."""
        mean = self.sqrt_recip_alphas[t] * (x - self.eps_coef[t] * eps)
        if t == 0:
            return mean
        z = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return mean + self.posterior_std[t] * z


# ---------------------------------------------------------------------------
# Model: MLP denoiser on sinusoidal embeddings of x, y and t
# ---------------------------------------------------------------------------
class SinusoidalEmbedding(nn.Module):
    """Transformer-style sinusoidal features of a scalar (Vaswani et al. 2017):
    sin and cos of scale * value * 10000^(-i / (half - 1)), i < half."""

    def __init__(self, size, scale=1.0):
        super().__init__()
        half = max(1, size // 2)
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / max(1, half - 1))
        self.register_buffer("freqs", freqs, persistent=False)
        self.scale = scale
        self.size = 2 * half

    def forward(self, x):
        angles = (x.float() * self.scale)[:, None] * self.freqs[None, :]
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


class ResidualBlock(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.ff = nn.Linear(size, size)

    def forward(self, x):
        return x + F.gelu(self.ff(x))


class MLPDenoiser(nn.Module):
    """Predicts the added noise eps from (x_t, t)."""

    def __init__(self, embedding_dim, hidden_size, hidden_layers, input_emb_scale, time_emb_scale):
        super().__init__()
        self.emb_x = SinusoidalEmbedding(embedding_dim, scale=input_emb_scale)
        self.emb_y = SinusoidalEmbedding(embedding_dim, scale=input_emb_scale)
        self.emb_t = SinusoidalEmbedding(embedding_dim, scale=time_emb_scale)
        context = self.emb_x.size + self.emb_y.size + self.emb_t.size
        layers = [nn.Linear(context, hidden_size), nn.GELU()]
        layers += [ResidualBlock(hidden_size) for _ in range(hidden_layers)]
        layers += [nn.Linear(hidden_size, 2)]
        self.net = nn.Sequential(*layers)

    def forward(self, x, t):
        h = torch.cat([self.emb_x(x[:, 0]), self.emb_y(x[:, 1]), self.emb_t(t)], dim=-1)
        return self.net(h)


class EMA:
    """Exponential moving average of the weights, with the usual warm-up:
    decay_k = min(EMA_DECAY, (1 + k) / (10 + k)) at update k."""

    def __init__(self, model, decay):
        self.decay = decay
        self.updates = 0
        self.shadow = [p.detach().clone() for p in model.parameters()]

    @torch.no_grad()
    def update(self, model):
        self.updates += 1
        d = min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        for s, p in zip(self.shadow, model.parameters()):
            s.mul_(d).add_(p.detach(), alpha=1.0 - d)

    @torch.no_grad()
    def copy_to(self, model):
        for s, p in zip(self.shadow, model.parameters()):
            p.copy_(s)


# ---------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------
def kth_nn_distance(query, ref, k, exclude_self, chunk=2048):
    """Distance from each query point to its k-th nearest neighbour in ref
    (brute force, in chunks; with exclude_self the query is ref and the point
    itself, at distance 0, is skipped)."""
    kk = k + 1 if exclude_self else k
    out = []
    for i in range(0, len(query), chunk):
        d = torch.cdist(query[i:i + chunk], ref)
        out.append(d.topk(kk, dim=1, largest=False).values[:, kk - 1])
    return torch.cat(out)


def knn_kl_divergence(p_points, q_points, k):
    """k-nearest-neighbour estimate of KL(P || Q) in nats (Wang, Kulkarni and
    Verdu 2009) from samples of P (n points) and Q (m points) in d dims:

        KL ~= d / n * sum_i log(nu_k(i) / rho_k(i)) + log(m / (n - 1)),

    rho_k(i): distance from p_i to its k-th nearest other point of P;
    nu_k(i): distance from p_i to its k-th nearest point of Q. It is
    consistent, not unbiased: small or slightly negative values mean "as
    close as this many points can tell".
    """
    p = torch.as_tensor(p_points, dtype=torch.float32)
    q = torch.as_tensor(q_points, dtype=torch.float32)
    n, d = p.shape
    m = q.shape[0]
    rho = kth_nn_distance(p, p, k, exclude_self=True).double().clamp_min(1e-12)
    nu = kth_nn_distance(p, q, k, exclude_self=False).double().clamp_min(1e-12)
    return float(d * torch.log(nu / rho).mean() + math.log(m / (n - 1)))


@torch.no_grad()
def denoising_loss(model, scheduler, x0, seed, chunk=10000):
    """Mean squared error of the predicted noise on x0, with timesteps and
    noise drawn from a fixed seed (the same for every run)."""
    g = torch.Generator().manual_seed(seed)
    t = torch.randint(0, scheduler.num_timesteps, (len(x0),), generator=g)
    noise = torch.randn(x0.shape, generator=g)
    device = x0.device
    t, noise = t.to(device), noise.to(device)
    total = 0.0
    for i in range(0, len(x0), chunk):
        sl = slice(i, i + chunk)
        xt = scheduler.add_noise(x0[sl], noise[sl], t[sl])
        total += F.mse_loss(model(xt, t[sl]), noise[sl], reduction="sum").item()
    return total / noise.numel()


@torch.no_grad()
def sample(model, scheduler, n, seed, device):
    """Ancestral DDPM sampling from x_T ~ N(0, I)."""
    g = torch.Generator(device=device).manual_seed(seed)
    x = torch.randn((n, 2), generator=g, device=device)
    for t in reversed(range(scheduler.num_timesteps)):
        tt = torch.full((n,), t, dtype=torch.long, device=device)
        x = scheduler.step(model(x, tt), t, x, g)
    return x


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------
def train_one(dataset, seed, cfg, device, eval_points):
    torch.manual_seed(seed)
    train_np = make_points(dataset, cfg["num_train_points"], seed, cfg["data_noise"])
    x_train = torch.from_numpy(train_np).to(device)
    x_eval = torch.from_numpy(eval_points).to(device)

    scheduler = NoiseScheduler(cfg, device)
    model = MLPDenoiser(
        embedding_dim=cfg["embedding_dim"],
        hidden_size=cfg["hidden_size"],
        hidden_layers=cfg["hidden_layers"],
        input_emb_scale=cfg["input_emb_scale"],
        time_emb_scale=cfg["time_emb_scale"],
    ).to(device)
    ema = EMA(model, cfg["ema_decay"])
    opt = torch.optim.Adam(model.parameters(), lr=cfg["learning_rate"])
    num_steps = cfg["num_train_steps"]
    # Cosine decay of the learning rate to 0 over training.
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1.0 + math.cos(math.pi * min(s, num_steps) / num_steps)))

    g = torch.Generator(device=device).manual_seed(seed)
    batch = cfg["batch_size"]
    losses = torch.zeros(num_steps, device=device)
    report_every = max(1, num_steps // 10)
    model.train()
    sync(device)
    t0 = time.time()
    for step in range(num_steps):
        idx = torch.randint(0, len(x_train), (batch,), generator=g, device=device)
        x0 = x_train[idx]
        noise = torch.randn(x0.shape, generator=g, device=device)
        t = torch.randint(0, scheduler.num_timesteps, (batch,), generator=g, device=device)
        loss = F.mse_loss(model(scheduler.add_noise(x0, noise, t), t), noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg["grad_clip"] and cfg["grad_clip"] > 0:
            nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
        opt.step()
        sched.step()
        ema.update(model)
        losses[step] = loss.detach()
        if (step + 1) % report_every == 0 or step + 1 == num_steps:
            recent = losses[max(0, step + 1 - report_every):step + 1].mean().item()
            print(f"[{dataset} seed={seed}] step {step + 1}/{num_steps} "
                  f"train_loss={recent:.4f} ({time.time() - t0:.1f}s)", flush=True)
    sync(device)
    training_time = time.time() - t0

    # Evaluate and sample with the EMA weights.
    ema.copy_to(model)
    model.eval()
    eval_loss = denoising_loss(model, scheduler, x_eval, seed=EVAL_DATA_SEED)
    sync(device)
    t0 = time.time()
    samples = sample(model, scheduler, len(eval_points), seed=seed + 1, device=device)
    sync(device)
    inference_time = time.time() - t0
    samples = samples.cpu().numpy()
    if np.isfinite(samples).all():
        kl = knn_kl_divergence(eval_points, samples, cfg["knn_k"])
    else:
        kl = float("nan")
    final = dict(
        eval_loss=eval_loss,
        kl_divergence=kl,
        training_time=training_time,
        inference_time=inference_time,
    )
    print(f"[{dataset} seed={seed}] eval_loss={eval_loss:.4f} kl_divergence={kl:.4f} "
          f"training_time={training_time:.1f}s inference_time={inference_time:.2f}s", flush=True)
    return final, losses.cpu().numpy(), samples.astype(np.float32)


def summarize(values):
    """Mean and standard error (sample std / sqrt(n); 0 for one seed)."""
    v = np.asarray(values, dtype=float)
    if not np.isfinite(v).all():
        return float("nan"), float("nan")
    se = float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else 0.0
    return float(v.mean()), se


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out_dir", type=str, default="run_0")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    cfg = resolve_config()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    alpha_bar_T = NoiseScheduler(cfg, torch.device("cpu")).alpha_bar_final
    print(f"device={device} quick={cfg['quick']} alpha_bar_T={alpha_bar_T:.3g} config={json.dumps(cfg)}", flush=True)

    final_info, all_results = {}, {}
    start = time.time()
    for di, dataset in enumerate(cfg["datasets"]):
        n_eval = cfg["num_eval_points"]
        eval_points = make_points(dataset, n_eval, EVAL_DATA_SEED + di, cfg["data_noise"])
        reference = make_points(dataset, n_eval, REFERENCE_DATA_SEED + di, cfg["data_noise"])
        kl_reference = knn_kl_divergence(eval_points, reference, cfg["knn_k"])
        runs = []
        for seed in cfg["seeds"]:
            final, losses, samples = train_one(dataset, seed, cfg, device, eval_points)
            final["kl_divergence_reference"] = kl_reference
            runs.append(dict(seed=seed, final=final, train_losses=losses, samples=samples))
        means, stderrs = {}, {}
        for k in ("eval_loss", "kl_divergence", "kl_divergence_reference", "training_time", "inference_time"):
            means[k], stderrs[k] = summarize([r["final"][k] for r in runs])
        final_info[dataset] = {"means": means, "stderrs": stderrs}
        all_results[dataset] = {"seeds": list(cfg["seeds"]), "runs": runs, "eval_points": eval_points}
        print(f"[{dataset}] means={json.dumps(means)}", flush=True)

    with open(os.path.join(args.out_dir, "final_info.json"), "w") as f:
        json.dump(final_info, f, indent=2)
    with open(os.path.join(args.out_dir, "all_results.pkl"), "wb") as f:
        pickle.dump(all_results, f)
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        json.dump(dict(cfg, device=str(device), alpha_bar_T=alpha_bar_T), f, indent=2)
    print(f"done in {time.time() - start:.1f}s; results in {args.out_dir}", flush=True)


if __name__ == "__main__":
    main()
