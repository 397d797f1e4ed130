# PostgreSQL for deploy/compose.yaml, from the same Debian base as the nodes
# (Debian's postgresql-15), so the local setup needs one base image only.
# A production deployment uses its own managed PostgreSQL with a replica
# (docs/scale-out.md); this one is for a local trial.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY deploy/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
USER postgres
ENV PGDATA=/var/lib/postgresql/data PATH=/usr/lib/postgresql/15/bin:$PATH
EXPOSE 5432
ENTRYPOINT ["postgres-entrypoint"]
