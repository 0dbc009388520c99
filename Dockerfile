# Levante's container image: every service (`levante server --services ...`),
# the migration (`levante db upgrade`) and the CLI. Multi-stage: the build
# stage installs the package into a virtualenv and builds the protos'
# descriptor set for the Envoy gateway; the runtime stage is python slim with
# that virtualenv only, running as an unprivileged user. See
# helm/levante/README.md ("Container image") for building and pushing it.
#
#   docker build -t registry.example.com/levante:0.1.0 .

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY shared shared
COPY services services
COPY migrations migrations
COPY protos protos
COPY scripts/proto_descriptor.py scripts/proto_descriptor.py
# The package and its dependencies, in the virtualenv the runtime stage copies.
RUN python -m venv /opt/levante/venv \
    && /opt/levante/venv/bin/pip install --no-cache-dir /src
# The descriptor set of the public protos (with their imports) for Envoy's
# gRPC-JSON transcoder; the generator is pinned as in pyproject.toml.
RUN python -m venv /tmp/protoc \
    && /tmp/protoc/bin/pip install --no-cache-dir grpcio-tools==1.85.1 googleapis-common-protos==1.76.0 \
    && /tmp/protoc/bin/python scripts/proto_descriptor.py /opt/levante/descriptors/levante.pb

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="Levante" \
      org.opencontainers.image.description="Workflow service compatible with OpenStack Mistral" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/levante/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LEVANTE_BIND_HOST=0.0.0.0 \
    LEVANTE_DATA_DIR=/var/lib/levante
# The same uid/gid the Helm chart's security context sets.
RUN groupadd --system --gid 10001 levante \
    && useradd --system --uid 10001 --gid levante --home-dir /var/lib/levante \
       --no-create-home --shell /usr/sbin/nologin levante \
    && mkdir -p /var/lib/levante \
    && chown levante:levante /var/lib/levante
COPY --from=build /opt/levante /opt/levante
USER 10001:10001
WORKDIR /var/lib/levante
EXPOSE 8989 50051
ENTRYPOINT ["levante"]
CMD ["server"]
