# An experiment host: the worker binary on a CUDA runtime, with what
# experiments and papers need (Python with PyTorch, NumPy, Matplotlib and
# SciPy; TeX Live; chktex; poppler-utils; bubblewrap for the sandbox).
#
#   docker build -t aiscientist-worker .
#   docker run --gpus all --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
#     -e TEMPORAL_ADDRESS=temporal.example:7233 -e AISCI_S3_BUCKET=... aiscientist-worker --host gpu-1
#
# It is not built on this project's build machines (no Docker engine there).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/worker ./worker

FROM nvidia/cuda:12.6.3-runtime-ubuntu24.04
ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends \
      python3 python3-pip python3-numpy python3-matplotlib python3-scipy \
      texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended texlive-science \
      chktex poppler-utils bubblewrap util-linux ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# PyTorch built for this CUDA version (Ubuntu's own package is CPU-only).
RUN pip3 install --break-system-packages --index-url https://download.pytorch.org/whl/cu126 torch==2.7.1
COPY --from=build /out/worker /usr/local/bin/worker
COPY templates /opt/aiscientist/templates
WORKDIR /opt/aiscientist
ENV AISCI_PYTHON=/usr/bin/python3
ENTRYPOINT ["/usr/local/bin/worker", "--templates", "/opt/aiscientist/templates"]
