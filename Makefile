# The verbs people type. Every target installs what it needs when it is missing and says
# what it installs; nothing is assumed to have been installed by hand.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
PYTHON      := $(VENV)/bin/python
REQUIREMENTS := tests/support/requirements.txt
# checkov and parliament, the templates' security scanners, in a venv of their own: checkov
# pins boto3 and botocore far below what moto runs on.
SCANNERS_VENV := .venv-scanners
SCANNER_REQUIREMENTS := tests/support/scanner-requirements.txt
# The CDK construct's packages, installed with `npm ci` from the committed lock file.
CDK_DIR := cdk
# Debian packages the tests use: dnsmasq (a stock DNS server for the proxy's interop test),
# dig (the demo prints the zone with it, the DNS front's truncation test asks with it), and
# the SRV clients the interop tests and the demo run for real: haproxy and prometheus.
APT_PACKAGES := dnsmasq-base bind9-dnsutils haproxy prometheus
# Extra Debian packages for `make bench`: the peers srv-proxy is measured against (nginx-light
# builds `stream` as a module, which libnginx-mod-stream ships).
BENCH_APT_PACKAGES := iperf3 wrk nginx-light libnginx-mod-stream

# CI reruns on the same machine reuse one target dir; a developer keeps the usual ./target.
ifdef CI
export CARGO_TARGET_DIR ?= $(HOME)/.cache/ecs-srv/target
endif
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
export CARGO_TERM_COLOR ?= never

.PHONY: help deps apt-deps venv scanners cdk-deps cdk-test build lint fmt test stress demo bench fuzz invoke watch package deploy clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

deps: apt-deps venv scanners cdk-deps ## install Debian packages, the Python venvs and the npm packages the tests need

apt-deps:
	@$(call apt_install,$(APT_PACKAGES))

# apt_install installs the listed Debian packages that are missing, and says which.
define apt_install
	missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing Debian packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

venv: $(VENV)/.installed
scanners: $(SCANNERS_VENV)/.installed

# python_venv creates the venv $(1) from the requirements file $(2), and says with what.
# Debian's python3 has no venv module until python3-venv is installed.
define python_venv
	@python3 -c 'import ensurepip, venv' 2>/dev/null || { $(call apt_install,python3-venv); }
	@echo "make: creating $(1) with $$(grep -v '^#' $(2) | tr '\n' ' ')"
	@python3 -m venv $(1)
	@$(1)/bin/pip install -q --disable-pip-version-check -r $(2)
	@touch $(1)/.installed
endef

$(VENV)/.installed: $(REQUIREMENTS)
	$(call python_venv,$(VENV),$(REQUIREMENTS))

$(SCANNERS_VENV)/.installed: $(SCANNER_REQUIREMENTS)
	$(call python_venv,$(SCANNERS_VENV),$(SCANNER_REQUIREMENTS))

# aws-cdk-lib needs Node.js 20 or later; nothing installs Node.js itself, so its absence
# stops here with what to do.
cdk-deps: $(CDK_DIR)/node_modules/.installed

$(CDK_DIR)/node_modules/.installed: $(CDK_DIR)/package.json $(CDK_DIR)/package-lock.json
	@command -v npm >/dev/null && node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' || \
	  { echo "make: the CDK construct's tests need Node.js 20 or later with npm (found: $$(node --version 2>/dev/null || echo none)); install them (Debian: apt-get install nodejs npm, or NodeSource's packages)" >&2; exit 1; }
	@echo "make: installing the CDK construct's npm packages (npm ci in $(CDK_DIR))"
	@cd $(CDK_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The construct's tests: aws-cdk-lib's assertions on the synthesized stack, and cfn-lint
# (from $(VENV)) on the synthesized templates.
cdk-test: cdk-deps venv ## build and test the CDK construct
	cd $(CDK_DIR) && CFN_LINT="$(CURDIR)/$(VENV)/bin/cfn-lint" npm test

# `--all-targets` builds the binaries with the same dependency features as `cargo test`
# (the test-only mock crate switches on features of shared SDK crates), so build, test and
# demo share one build of the AWS SDK instead of compiling it twice.
build: ## build every crate of the workspace (dev profile)
	cargo build --workspace --all-targets

fmt: ## format the code
	cargo fmt --all

# `--examples` (the crates have none) makes cargo resolve the dependencies' features with
# the dev-dependencies, as clippy's `--all-targets` does, so the docs reuse clippy's checked
# dependencies instead of checking the AWS SDK again (about 1m40s of a cold run).
lint: ## rustfmt, clippy and the docs' links, warnings are errors
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p ecs-srv -p srv-proxy --lib --examples

test: deps lint cdk-test ## run every test of the workspace, the CDK construct's, and the lints
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo test --workspace --no-fail-fast

# srv-proxy's stress scenarios (10,000 connections, a killed backend, a DNS outage, idle clients,
# a flapping target): `#[ignore]`d in `make test`, run here one at a time with their figures.
# The many-connections scenario needs a hard descriptor limit of 11,000 and says so below it.
stress: apt-deps ## srv-proxy under stress; prints descriptor, memory and timing figures
	cargo test -p srv-proxy --test it stress:: -- --ignored --test-threads=1 --nocapture

demo: deps build ## run the whole pipeline locally: moto, the DNS front, ecs-srv, srv-proxy
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" TARGET_DIR="$(TARGET_DIR)" bash tests/demo/run.sh

bench: deps ## measure srv-proxy and ecs-srv beside their peers; writes BENCHMARKS.md
	@$(call apt_install,$(BENCH_APT_PACKAGES))
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash tests/bench/run.sh

# cargo lambda's local runtime. The function reads the same variables as in Lambda, so
# run `make watch` with HOSTED_ZONE_ID and AWS_ENDPOINT_URL (or real credentials) set.
LAMBDA_PORT ?= 9000
EVENT ?= events/bridge-running.json

# Property-based fuzzing on stable Rust (proptest): event parsing and planning, the
# publisher's properties (small worlds, large services, tree deploys), the refusal of a
# name past 100 full branches, and srv-proxy's SRV answer handling and picker. `make test`
# runs the same targets with small case counts (the 100-branch refusal is left to this
# run: it seeds 10,100 sets). Failures persist in tests/proptest-regressions/ and replay
# first on every run. About half an hour on two cores.
fuzz: deps ## the long fuzz run: hundreds of thousands of generated events, hundreds of worlds
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" PROPTEST_CASES=200000 cargo test --workspace --test it -- fuzz_events --nocapture
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" PROPTEST_CASES=600 LARGE_PROPTEST_CASES=24 TREE_PROPTEST_CASES=24 cargo test --workspace --test it -- properties trees::deploys --nocapture
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo test --workspace --test it refusals::a_tree_of_100_full_branches -- --ignored --nocapture
	PROPTEST_CASES=20000 cargo test --workspace --test it fuzz_srv:: -- --nocapture

invoke: venv ## send $(EVENT) (default events/bridge-running.json) to a running `make watch`
	$(VENV)/bin/cargo-lambda lambda invoke ecs-srv --invoke-address 127.0.0.1 --invoke-port $(LAMBDA_PORT) --data-file $(EVENT)

watch: venv ## serve the function through cargo lambda's local runtime on 127.0.0.1
	$(VENV)/bin/cargo-lambda lambda watch --invoke-address 127.0.0.1 --invoke-port $(LAMBDA_PORT)

# The deploy artifact, built the way `sam build` builds it (BuildMethod rust-cargolambda):
# `cargo lambda build --release` through the zig toolchain that pip's cargo-lambda brings,
# so the C parts of the TLS stack are built as a user's deploy builds them. arm64 (the
# template's default Architecture) when that Rust target is installed, x86_64 otherwise.
# A release build of the AWS SDK: tens of minutes on two cores; it stays out of `make test`.
PACKAGE_ARCH ?= $(if $(shell rustup target list --installed 2>/dev/null | grep -x aarch64-unknown-linux-gnu),arm64,x86_64)
package: venv ## build the Lambda zip as `sam build` would (release, zig; arm64 if installed)
	@echo "make: building the Lambda package for $(PACKAGE_ARCH) (deploy with Architecture=$(PACKAGE_ARCH))"
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/cargo-lambda lambda build --release \
	  $(if $(filter arm64,$(PACKAGE_ARCH)),--arm64,--x86-64) --bin ecs-srv --output-format zip
	@ls -l "$(TARGET_DIR)/lambda/ecs-srv/bootstrap.zip"

# SAM builds Rust (BuildMethod rust-cargolambda) only as a beta feature, hence --beta-features.
deploy: ## build and deploy with AWS SAM (needs the sam CLI, cargo-lambda and AWS credentials)
	sam build --beta-features && sam deploy --guided

clean: ## remove build output, the venvs and the npm packages
	cargo clean
	rm -rf $(VENV) $(SCANNERS_VENV) $(CDK_DIR)/node_modules $(CDK_DIR)/dist $(CDK_DIR)/cdk.out
