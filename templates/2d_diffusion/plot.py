"""Plots the 2-D diffusion runs.

Run from the folder that holds the run_* directories:  python3 plot.py

For every run listed in `labels` that has run_*/all_results.pkl, writes to
the current folder:

- generated_samples.png: a grid with one row per run (in the order of
  `labels`) and one column per dataset; each panel shows the run's generated
  samples (first seed) in colour over the held-out data in light grey, with
  the run's mean KL estimate in the corner.
- train_loss.png: one panel per dataset, the training loss (denoising MSE,
  moving average) of every run against the update step; mean over seeds
  with a shaded band of +/- one standard error.
- kl_divergence.png: the mean KL estimate per dataset and run (bars, with
  standard-error whiskers), beside the reference level of two independent
  draws of the true data (dashed).

Runs that are missing or unreadable are skipped with a message.
"""

import math
import os
import pickle

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

# Run folder -> legend label. Only runs listed here are plotted.
labels = {
    "run_0": "Baseline",
}


def load_run(run):
    """Returns {dataset: entry} from run/all_results.pkl, or None."""
    path = os.path.join(run, "all_results.pkl")
    if not os.path.isfile(path):
        print(f"skipping {run}: no {path}")
        return None
    try:
        with open(path, "rb") as f:
            data = pickle.load(f)
        out = {d: e for d, e in data.items() if isinstance(e, dict) and e.get("runs")}
        return out or None
    except Exception as err:  # a half-written or foreign pickle
        print(f"skipping {run}: cannot read {path}: {err}")
        return None


def smooth(y, window):
    """Moving average with a window shrinking at the start (same length)."""
    y = np.asarray(y, dtype=float)
    if window <= 1 or len(y) < 2:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    idx = np.arange(1, len(y) + 1)
    lo = np.maximum(0, idx - window)
    return (c[idx] - c[lo]) / (idx - lo)


def log_minor_label(v, _):
    """Labels the 2, 3 and 5 minor ticks of a log axis (0.2, 0.3, 0.5, ...)."""
    if v <= 0:
        return ""
    lead = v / 10 ** math.floor(math.log10(v))
    return f"{v:g}" if any(abs(lead - d) < 1e-6 for d in (2, 3, 5)) else ""


def mean_stderr(curves):
    n = min(len(c) for c in curves)
    vals = np.asarray([c[:n] for c in curves], dtype=float)
    mean = vals.mean(axis=0)
    err = vals.std(axis=0, ddof=1) / math.sqrt(len(curves)) if len(curves) > 1 else np.zeros(n)
    return mean, err


def metric(entry, key):
    """Mean and standard error of one final metric over the seeds of a run."""
    vals = np.asarray([r["final"].get(key, np.nan) for r in entry["runs"]], dtype=float)
    if len(vals) == 0:
        return np.nan, 0.0
    err = vals.std(ddof=1) / math.sqrt(len(vals)) if len(vals) > 1 else 0.0
    return float(vals.mean()), float(err)


def limits(points, margin=0.35):
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre, half = (lo + hi) / 2, (hi - lo).max() / 2 + margin
    return (centre[0] - half, centre[0] + half), (centre[1] - half, centre[1] + half)


def plot_samples(results, datasets):
    nrows, ncols = len(results), len(datasets)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.0 * ncols, 3.0 * nrows), squeeze=False)
    for j, dataset in enumerate(datasets):
        ref = next((data[dataset]["eval_points"] for _, data in results.values()
                    if dataset in data and "eval_points" in data[dataset]), None)
        for i, (run, (label, data)) in enumerate(results.items()):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_aspect("equal")
            if i == 0:
                ax.set_title(dataset)
            if j == 0:
                ax.set_ylabel(label)
            if dataset not in data:
                ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes)
                continue
            entry = data[dataset]
            pts = np.asarray(entry["runs"][0]["samples"], dtype=float)
            pts = pts[np.isfinite(pts).all(axis=1)]
            if ref is not None:
                ref = np.asarray(ref, dtype=float)
                ax.scatter(ref[:, 0], ref[:, 1], s=1, c="0.8", linewidths=0, rasterized=True)
                xl, yl = limits(ref)
                ax.set_xlim(*xl)
                ax.set_ylim(*yl)
                outside = np.sum((pts[:, 0] < xl[0]) | (pts[:, 0] > xl[1]) | (pts[:, 1] < yl[0]) | (pts[:, 1] > yl[1]))
            else:
                outside = 0
            ax.scatter(pts[:, 0], pts[:, 1], s=1, c="tab:blue", alpha=0.5, linewidths=0, rasterized=True)
            kl, _ = metric(entry, "kl_divergence")
            note = f"KL={kl:.3f}"
            if outside:
                note += f"\n{outside} outside"
            ax.text(0.03, 0.97, note, ha="left", va="top", fontsize=8, transform=ax.transAxes)
    fig.suptitle("Generated samples (blue) over held-out data (grey)")
    fig.tight_layout()
    fig.savefig("generated_samples.png", dpi=150)
    plt.close(fig)
    print("wrote generated_samples.png")


def plot_losses(results, datasets):
    ncols = len(datasets)
    fig, axes = plt.subplots(1, ncols, figsize=(4.0 * ncols, 3.4), squeeze=False)
    colors = plt.get_cmap("tab10")
    for j, dataset in enumerate(datasets):
        ax = axes[0][j]
        for i, (run, (label, data)) in enumerate(results.items()):
            if dataset not in data:
                continue
            curves = [np.asarray(r["train_losses"], dtype=float) for r in data[dataset]["runs"]]
            n = min(len(c) for c in curves)
            window = max(1, n // 50)
            mean, err = mean_stderr([smooth(c, window) for c in curves])
            steps = np.arange(1, len(mean) + 1)
            c = colors(i % 10)
            ax.plot(steps, mean, label=label, color=c, linewidth=1.2)
            ax.fill_between(steps, mean - err, mean + err, color=c, alpha=0.2)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(FuncFormatter(log_minor_label))
        ax.set_title(dataset)
        ax.set_xlabel("Update step")
        if j == 0:
            ax.set_ylabel("Training loss (noise MSE)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig("train_loss.png", dpi=150)
    plt.close(fig)
    print("wrote train_loss.png")


def plot_kl(results, datasets):
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(datasets) * max(1, len(results)) / 2), 3.8))
    colors = plt.get_cmap("tab10")
    width = 0.8 / max(1, len(results))
    x = np.arange(len(datasets))
    for i, (run, (label, data)) in enumerate(results.items()):
        means, errs = [], []
        for dataset in datasets:
            m, e = metric(data[dataset], "kl_divergence") if dataset in data else (np.nan, 0.0)
            means.append(m)
            errs.append(e)
        ax.bar(x - 0.4 + width * (i + 0.5), means, width, yerr=errs, capsize=2, label=label, color=colors(i % 10))
    for j, dataset in enumerate(datasets):
        refs = [metric(data[dataset], "kl_divergence_reference")[0] for _, data in results.values() if dataset in data]
        refs = [r for r in refs if np.isfinite(r)]
        if refs:
            ax.hlines(refs[0], j - 0.45, j + 0.45, colors="k", linestyles="dashed", linewidth=1,
                      label="two draws of the data" if j == 0 else None)
    ax.axhline(0.0, color="0.5", linewidth=0.5)
    ax.set_xticks(x)
    ax.set_xticklabels(datasets)
    ax.set_ylabel("KL(data || samples), kNN estimate (nats)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig("kl_divergence.png", dpi=150)
    plt.close(fig)
    print("wrote kl_divergence.png")


def main():
    results = {}
    for run, label in labels.items():
        data = load_run(run)
        if data:
            results[run] = (label, data)
    datasets = []
    for _, data in results.values():
        datasets += [d for d in data if d not in datasets]
    if not datasets:
        print("nothing to plot: no run listed in `labels` has all_results.pkl")
        return
    plot_samples(results, datasets)
    plot_losses(results, datasets)
    plot_kl(results, datasets)


if __name__ == "__main__":
    main()
