#!/usr/bin/env bash
# The test suite: vet, workflowcheck over the workflow code (determinism:
# no time, randomness, map ranges or I/O outside the SDK), then every Go
# test, the papers on the embedded server included. Run scripts/setup.sh
# first on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
go vet ./...
# workflowcheck is its own module; go run fetches it at this version.
go run go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0 ./workflows/...
echo "workflowcheck: ./workflows/... clean" >&2
go test -timeout 45m "$@" ./...
