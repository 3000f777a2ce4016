#!/usr/bin/env bash
# Installs what the demo and the tests need on Debian/Ubuntu: TeX for the
# paper (texlive-science for the algorithm packages models write), chktex, poppler-utils (pdftotext/pdfinfo), bubblewrap (the
# experiment sandbox), Debian's Python with PyTorch, NumPy and Matplotlib
# (under /usr/bin/python3) and PostgreSQL (the cluster test starts a throwaway
# server of its own; nothing is started here). Skips apt when all of it is
# already there. Run as root or with sudo available.
set -euo pipefail

packages=(texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended texlive-science
  chktex poppler-utils bubblewrap python3 python3-torch python3-numpy python3-matplotlib postgresql)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

/usr/bin/python3 -c "import torch, numpy, matplotlib" || {
  echo "setup: /usr/bin/python3 cannot import torch, numpy and matplotlib" >&2
  exit 1
}
for t in pdflatex bibtex chktex pdftotext pdfinfo bwrap prlimit setpriv; do
  command -v "$t" >/dev/null || { echo "setup: $t missing after install" >&2; exit 1; }
done
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "setup: PostgreSQL's initdb missing after install" >&2; exit 1; }
bwrap --ro-bind / / --unshare-net --unshare-pid --proc /proc --dev /dev true 2>/dev/null ||
  echo "setup: warning: bwrap cannot create namespaces here; run the worker with --no-sandbox (AISCI_NO_SANDBOX=1)" >&2
echo "setup: ready (go $(go env GOVERSION 2>/dev/null || echo '?'), $(/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)'))" >&2
