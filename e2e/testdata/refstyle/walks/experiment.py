# A test fixture laid out like a template of the reference system: settings
# as argparse defaults, a helper module beside it, a data file read by a
# relative path, results in <out_dir>/final_info.json. Written for this project's tests.
import argparse
import json
import os

import numpy as np

from walkers import simulate

parser = argparse.ArgumentParser(description="Random walks")
parser.add_argument("--out_dir", type=str, default="run_0")
parser.add_argument("--num_walkers", type=int, default=400)
parser.add_argument("--num_steps", type=int, default=1000)
parser.add_argument("--step_size", type=float, default=0.5)
args = parser.parse_args()

if __name__ == "__main__":
    os.makedirs(args.out_dir, exist_ok=True)
    # The data folder as the reference's templates find it: the baseline
    # runs beside the template (../../data), later runs in a results folder
    # one level deeper (../../../data).
    data_dir = os.path.join("../../data" if args.out_dir == "run_0" else "../../../data", "walks")
    with open(os.path.join(data_dir, "start.json")) as f:
        start = float(json.load(f)["start"])
    paths = start + simulate(args.num_walkers, args.num_steps, args.step_size, seed=0)
    final = np.abs(paths[:, -1])
    means = {
        "mean_final_distance": float(final.mean()),
        "max_distance": float(np.abs(paths).max()),
        "rms_final_distance": float(np.sqrt((paths[:, -1] ** 2).mean())),
    }
    with open(os.path.join(args.out_dir, "final_info.json"), "w") as f:
        json.dump({"walk": {"means": means}}, f)
    np.save(os.path.join(args.out_dir, "final_positions.npy"), paths[:, -1])
