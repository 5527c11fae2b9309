#!/usr/bin/env bash
# Runs the end-to-end demo (`make demo`): moto, the DNS front, the real ecs-srv binary behind
# cargo-lambda's Lambda Runtime API, task servers on loopback and srv-proxy; see
# tests/demo/src/lib.rs for the steps. The Makefile builds first and sets TARGET_DIR (the
# cargo target directory); the demo binary stops every process it started, also on
# failure and Ctrl-C. ECS_SRV_ROOT tells the demo which checkout's venv and tools to use:
# this one, even when the binary was built by another clone sharing the target directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
target_dir="${TARGET_DIR:-${CARGO_TARGET_DIR:-target}}"
demo="$target_dir/debug/ecs-srv-demo"
if [[ ! -x "$demo" ]]; then
  echo "run.sh: $demo is missing; build first: cargo build --workspace --all-targets" >&2
  exit 1
fi
export TARGET_DIR="$target_dir"
export ECS_SRV_ROOT="$PWD"
exec "$demo" "$@"
