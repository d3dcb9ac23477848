#!/usr/bin/env bash
# Install what the tests need and run them (the README's test command).
set -euo pipefail
cd "$(dirname "$0")"
python3 -m pip install -q --disable-pip-version-check torch==2.13.0 -r requirements.txt -r requirements-dev.txt
# the layer order of uer/ (.importlinter; docs/design.md): imports point down, function-level ones included
python3 -c "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports())"
python3 -m pytest -q tests
