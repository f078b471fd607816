# offhours in a container: a static-enough binary on a distroless base, run as a
# non-root user, the config mounted at /etc/offhours, the state in a volume.
#   docker build -t offhours .
#   docker run -d --name offhours -v /srv/offhours:/etc/offhours:ro \
#     -v offhours-state:/var/lib/offhours -e TZ=Europe/Berlin -e AWS_REGION=eu-central-1 offhours
#   docker kill --signal HUP offhours    # reload (validated first; a bad file is rejected)

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked \
    && mkdir -p /out/state \
    && cp target/release/offhours /out/offhours

# glibc, CA certificates and a non-root user (65532), nothing else: no shell.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/offhours /usr/local/bin/offhours
COPY --from=build --chown=65532:65532 /out/state /var/lib/offhours
ENV OFFHOURS_CONFIG=/etc/offhours/offhours.toml \
    STATE_DIRECTORY=/var/lib/offhours
VOLUME ["/var/lib/offhours"]
USER 65532:65532
# The binary is PID 1 and handles SIGTERM (finish in-flight actions, exit 0) and
# SIGHUP (reload) itself; it starts no child processes to reap.
STOPSIGNAL SIGTERM
# Healthy while the daemon's loop runs (it rewrites a heartbeat at least every 30 s).
HEALTHCHECK --interval=60s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/offhours", "health", "--max-age", "90s"]
ENTRYPOINT ["/usr/local/bin/offhours"]
CMD ["run"]
