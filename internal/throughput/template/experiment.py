# The throughput benchmark's experiment (`starter bench throughput`),
# written for this project: a run holds its experiment slot for
# RUN_SECONDS of wall-clock time without using the CPU, as a GPU run would
# leave the host's CPUs to the writers and reviewers, and reports a score.
import argparse
import json
import os
import time

RUN_SECONDS = {{RUN_SECONDS}}
SCALE = 1.0

parser = argparse.ArgumentParser(description="Throughput benchmark run")
parser.add_argument("--out_dir", type=str, default="run_0")
args = parser.parse_args()

if __name__ == "__main__":
    start = time.time()
    time.sleep(RUN_SECONDS)
    os.makedirs(args.out_dir, exist_ok=True)
    means = {"score": 2.0 * SCALE, "seconds": round(time.time() - start, 3)}
    with open(os.path.join(args.out_dir, "final_info.json"), "w") as f:
        json.dump({"bench": {"means": means}}, f)
    print(f"score {means['score']} after {means['seconds']} s")
