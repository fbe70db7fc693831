# The README's commands. Everything a target needs is built by the target itself.
SHELL := bash
CARGO ?= cargo
TESTENV := $(CARGO) run --quiet --package testenv --

.PHONY: demo test crds lint testenv tools build

## demo: control plane + Auth0 emulator + the operator; applies the examples; Ctrl-C stops
demo: build
	$(TESTENV) run -- scripts/demo.sh

## test: every test: unit, end-to-end against a real kube-apiserver + etcd
test: testenv tools
	$(CARGO) build --workspace --all-targets
	$(TESTENV) run -- $(CARGO) test --workspace --no-fail-fast
	emulator/conformance/run.sh

## crds: regenerate crds/ from the Rust types
crds:
	$(CARGO) run --quiet --bin auth0-operator -- crd --dir crds

## lint: formatting and clippy, warnings are errors
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## testenv: build etcd, kube-apiserver and kubectl from their Go modules (cached by version)
testenv:
	testenv/build.sh >/dev/null

## tools: helm and gitops-check (kstatus, gopher-lua) from the Go module proxy (cached)
tools:
	tools/build-tools.sh >/dev/null

build: testenv
	$(CARGO) build --workspace
