#!/usr/bin/env bash
# Install the project with its test extras and run the whole test suite (the README's test command).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet -e '.[dev]'
python3 -m ruff check .
python3 -m pytest
