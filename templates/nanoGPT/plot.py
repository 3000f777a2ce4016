"""Plots the loss curves of the character-level GPT runs.

Run from the folder that holds the run_* directories:  python3 plot.py

For every run listed in `labels` that has a run_*/all_results.json, and for
every dataset found (shakespeare_char or generated_char), writes
train_loss_<dataset>.png and val_loss_<dataset>.png to the current folder:
cross-entropy in nats per character against the training iteration, the
mean over seeds with a shaded band of +/- one standard error. Runs that are
missing or have no curves are skipped with a message.
"""

import json
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# Run folder -> legend label. Only runs listed here are plotted.
labels = {
    "run_0": "Baseline",
}


def load_run(run):
    """Returns {dataset: [per-seed curve dicts]} for a run, or None."""
    path = os.path.join(run, "all_results.json")
    if not os.path.isfile(path):
        print(f"skipping {run}: no {path}")
        return None
    try:
        with open(path) as f:
            data = json.load(f)
        out = {}
        for dataset, entry in data.items():
            runs = [r for r in entry.get("runs", []) if r.get("iters")]
            if runs:
                out[dataset] = runs
        return out
    except (OSError, ValueError, AttributeError, TypeError) as err:
        print(f"skipping {run}: cannot read {path}: {err}")
        return None


def mean_stderr(runs, key):
    """Mean and standard error across seeds, on the common prefix of iterations."""
    n = min(len(r["iters"]) for r in runs)
    iters = np.asarray(runs[0]["iters"][:n], dtype=float)
    vals = np.asarray([r[key][:n] for r in runs], dtype=float)
    mean = vals.mean(axis=0)
    err = vals.std(axis=0) / math.sqrt(len(runs))
    return iters, mean, err


def main():
    results = {}
    for run, label in labels.items():
        data = load_run(run)
        if data:
            results[run] = (label, data)
    datasets = sorted({d for _, data in results.values() for d in data})
    if not datasets:
        print("nothing to plot: no run listed in `labels` has all_results.json")
        return

    panels = [
        ("train_loss", "Training loss (nats/char)", "train_loss_{}.png"),
        ("val_loss", "Validation loss (nats/char)", "val_loss_{}.png"),
    ]
    colors = plt.get_cmap("tab10")
    for dataset in datasets:
        for key, ylabel, pattern in panels:
            fig, ax = plt.subplots(figsize=(6, 4))
            for i, (run, (label, data)) in enumerate(results.items()):
                if dataset not in data:
                    continue
                iters, mean, err = mean_stderr(data[dataset], key)
                c = colors(i % 10)
                ax.plot(iters, mean, label=label, color=c)
                ax.fill_between(iters, mean - err, mean + err, color=c, alpha=0.2)
            ax.set_xlabel("Training iteration")
            ax.set_ylabel(ylabel)
            ax.set_title(f"{ylabel.split(' (')[0]} on {dataset}")
            ax.grid(True, alpha=0.3)
            ax.legend()
            fig.tight_layout()
            out = pattern.format(dataset)
            fig.savefig(out, dpi=150)
            plt.close(fig)
            print(f"wrote {out}")


if __name__ == "__main__":
    main()
