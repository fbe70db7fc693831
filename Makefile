# The README's commands. Everything a target needs is built by the target itself.
SHELL := bash
CARGO ?= cargo
TESTENV := $(CARGO) run --quiet --package testenv --
TARGET := $(or $(CARGO_TARGET_DIR),target)
FAULT_REPORT := $(or $(TMPDIR),/tmp)/auth0-fault-report.md

.PHONY: demo test fuzz soak bench bench-quick image crds lint audit testenv tools build conformance-live mutants mutants-changed mutants-tool \
	release-check image-release image-sign chart-package chart-push chart-sign \
	kind kind-test kind-image

## demo: control plane + Auth0 emulator + the operator; applies the examples; Ctrl-C stops
demo: build
	$(TESTENV) run -- scripts/demo.sh

## test: every test: unit, end-to-end against a real kube-apiserver + etcd, the conformance
## suite, and the operator's image installed by the chart and the kustomize base in a kind
## cluster (tools/kind/test.sh: podman or Docker; it installs podman with apt-get when neither is there)
test: testenv tools
	$(CARGO) build --workspace --all-targets
	rm -f $(FAULT_REPORT)
	AUTH0_FAULT_REPORT=$(FAULT_REPORT) $(TESTENV) run -- $(CARGO) test --workspace --no-fail-fast
	emulator/conformance/run.sh
	OPERATOR_BIN=$(TARGET)/debug/auth0-operator EMULATOR_BIN=$(TARGET)/debug/auth0-emulator tools/kind/test.sh
	@echo "== fault suite (tests/faults): each scenario's time and invariants"; cat $(FAULT_REPORT)
	$(MAKE) --no-print-directory mutants-changed

## conformance-live: the live conformance probe against a real tenant (env AUTH0_DOMAIN,
## AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET): prints behaviour | emulator | this tenant, making
## and deleting only profiles named probe-<random>-… (docs/emulator.md); needs node >= 20
conformance-live:
	node emulator/conformance/probe.mjs

## soak: the fault suite at larger sizes (1,000 resources, 100 SIGKILLs, 30 failovers, 500 throttled),
## and the random walk (tests/walk) on fresh seeds, 4 walks of 300 steps
soak: testenv
	$(CARGO) build --workspace --all-targets
	rm -f $(FAULT_REPORT)
	AUTH0_SOAK=1 AUTH0_FAULT_REPORT=$(FAULT_REPORT) $(TESTENV) run -- $(CARGO) test --test faults --test walk -- --include-ignored --test-threads 1
	@cat $(FAULT_REPORT)

## fuzz: the property tests of the operator's pure code and of the emulator's request handling,
## each test for FUZZ_SECONDS (default 600, all of a binary's tests at once); prints case counts
FUZZ_SECONDS ?= 600
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(CARGO) test --package auth0-operator --test fuzz -- --nocapture --test-threads 16
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(CARGO) test --package auth0-emulator --test fuzz -- --nocapture --test-threads 16

## bench: the operator's figures (N = 1,000, 10,000 for memory, 20,000 create/delete cycles for churn), beside the Auth0 Deploy CLI's, and the emulator's, into docs/benchmarks.md
bench: testenv
	$(CARGO) build --release --package auth0-operator --package auth0-bench
	$(TESTENV) run -- $(TARGET)/release/auth0-bench --n 1000 --out docs/benchmarks.md
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	emulator/bench/run.sh

## bench-quick: the same harness at N = 100, so it cannot rot (CI runs it)
bench-quick: testenv
	$(CARGO) build --package auth0-operator --package auth0-bench
	$(TESTENV) run -- $(TARGET)/debug/auth0-bench --n 100 --rate-limited-n 20 \
		--latency-runs 20 --large-n 0 --unrelated-secrets 50 --poll-interval-secs 3 \
		--tenants-backlogs 20,10 --tenants-changes 8 --tenants-large-n 200 --tenants-large-tenants 10 \
		--churn-cycles 200 --out "$${TMPDIR:-/tmp}/benchmarks-quick.md"

## image: the container image from the Dockerfile, as the release builds it (needs a Docker
## engine; none is published: push it to your registry)
IMAGE ?= ghcr.io/auth0-operator/auth0-operator:0.1.0
image:
	docker build -t $(IMAGE) .

## The release (.github/workflows/release.yml runs these on a tag vX.Y.Z; docs/install.md says
## how to verify what it publishes). VERSION is the chart's version, which the tag must equal.
CHART := deploy/helm/auth0-operator
REGISTRY ?= ghcr.io/auth0-operator
IMAGE_REPO ?= $(REGISTRY)/auth0-operator
CHART_REPO ?= $(REGISTRY)/charts
PLATFORMS ?= linux/amd64,linux/arm64
DIST ?= dist
VERSION := $(shell sed -n 's/^version: *//p' $(CHART)/Chart.yaml)
HELM = "$$(tools/build-tools.sh helm)"

## release-check: TAG (vX.Y.Z) names the version the chart (version, appVersion), the operator's
## Cargo.toml and the chart's Artifact Hub image all carry, so a release publishes one version
release-check:
	@test -n "$(TAG)" || { echo "release-check: set TAG=vX.Y.Z"; exit 1; }
	@cargo=$$(sed -n '/^\[package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml); \
	app=$$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' $(CHART)/Chart.yaml); \
	image=$$(sed -n 's|^ *image: *$(IMAGE_REPO):||p' $(CHART)/Chart.yaml); \
	bad=0; for pair in "chart version:$(VERSION)" "chart appVersion:$$app" "Cargo.toml version:$$cargo" \
		"artifacthub.io/images tag:$$image"; do \
		if [ "v$${pair#*:}" != "$(TAG)" ]; then echo "release-check: $${pair%%:*} is '$${pair#*:}', the tag is $(TAG)"; bad=1; fi; \
	done; [ $$bad = 0 ] && echo "release-check: $(TAG) is the version everywhere"

## image-release: the multi-arch image (PLATFORMS) built from the Dockerfile and pushed to
## $(IMAGE_REPO):$(VERSION) with BuildKit's SBOM (SPDX) and SLSA provenance (mode=max) in its
## index; the index digest goes to $(DIST)/image-digest (and to GITHUB_OUTPUT as digest=). Needs docker buildx (QEMU for arm64 on amd64).
image-release:
	mkdir -p $(DIST)
	docker buildx build --platform $(PLATFORMS) --sbom=true --provenance=mode=max \
		--tag $(IMAGE_REPO):$(VERSION) --metadata-file $(DIST)/image-metadata.json --push .
	sed -n 's/.*"containerimage.digest": *"\(sha256:[0-9a-f]*\)".*/\1/p' $(DIST)/image-metadata.json > $(DIST)/image-digest
	@grep -qx 'sha256:[0-9a-f]\{64\}' $(DIST)/image-digest || { echo "image-release: no digest in $(DIST)/image-metadata.json"; exit 1; }
	@echo "image-release: $(IMAGE_REPO)@$$(cat $(DIST)/image-digest)"
	@if [ -n "$$GITHUB_OUTPUT" ]; then echo "digest=$$(cat $(DIST)/image-digest)" >> "$$GITHUB_OUTPUT"; fi

## image-sign: cosign keyless signature (the CI's OIDC identity) of the image index and of each
## platform's image (--recursive), by digest
image-sign:
	cosign sign --yes --recursive $(IMAGE_REPO)@$$(cat $(DIST)/image-digest)

## chart-package: the Helm chart as $(DIST)/auth0-operator-$(VERSION).tgz (helm from tools/helm)
chart-package:
	mkdir -p $(DIST)
	$(HELM) lint --strict $(CHART)
	$(HELM) package $(CHART) --destination $(DIST)

## chart-push: the packaged chart to oci://$(CHART_REPO) (registry login from REGISTRY_USERNAME
## and REGISTRY_PASSWORD when set); the pushed digest goes to $(DIST)/chart-digest (and GITHUB_OUTPUT)
chart-push:
	@if [ -n "$$REGISTRY_PASSWORD" ]; then printenv REGISTRY_PASSWORD | $(HELM) registry login \
		$(firstword $(subst /, ,$(REGISTRY))) --username "$$REGISTRY_USERNAME" --password-stdin; fi
	$(HELM) push $(DIST)/auth0-operator-$(VERSION).tgz oci://$(CHART_REPO) > $(DIST)/chart-push.out 2>&1 \
		|| { cat $(DIST)/chart-push.out; exit 1; }; cat $(DIST)/chart-push.out
	sed -n 's/^Digest: *\(sha256:[0-9a-f]*\)$$/\1/p' $(DIST)/chart-push.out > $(DIST)/chart-digest
	@grep -qx 'sha256:[0-9a-f]\{64\}' $(DIST)/chart-digest || { echo "chart-push: helm printed no digest"; exit 1; }
	@if [ -n "$$GITHUB_OUTPUT" ]; then echo "digest=$$(cat $(DIST)/chart-digest)" >> "$$GITHUB_OUTPUT"; fi

## chart-sign: cosign keyless signature of the pushed chart, by digest
chart-sign:
	cosign sign --yes $(CHART_REPO)/auth0-operator@$$(cat $(DIST)/chart-digest)

## kind-image: the same image's layout without Docker or a registry (tools/kind/image.sh), from
## the debug build, as an OCI archive that `kind load image-archive` and `docker load` read
KIND_IMAGE_ARCHIVE ?= $(TARGET)/auth0-operator-image.tar
kind-image:
	$(CARGO) build --package auth0-operator --bin auth0-operator
	tools/kind/image.sh $(TARGET)/debug/auth0-operator $(KIND_IMAGE_ARCHIVE) localhost/auth0-operator:dev
	@echo "$(KIND_IMAGE_ARCHIVE): localhost/auth0-operator:dev"

## kind: a kind cluster "auth0-operator" with the operator installed by the Helm chart from the
## local image, the Auth0 emulator and the examples; Ctrl-C deletes it (docs/install.md)
kind: testenv tools
	$(CARGO) build --package auth0-operator --package auth0-emulator --bins
	OPERATOR_BIN=$(TARGET)/debug/auth0-operator EMULATOR_BIN=$(TARGET)/debug/auth0-emulator tools/kind/up.sh

## kind-test: only the kind part of `make test` (tools/kind/test.sh)
kind-test: testenv tools
	$(CARGO) build --package auth0-operator --package auth0-emulator --bins
	OPERATOR_BIN=$(TARGET)/debug/auth0-operator EMULATOR_BIN=$(TARGET)/debug/auth0-emulator tools/kind/test.sh

## crds: regenerate crds/ from the Rust types, and copy them and the monitoring files into the
## Helm chart (its crds/ and files/ are copies, not links, so a packaged chart holds them)
crds:
	$(CARGO) run --quiet --bin auth0-operator -- crd --dir crds
	rm -f $(CHART)/crds/*.yaml
	cp crds/*.yaml $(CHART)/crds/
	cp deploy/components/prometheus-rule/prometheusrule.yaml $(CHART)/files/prometheusrule.yaml
	cp deploy/components/grafana-dashboard/auth0-operator.json $(CHART)/files/auth0-operator-dashboard.json

## lint: formatting and clippy, warnings are errors; actionlint (tools/actionlint, built once
## into the tools cache) over the GitHub workflows, with shellcheck on their scripts when installed
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@command -v shellcheck >/dev/null || echo "lint: shellcheck is not installed, so the workflows' run: scripts are not shellchecked (apt-get install shellcheck)"
	"$$(tools/build-tools.sh actionlint)" -no-color .github/workflows/*.yml

## audit: cargo deny (deny.toml): licenses, bans and sources offline (after `cargo fetch`, which
## downloads every platform's crates that `cargo metadata` reads); advisories when the
## RustSec database can be fetched (it is a git repository on GitHub), else a clear note.
CACHE ?= $(or $(AUTH0_OPERATOR_CACHE),$(HOME)/.cache/auth0-operator)
CARGO_DENY_VERSION := 0.20.2
CARGO_DENY := $(CACHE)/tools/cargo-deny-$(CARGO_DENY_VERSION)/bin/cargo-deny
ADVISORY_DB := https://github.com/rustsec/advisory-db
# cargo-deny is built in cargo's own temporary folder (not CARGO_TARGET_DIR): only the
# binary is kept.
audit:
	test -x $(CARGO_DENY) || env -u CARGO_TARGET_DIR $(CARGO) install --locked --quiet \
		cargo-deny@$(CARGO_DENY_VERSION) --root $(CACHE)/tools/cargo-deny-$(CARGO_DENY_VERSION)
	$(CARGO) fetch --locked --quiet
	$(CARGO_DENY) --offline check --hide-inclusion-graph licenses bans sources
	@if timeout 20 git ls-remote --heads $(ADVISORY_DB) main >/dev/null 2>&1; then \
		$(CARGO_DENY) check --hide-inclusion-graph advisories; \
	else \
		echo "advisories NOT CHECKED: the RustSec database ($(ADVISORY_DB)) cannot be fetched from this machine (docs/security.md)"; \
	fi

## mutants: every mutant of the pure decision code (.cargo/mutants.toml: the ownership plan,
## the desired body and diff, validation, claims, conditions, status, durations, Event series,
## the emulator's request validation), each judged by the unit tests; a missed mutant fails
## the run naming its file, line and change (mutants.out/missed.txt). Mutates the tree in
## place and restores it. About 35 minutes on 2 cores (457 mutants, 2-6 s of build each).
CARGO_MUTANTS_VERSION := 27.1.0
CARGO_MUTANTS := $(CACHE)/tools/cargo-mutants-$(CARGO_MUTANTS_VERSION)/bin/cargo-mutants
mutants: mutants-tool
	$(CARGO_MUTANTS) mutants --workspace --in-place --no-shuffle --timeout 120

## mutants-changed: the same, for the lines a change touches: against its merge base with
## MUTANTS_BASE (default origin/main), or, on main itself, against the commit before (in `make test`)
MUTANTS_BASE ?= origin/main
mutants-changed: mutants-tool
	@base=$$(git merge-base HEAD $(MUTANTS_BASE) 2>/dev/null || true); \
	if [ -z "$$base" ] || [ "$$base" = "$$(git rev-parse HEAD)" ]; then base=$$(git rev-parse --verify -q HEAD~1 || true); fi; \
	if [ -z "$$base" ]; then echo "mutants-changed: no commit to compare with; nothing examined"; exit 0; fi; \
	diff=$${TMPDIR:-/tmp}/mutants-changed.diff; git diff $$base HEAD > $$diff; \
	echo "mutants-changed: the lines changed since $$(git rev-parse --short $$base)"; \
	$(CARGO_MUTANTS) mutants --workspace --in-place --no-shuffle --timeout 120 --in-diff $$diff

## mutants-tool: cargo-mutants, built once into the tools cache (like cargo-deny)
mutants-tool:
	test -x $(CARGO_MUTANTS) || env -u CARGO_TARGET_DIR $(CARGO) install --locked --quiet \
		cargo-mutants@$(CARGO_MUTANTS_VERSION) --root $(CACHE)/tools/cargo-mutants-$(CARGO_MUTANTS_VERSION)

## testenv: build etcd, kube-apiserver and kubectl from their Go modules (cached by version)
testenv:
	testenv/build.sh >/dev/null

## tools: helm, gitops-check (kstatus, gopher-lua), promtool, promql-selectors and the Prometheus
## Operator CRDs from the Go module proxy (cached)
tools:
	tools/build-tools.sh >/dev/null

build: testenv
	$(CARGO) build --workspace
