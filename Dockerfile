# The Re-Connect CDS image that helm/reconnect deploys: built from this
# repository with Debian's packages, run as a non-root user on a slim base.
#   docker build -t reconnect-cds:0.1.0 .

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/setup scripts/setup
# The same package set as a developer's machine (scripts/setup).
RUN bash scripts/setup && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake --preset release \
 && cmake --build --preset release --target reconnect \
 && install -D -m 0755 build/release/reconnect /out/usr/local/bin/reconnect \
 && install -D -m 0644 build/release/proto/libreconnect_proto.so /out/usr/local/lib/libreconnect_proto.so

FROM debian:bookworm-slim
LABEL org.opencontainers.image.title="reconnect-cds" \
      org.opencontainers.image.description="Re-Connect clinical decision support (gRPC)"
# Runtime libraries only; no compiler, no shell tools beyond the base.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libgrpc++1.51 libprotobuf32 libabsl20220623 libre2-9 libsqlite3-0 libssl3 \
      libboost-url1.81.0 libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 \
      libpq5 libzstd1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 reconnect \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin reconnect \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/reconnect
COPY --from=build /out/ /
RUN ldconfig
# The bundled rule set; deployments may mount their own over /etc/reconnect/rules.
COPY rules /opt/reconnect/rules
USER 10001:10001
EXPOSE 50051 8081 9464
ENTRYPOINT ["/usr/local/bin/reconnect"]
CMD ["serve", "--rules=/opt/reconnect/rules/reconnect", "--listen=127.0.0.1:50051"]
