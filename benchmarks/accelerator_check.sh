#!/usr/bin/env bash
# Every accelerator path in one command (see benchmarks/accelerator_check.py); on a machine without CUDA it
# says so in one line and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 benchmarks/accelerator_check.py "$@"
