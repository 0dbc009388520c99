"""`levante server`: builds the configured services into one process and runs them.

Order of start: broker (embedded nats-server unless LEVANTE_NATS_URL), database
(migrated when it is the embedded SQLite), streams, gRPC server, services.
SIGINT/SIGTERM stops it in reverse: health goes NOT_SERVING, the api stops
taking requests, executors finish what they run, the engine finishes its
batch, then gRPC, NATS (drained) and the child nats-server stop.
"""

from __future__ import annotations

import asyncio
import signal

import grpc
import structlog
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from levante import rpc
from levante.config import Settings
from levante.embedded import EmbeddedNats
from levante.errors import UnavailableError
from levante.expressions import budget
from levante.health import DependencyMonitor
from levante.messaging import jetstream
from levante.persistence import migrate
from levante.persistence.db import Database
from levante.process import Service, Shared
from levante.security import secrets, tls
from levante.security.auth import Authentication
from levante.security.internal import InternalAuthInterceptor, InternalCredentials

log = structlog.get_logger(__name__)


def check_schema(database: Database) -> None:
    """Migrates the embedded SQLite database; requires PostgreSQL to be at head already."""
    if database.is_sqlite:
        migrate.upgrade(database)
        return
    head = ScriptDirectory.from_config(migrate.alembic_config(database)).get_current_head()
    with database.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        raise UnavailableError(
            f"database schema is at {current or 'nothing'}, this version needs {head}: "
            "run `levante db upgrade` first"
        )


_START_ORDER = ("engine", "executor", "scheduler", "api")


def names_in_start_order(names: tuple[str, ...]) -> list[str]:
    """The named services in the order `build_services` builds them."""
    return [name for name in _START_ORDER if name in names]


def build_services(
    shared: Shared, names: tuple[str, ...], *, executor_target: str | None
) -> list[Service]:
    """Instantiates the named services (they register their gRPC servicers now)."""
    services: list[Service] = []
    # Start order matters (names_in_start_order): the engine consumes before
    # the api accepts starts.
    if "engine" in names:
        from levante.engine.main import EngineService

        services.append(EngineService(shared))
    if "executor" in names:
        from levante.executor.main import ExecutorService

        services.append(ExecutorService(shared, target=executor_target))
    if "scheduler" in names:
        from levante.scheduler.main import SchedulerService

        services.append(SchedulerService(shared))
    if "api" in names:
        from levante.api.main import ApiService

        services.append(ApiService(shared))
    from levante.telemetry import MetricsService

    services.append(MetricsService(shared))  # queue depth, /metrics on LEVANTE_METRICS_PORT
    return services


async def serve(
    settings: Settings,
    names: tuple[str, ...],
    *,
    executor_target: str | None = None,
    ready: asyncio.Event | None = None,
) -> None:
    """Runs the services until SIGINT/SIGTERM (or until `stop` is requested)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Hidden values are sealed with LEVANTE_ENCRYPTION_KEY (or the data dir's own key).
    secrets.configure(
        secrets.Vault.from_settings(settings.security.encryption_keys, settings.data_dir)
    )
    if not settings.security.encryption_keys and settings.database_url:
        log.warning(
            "LEVANTE_ENCRYPTION_KEY is not set: hidden values are sealed with a key kept in "
            "this process's data dir; every process sharing the database needs the same key"
        )
    # What one expression may take before its task fails.
    budget.configure(
        timeout=settings.security.expression_timeout,
        memory=settings.security.expression_memory_bytes,
    )
    broker: EmbeddedNats | None = None
    nats_url = settings.nats_url
    if nats_url is None:
        broker = EmbeddedNats(settings.data_dir)
        await broker.start()
        nats_url = broker.url
    database = Database(settings.effective_database_url)
    nc = None
    server = None
    started: list[Service] = []
    try:
        try:
            await asyncio.to_thread(check_schema, database)
        except SQLAlchemyError as error:
            where = database.url.split("@")[-1]
            raise UnavailableError(
                f"cannot use the database {where}: {error.orig or error}"
            ) from error
        try:
            # Reconnects are endless once connected; the first connection is not.
            nc = await asyncio.wait_for(
                jetstream.connect(nats_url, name=f"levante-{'+'.join(names)}"), timeout=20
            )
        except (Exception, TimeoutError) as error:
            reason = str(error) or f"no answer in 20 s ({type(error).__name__})"
            raise UnavailableError(f"cannot connect to NATS at {nats_url}: {reason}") from error
        js = nc.jetstream()
        await jetstream.ensure_streams(js, replicas=settings.nats_stream_replicas)
        # Users' tokens are checked where the public API is served; the engine's
        # internal service takes only the api's service credential.
        authentication = Authentication.from_settings(settings.security) if "api" in names else None
        internal = InternalCredentials.for_process(settings.security, names)
        interceptors: list[grpc.aio.ServerInterceptor] = []
        if internal is not None and "engine" in names:
            interceptors.append(InternalAuthInterceptor(internal))
        elif settings.security.auth_enabled and "engine" in names:
            log.warning(
                "the engine's internal gRPC service takes calls without a credential: set the "
                "same LEVANTE_ENCRYPTION_KEY on every process, or keep its port private"
            )
        if authentication is not None:
            from levante.api.authn import AuthInterceptor

            interceptors.append(AuthInterceptor(authentication))
        server, port = rpc.create_server(
            bind=f"{settings.bind_host}:{settings.grpc_port}",
            interceptors=interceptors,
            credentials=tls.server_credentials(settings.security),
        )
        shared = Shared(
            settings=settings,
            database=database,
            nats=nc,
            jetstream=js,
            grpc_server=server,
            stopping=stopping,
            services=names,
            executor_target=executor_target,
            authentication=authentication,
            internal=internal,
        )
        services = build_services(shared, names, executor_target=executor_target)
        grpc_names = [name for s in services for name in s.grpc_services]
        health = rpc.add_health_and_reflection(server, grpc_names)
        # Each service's health follows what it needs (the database, the broker).
        kinds = dict(zip(names_in_start_order(names), services, strict=False))
        dependencies = DependencyMonitor(
            health,
            {name: service.grpc_services for name, service in kinds.items()},
            database=database,
            nats=nc,
        )
        shared.dependencies = dependencies
        await dependencies.check()
        await server.start()
        for service in services:
            await service.start()
            started.append(service)
        monitor = asyncio.create_task(dependencies.run(stopping), name="dependency-monitor")
        log.info(
            "levante is up",
            services=",".join(names),
            grpc=f"{settings.bind_host}:{port}",
            nats=nats_url,
            database=database.url.split("@")[-1],
            authentication="on" if authentication is not None else "off",
            tls="on" if settings.security.tls else "off",
        )
        if ready is not None:
            ready.set()
        await stopping.wait()
        log.info("stopping")
        await monitor
        await rpc.set_not_serving(health)
    finally:
        # Also after a failed start: stop what did start, in reverse order.
        for service in reversed(started):
            try:
                await service.stop()
            except Exception:
                log.exception("a service did not stop cleanly")
        if server is not None:
            await server.stop(grace=5)
        if nc is not None and not nc.is_closed:
            try:
                await asyncio.wait_for(nc.drain(), timeout=5)
            except Exception:
                await nc.close()
        database.dispose()
        if broker is not None:
            await broker.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        log.info("stopped")
