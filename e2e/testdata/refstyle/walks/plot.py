import os
import os.path as osp

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

labels = {
    "run_0": "Baseline",
}

plt.figure(figsize=(6, 4))
for run, label in labels.items():
    path = osp.join(run, "final_positions.npy")
    if not osp.exists(path):
        print(f"{run}: no results, skipped")
        continue
    plt.hist(np.load(path), bins=40, alpha=0.5, label=label)
plt.xlabel("final position")
plt.ylabel("walkers")
plt.legend()
plt.tight_layout()
plt.savefig("final_positions.png")
