"""Downloads the Tiny Shakespeare corpus for experiment.py (run once, online).

    python3 prepare.py            # into data/shakespeare_char/input.txt
    python3 prepare.py --force    # download again even if the file exists

The file lands in data/shakespeare_char/input.txt next to this script (the
template folder), so every paper folder copied from the template has it.
experiment.py does not download anything: the experiment sandbox has no
network. Without the file it trains on a generated stand-in corpus instead
(dataset "generated_char"; see corpus.py).

The data/ folder is not part of the repository; do not commit it.
"""

import argparse
import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request

URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
HERE = os.path.dirname(os.path.abspath(__file__))
DEST = os.path.join(HERE, "data", "shakespeare_char", "input.txt")
TIMEOUT_S = 60
# The corpus is a little over one million characters; anything much smaller
# is an error page or a truncated download.
MIN_BYTES = 1_000_000


def download(url, dest, timeout):
    req = urllib.request.Request(url, headers={"User-Agent": "aiscientist-nanoGPT-template/1"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        body = resp.read()
    if len(body) < MIN_BYTES:
        raise ValueError(f"got only {len(body):,} bytes from {url} (expected over {MIN_BYTES:,})")
    text = body.decode("utf-8")  # raises on an HTML error page in another encoding
    if "First Citizen:" not in text[:200]:
        raise ValueError(f"{url} did not return the Tiny Shakespeare text (unexpected beginning)")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    tmp = dest + ".part"
    with open(tmp, "wb") as f:
        f.write(body)
    os.replace(tmp, dest)  # never leave a half-written input.txt behind
    return body


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="download even if the file exists")
    parser.add_argument("--url", default=URL, help="where to fetch the corpus from")
    args = parser.parse_args()

    if os.path.isfile(DEST) and not args.force:
        size = os.path.getsize(DEST)
        print(f"{DEST} already exists ({size:,} bytes); use --force to download again")
        return 0
    print(f"downloading {args.url} (timeout {TIMEOUT_S}s) ...", flush=True)
    try:
        body = download(args.url, DEST, TIMEOUT_S)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError, UnicodeDecodeError) as err:
        print(f"error: could not download Tiny Shakespeare: {err}\n"
              f"Fetch {args.url} by other means and save it as {DEST};\n"
              "until then experiment.py trains on the generated corpus (dataset generated_char).",
              file=sys.stderr)
        return 1
    text = body.decode("utf-8")
    print(f"wrote {DEST}: {len(body):,} bytes, {len(text):,} characters, "
          f"{len(set(text))} distinct, sha256 {hashlib.sha256(body).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
