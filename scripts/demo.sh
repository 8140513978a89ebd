#!/usr/bin/env bash
# The main job on the bundled default (being built).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/verifyfull rules
