# mxtls as a container: a static binary on an empty base image.
#
#   docker build -t mxtls .
#   docker run --rm mxtls check example.com
#   docker run --rm -e MXTLS_RESOLVER=9.9.9.9 mxtls check --json example.com
#
# The binary needs nothing from the image: the Mozilla roots are built in
# (webpki-roots), the IANA root trust anchor too; Docker provides
# /etc/resolv.conf (or name a resolver with --resolver / MXTLS_RESOLVER).
# Outbound port 25 must be open for the STARTTLS sessions.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# glibc, linked statically: one file that runs on any x86-64 Linux.
RUN RUSTFLAGS='-C target-feature=+crt-static' \
    cargo build --release --locked --bin mxtls --target x86_64-unknown-linux-gnu

FROM scratch
COPY --from=build /src/target/x86_64-unknown-linux-gnu/release/mxtls /mxtls
# Nobody: the scanner needs no privilege.
USER 65534:65534
ENTRYPOINT ["/mxtls"]
CMD ["--help"]
