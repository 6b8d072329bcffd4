# The `tradegraph` binary in a small runtime image (issue 17, item 6).
#
#   docker build -t tradegraph .
#   docker run --rm -p 8001:8001 -e TRADEGRAPH_API_TOKEN=... tradegraph run --instrument btc
#
# Two stages: the build stage compiles the release binary with the toolchain that
# rust-toolchain.toml pins (the `rust` image's rustup installs it); the runtime stage is Debian
# slim with the binary, CA certificates (for the venues, the LLM providers and TLS databases),
# tini as PID 1 (SIGTERM reaches the bot, which finishes its cycle, saves and flushes) and the
# bundled sample data (the default replay feed), run as an unprivileged user (uid and gid 10001).
# The bot listens on 0.0.0.0 inside the container (TRADEGRAPH_LISTEN=0.0.0.0: the port is the
# instrument's, 8001 btc, 8002 banknifty, 8003 nifty) and keeps its spill and state files under
# /var/lib/tradegraph/.tradegraph, made in the image and owned by that user, so that a volume
# mounted there is writable.
#
# Docker is not available on the machines this repository is developed and tested on: the file
# is checked by `crates/tradegraph/tests/config/deploy.rs` (the stages, the user, the paths it
# copies, the binary it builds), not built. See README.md, "Containers".

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p tradegraph --bin tradegraph \
    && install -m 0755 target/release/tradegraph /usr/local/bin/tradegraph

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 tradegraph \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/tradegraph --create-home tradegraph \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/tradegraph/.tradegraph
COPY --from=build /usr/local/bin/tradegraph /usr/local/bin/tradegraph
COPY --chown=10001:10001 examples/data /var/lib/tradegraph/examples/data
USER 10001:10001
WORKDIR /var/lib/tradegraph
ENV TRADEGRAPH_LISTEN=0.0.0.0
EXPOSE 8001 8002 8003
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/tradegraph"]
CMD ["run", "--instrument", "btc"]
