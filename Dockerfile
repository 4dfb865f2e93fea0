# azrecon as a container job: a static binary on a distroless base that carries a CA bundle
# (azure_core's TLS needs root certificates at start) and runs as a non-root user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --locked --target x86_64-unknown-linux-gnu \
 && strip target/x86_64-unknown-linux-gnu/release/azrecon

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/target/x86_64-unknown-linux-gnu/release/azrecon /usr/local/bin/azrecon
# In a container the target is Azure itself; the embedded emulator is for laptops and tests.
ENV AZRECON_CLOUD=public
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/azrecon"]
CMD ["reconcile", "--dry-run", "-f", "/manifests"]
