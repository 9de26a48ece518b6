# Qunyou worker image: slim Python, a non-root user, a health check on /healthz.
# Build: docker build -t qunyou .      Run: see compose.yaml and docs/deploy.md.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY handlers ./handlers
COPY storage ./storage
COPY bench ./bench
COPY web ./web
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin qunyou \
    && mkdir -p /data && chown qunyou /data

USER qunyou
# config.toml is mounted at /app/config.toml; SQLite (if used) lives in the /data volume.
VOLUME ["/data"]
EXPOSE 8080
# /healthz is served when [web] enabled or metrics is true, on [web] host/port (host "0.0.0.0" in a container).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run", "--config", "/app/config.toml"]
