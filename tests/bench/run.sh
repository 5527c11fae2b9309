#!/usr/bin/env bash
# make bench: srv-proxy beside its peers, ecs-srv against moto, and ecs-srv at scale on the strict
# Route 53 model, in one run on 127.0.0.1.
# Writes BENCHMARKS.md at the repository root. Every tool runs under `timeout`; every process the
# scripts start is stopped when they exit (see tests/bench/procs.py), and this script stops its
# own process group on any exit.
#
# Knobs for quick trials (the defaults are what BENCHMARKS.md is written with):
#   BENCH_ROUNDS (7), BENCH_SECONDS (3), BENCH_CONNECTIONS (10000)
# srv-proxy's figures alone, from a built binary:
#   cargo build -p srv-proxy --profile proxy
#   python3 tests/bench/proxy_bench.py --srv-proxy target/proxy/srv-proxy --out /tmp/proxy.json --rounds 7 --seconds 3
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)

work=$(mktemp -d)
cleanup() {
  status=$?
  trap - EXIT INT TERM
  # Children of this script (the bench drivers) clean up after themselves; this is the backstop.
  pkill -TERM -P $$ 2>/dev/null || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT INT TERM

for tool in haproxy iperf3 wrk nginx dnsmasq; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing; run \`make bench\`, which installs it" >&2; exit 1; }
done
python3 -c 'import boto3' 2>/dev/null || { echo "bench: boto3 is missing; run with the venv on PATH (make bench does)" >&2; exit 1; }

# A proxied connection costs the proxy two descriptors: take all the hard limit allows.
ulimit -n "$(ulimit -Hn)"

target_dir=${CARGO_TARGET_DIR:-target}
echo "bench: building srv-proxy (--profile proxy) and ecs-srv (dev, as make test builds it)" >&2
timeout 1200 cargo build --quiet -p srv-proxy --profile proxy
# The same command as `make test`, so the dev build it left is reused as is (building the
# package alone would unify features differently and rebuild the AWS SDK).
timeout 1800 cargo build --quiet --workspace --all-targets
proxy_bin="$target_dir/proxy/srv-proxy"
publisher_bin="$target_dir/debug/ecs-srv"

# Every figure in rounds, the memory figure included: about 3 minutes a round.
timeout 2400 python3 tests/bench/proxy_bench.py --srv-proxy "$proxy_bin" --out "$work/proxy.json" \
  --rounds "${BENCH_ROUNDS:-7}" --seconds "${BENCH_SECONDS:-3}" --connections "${BENCH_CONNECTIONS:-10000}"
timeout 600 python3 tests/bench/publisher_bench.py --ecs-srv "$publisher_bin" --out "$work/publisher.json"
# The 1,000-task SQS burst: the same test `make test` runs with 100 tasks, at the default
# request rate, writing its figures to a file. `--workspace`, as in `make test`, so that the
# features resolve alike and the test binary is reused rather than the SDK rebuilt.
echo "bench: 1,000-task SQS burst against moto" >&2
BURST_TASKS=1000 BURST_WRITE_RATE=5 BURST_FIGURES="$work/burst.json" timeout 900 \
  cargo test --quiet --workspace --test it -- --exact sqs_burst::a_burst_converges_with_one_change_request_per_batch >&2
test -s "$work/burst.json" || { echo "bench: the burst wrote no figures" >&2; exit 1; }
# The scale benchmarks (tests/it/scale.rs): a rolling deploy of a 1,000-task service, the cost
# of one event against the zone's size, a 5,000-task service, on the strict Route 53 model. One
# at a time: each merges its figures into the one file under its own key.
echo "bench: scale benchmarks on the strict Route 53 model" >&2
SCALE_FIGURES="$work/scale.json" timeout 1200 \
  cargo test --quiet --workspace --test it -- scale:: --ignored --test-threads=1 >&2
python3 -c 'import json, sys; keys = set(json.load(open(sys.argv[1]))); sys.exit(keys != {"rolling_deploy", "zone_size", "large_service"})' \
  "$work/scale.json" || { echo "bench: the scale tests wrote no complete figures" >&2; exit 1; }

# The delivery simulation (tests/it/delivery): every delivery design over a burst and the rolling
# deploy, and the reconcile of the largest zones, in virtual time; one at a time, each adding its
# keys to the one file.
echo "bench: delivery designs and lag, in virtual time" >&2
DELIVERY_FIGURES="$work/delivery.json" timeout 1800 \
  cargo test --quiet --workspace --test it -- delivery::bench:: --ignored --test-threads=1 >&2
python3 -c 'import json, sys; keys = set(json.load(open(sys.argv[1]))); sys.exit(keys != {"settings", "runs", "largest_zone"})' \
  "$work/delivery.json" || { echo "bench: the delivery simulation wrote no complete figures" >&2; exit 1; }

timeout 60 python3 tests/bench/report.py --proxy "$work/proxy.json" --publisher "$work/publisher.json" \
  --burst "$work/burst.json" --scale "$work/scale.json" --delivery "$work/delivery.json" \
  --binary-bytes "$(stat -c %s "$proxy_bin")" --seconds-total "$(( $(date +%s) - started ))" \
  --out BENCHMARKS.md
echo "bench: wrote BENCHMARKS.md in $(( $(date +%s) - started )) s" >&2
