"""Composition root of the api service: public gRPC servicers and the REST face."""

from __future__ import annotations

import os
from collections.abc import Callable

import structlog
from aiohttp import web

from levante.actions import ActionCatalogue
from levante.api.actions import ActionsServicer
from levante.api.authn import IDENTITY_PREFIX, keystone_app, rest_middleware
from levante.api.cron_triggers import CronTriggersServicer
from levante.api.definitions import Definitions
from levante.api.doctor import DoctorServicer
from levante.api.environments import EnvironmentsServicer
from levante.api.members import MembersServicer
from levante.api.namespaces import NamespacesServicer
from levante.api.redaction import Redactor
from levante.api.report_servicer import ReportsServicer
from levante.api.reports import Reports
from levante.api.rest import MistralRestFace
from levante.api.rest_extras import MistralRestExtras
from levante.api.servicers import (
    ActionExecutionsServicer,
    ExecutionsServicer,
    TasksServicer,
    WorkflowsServicer,
)
from levante.api.system import LocalServices, ServicesServicer
from levante.api.transcoder import Transcoder, loopback_target
from levante.api.watch import ExecutionEventsServicer, ExecutionWatcher
from levante.api.workbooks import WorkbooksServicer
from levante.doctor import Doctor
from levante.errors import UnavailableError
from levante.internal.v1 import engine_pb2_grpc
from levante.persistence.definitions import DefinitionRepository
from levante.persistence.environments import EnvironmentRepository
from levante.persistence.members import MemberRepository
from levante.persistence.repository import Repository
from levante.persistence.triggers import TriggerRepository
from levante.process import Shared
from levante.recovery_rules import RecoveryTiming
from levante.security import tls
from levante.security.internal import InternalMetadataInterceptor
from levante.security.limits import Limits
from levante.v2 import (
    action_execution_pb2,
    action_execution_pb2_grpc,
    action_pb2,
    action_pb2_grpc,
    cron_trigger_pb2,
    cron_trigger_pb2_grpc,
    doctor_pb2,
    doctor_pb2_grpc,
    environment_pb2,
    environment_pb2_grpc,
    event_pb2,
    event_pb2_grpc,
    execution_pb2,
    execution_pb2_grpc,
    member_pb2,
    member_pb2_grpc,
    namespace_pb2,
    namespace_pb2_grpc,
    report_pb2,
    report_pb2_grpc,
    service_pb2,
    service_pb2_grpc,
    task_pb2,
    task_pb2_grpc,
    workbook_pb2,
    workbook_pb2_grpc,
    workflow_pb2,
    workflow_pb2_grpc,
)

log = structlog.get_logger(__name__)


class ApiService:
    """Serves levante.v2 over gRPC and Mistral's v2 REST face."""

    grpc_services = (
        workflow_pb2.DESCRIPTOR.services_by_name["WorkflowsService"].full_name,
        execution_pb2.DESCRIPTOR.services_by_name["ExecutionsService"].full_name,
        task_pb2.DESCRIPTOR.services_by_name["TasksService"].full_name,
        action_execution_pb2.DESCRIPTOR.services_by_name["ActionExecutionsService"].full_name,
        action_pb2.DESCRIPTOR.services_by_name["ActionsService"].full_name,
        cron_trigger_pb2.DESCRIPTOR.services_by_name["CronTriggersService"].full_name,
        environment_pb2.DESCRIPTOR.services_by_name["EnvironmentsService"].full_name,
        member_pb2.DESCRIPTOR.services_by_name["MembersService"].full_name,
        namespace_pb2.DESCRIPTOR.services_by_name["NamespacesService"].full_name,
        service_pb2.DESCRIPTOR.services_by_name["ServicesService"].full_name,
        event_pb2.DESCRIPTOR.services_by_name["ExecutionEventsService"].full_name,
        report_pb2.DESCRIPTOR.services_by_name["ReportsService"].full_name,
        doctor_pb2.DESCRIPTOR.services_by_name["DoctorService"].full_name,
        workbook_pb2.DESCRIPTOR.services_by_name["WorkbooksService"].full_name,
    )

    def __init__(self, shared: Shared) -> None:
        settings = shared.settings
        self._shared = shared
        repository = Repository(shared.database)
        self.limits = limits = Limits.from_settings(settings.security)
        self._channel = tls.channel(
            settings.effective_engine_address,
            settings.security,
            interceptors=(
                [InternalMetadataInterceptor(shared.internal)] if shared.internal else None
            ),
        )
        engine = engine_pb2_grpc.EngineServiceStub(self._channel)
        self.workflows = WorkflowsServicer(repository, limits=limits)
        self.catalogue = ActionCatalogue.from_env(os.environ)
        # Secrets are masked in what the API shows; so are actions' @secret parameters.
        redactor = Redactor(shared.database, secret_parameters=self._secret_parameters)
        self.executions = ExecutionsServicer(repository, engine, limits=limits, redactor=redactor)
        self.tasks = TasksServicer(repository, engine, redactor=redactor)
        self.action_executions = ActionExecutionsServicer(
            repository, engine, limits=limits, redactor=redactor
        )
        # Workbooks and ad-hoc actions: the same layer under gRPC and the Mistral face.
        self.definitions = Definitions(
            DefinitionRepository(shared.database, repository), self.catalogue, limits=limits
        )
        self.actions = ActionsServicer(self.catalogue, definitions=self.definitions)
        self.cron_triggers = CronTriggersServicer(
            TriggerRepository(shared.database, repository), limits=limits
        )
        self.environments = EnvironmentsServicer(
            EnvironmentRepository(shared.database, repository), limits=limits
        )
        server = shared.grpc_server
        workflow_pb2_grpc.add_WorkflowsServiceServicer_to_server(self.workflows, server)
        execution_pb2_grpc.add_ExecutionsServiceServicer_to_server(self.executions, server)
        task_pb2_grpc.add_TasksServiceServicer_to_server(self.tasks, server)
        action_execution_pb2_grpc.add_ActionExecutionsServiceServicer_to_server(
            self.action_executions, server
        )
        action_pb2_grpc.add_ActionsServiceServicer_to_server(self.actions, server)
        cron_trigger_pb2_grpc.add_CronTriggersServiceServicer_to_server(self.cron_triggers, server)
        environment_pb2_grpc.add_EnvironmentsServiceServicer_to_server(self.environments, server)
        workbook_pb2_grpc.add_WorkbooksServiceServicer_to_server(
            WorkbooksServicer(self.definitions), server
        )
        self.members = MembersServicer(MemberRepository(shared.database))
        self.namespaces = NamespacesServicer(shared.database)
        self.services = ServicesServicer(
            LocalServices(shared.services, executor_target=shared.executor_target)
        )
        member_pb2_grpc.add_MembersServiceServicer_to_server(self.members, server)
        namespace_pb2_grpc.add_NamespacesServiceServicer_to_server(self.namespaces, server)
        service_pb2_grpc.add_ServicesServiceServicer_to_server(self.services, server)
        self.watcher = ExecutionWatcher(
            database=shared.database, jetstream=shared.jetstream, stopping=shared.stopping
        )
        event_pb2_grpc.add_ExecutionEventsServiceServicer_to_server(
            ExecutionEventsServicer(self.watcher), server
        )
        self.reports = Reports(shared.database, catalogue=self.catalogue)
        report_pb2_grpc.add_ReportsServiceServicer_to_server(ReportsServicer(self.reports), server)
        doctor = Doctor(
            shared.database, shared.jetstream, timing=RecoveryTiming.from_env(os.environ)
        )
        doctor_pb2_grpc.add_DoctorServiceServicer_to_server(DoctorServicer(doctor), server)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        settings = self._shared.settings
        face = MistralRestFace(
            workflows=self.workflows,
            executions=self.executions,
            tasks=self.tasks,
            action_executions=self.action_executions,
            actions=self.actions,
            cron_triggers=self.cron_triggers,
            environments=self.environments,
            definitions=self.definitions,
            # Every google.api.http rule, over a loopback channel to this process's gRPC server.
            transcoder=Transcoder(
                target=loopback_target(settings.bind_host, settings.grpc_port),
                channel=lambda target: tls.channel(target, settings.security),
            ),
            extra_routes=[
                MistralRestExtras(
                    members=self.members,
                    namespaces=self.namespaces,
                    services=self.services,
                    reports=self.reports,
                    watcher=self.watcher,
                ).add_routes,
                *self._identity_routes(),
            ],
            middlewares=(
                [rest_middleware(self._shared.authentication)]
                if self._shared.authentication is not None
                else []
            ),
        )
        self._runner = web.AppRunner(face.app(), access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner,
            settings.bind_host,
            settings.rest_port,
            reuse_address=True,
            ssl_context=tls.server_ssl_context(settings.security),
        )
        try:
            await site.start()
        except OSError as error:
            raise UnavailableError(
                f"cannot listen for REST on {settings.bind_host}:{settings.rest_port}: "
                f"{error.strerror or error} (set LEVANTE_REST_PORT)"
            ) from error
        scheme = "https" if settings.security.tls else "http"
        log.info(
            "REST face listening", url=f"{scheme}://{settings.bind_host}:{settings.rest_port}/v2"
        )

    def _secret_parameters(self, action_name: str) -> frozenset[str]:
        entry = self.catalogue.get(action_name)
        return entry.secret_parameters if entry is not None else frozenset()

    def _identity_routes(self) -> list[Callable[[web.Application], None]]:
        """The Keystone-compatible token check the mistral CLI uses, with authentication on."""
        authentication = self._shared.authentication
        if authentication is None:
            return []
        return [lambda app: app.add_subapp(IDENTITY_PREFIX, keystone_app(authentication))]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self._channel.close()
        self.catalogue.close()
        log.info("api stopped")
