# syntax=docker/dockerfile:1
# The operator image: a static-enough Rust binary on distroless, non-root.
#   docker build -t ghcr.io/auth0-operator/auth0-operator:0.1.0 .
# deploy/base and the Helm chart run it as UID 65532 with a read-only root filesystem.

# Base images are pinned by digest (a multi-platform index: the release builds linux/amd64 and
# linux/arm64 from it), so a rebuild uses the bytes that were reviewed; Dependabot
# (.github/dependabot.yml) proposes each new digest.
FROM rust:1-bookworm@sha256:93ce27a88655056a51dbdd8f5f2d7ddc071c7b0070fb288a37b5a285fc83971e AS builder
WORKDIR /src
# The whole workspace's manifests must be present for cargo to resolve it; only the
# operator binary is built. Sources the image does not need are kept out by .dockerignore.
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY src ./src
COPY testenv/Cargo.toml ./testenv/Cargo.toml
COPY testenv/src ./testenv/src
COPY emulator/Cargo.toml ./emulator/Cargo.toml
COPY emulator/src ./emulator/src
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bin auth0-operator \
 && install -D -m 0755 target/release/auth0-operator /out/auth0-operator

FROM gcr.io/distroless/cc-debian12:nonroot@sha256:9dac0a79194e45a7da0158a9c6da57b217585af0786db3845d1f0ec1a0dd182f
LABEL org.opencontainers.image.source="https://github.com/auth0-operator/auth0-operator" \
      org.opencontainers.image.description="Kubernetes operator that manages Auth0 Connection Profiles" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /out/auth0-operator /usr/local/bin/auth0-operator
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/auth0-operator"]
CMD ["run", "--leader-election", "--http-address", "0.0.0.0:8080", "--log-format", "json"]
