#!/usr/bin/env bash
# gpu-check.sh: the checks of experiment hosts that need a real NVIDIA GPU
# (go-nvml against the driver, CUDA_VISIBLE_DEVICES inside the sandbox).
# Run it on a GPU machine from the repository root; it prints figures and
# exits non-zero when a check fails. With no Go toolchain there, build
# first (go build -o bin/worker ./worker) and carry bin/.
set -uo pipefail
fail=0
note() { printf '\n== %s\n' "$*"; }
worker=bin/worker
if [ ! -x "$worker" ]; then
	note "building the worker"
	mkdir -p bin && go build -o "$worker" ./worker || exit 1
fi
out=${OUT:-/tmp/gpu-check}
mkdir -p "$out"

note "nvidia-smi"
nvidia-smi --query-gpu=index,name,memory.total,memory.used,utilization.gpu --format=csv || fail=1

note "worker gpus (go-nvml)"
"$worker" gpus || fail=1
"$worker" gpus --json > "$out/gpus.json" || fail=1
cat "$out/gpus.json"
if grep -q '"cpu": *true' "$out/gpus.json"; then
	echo "FAIL: go-nvml found no GPU"; fail=1
fi

py=${AISCI_PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
cat > "$work/probe.py" <<'PY'
import os, sys
print("CUDA_VISIBLE_DEVICES=" + os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"))
try:
    import torch
    print("torch", torch.__version__, "cuda available:", torch.cuda.is_available(), "devices:", torch.cuda.device_count())
    if torch.cuda.is_available():
        x = torch.randn(4096, 4096, device="cuda")
        print("matmul ok, sum", float((x @ x).sum()))
except ImportError:
    print("torch not installed; CUDA check skipped")
PY
for sb in "" "--no-sandbox"; do
	note "sandbox-run $sb with CUDA_VISIBLE_DEVICES=0"
	CUDA_VISIBLE_DEVICES=0 "$worker" sandbox-run $sb --dir "$work" --timeout 120s -- "$py" probe.py || fail=1
done
note "sandbox-run hides the other GPUs (CUDA_VISIBLE_DEVICES=1 on a one-GPU machine: no device)"
CUDA_VISIBLE_DEVICES=1 "$worker" sandbox-run --dir "$work" --timeout 120s -- "$py" probe.py || true

note "result: $([ $fail = 0 ] && echo PASS || echo FAIL)"
exit $fail
