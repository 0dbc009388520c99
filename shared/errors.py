"""The domain error tree.

Errors carry keyword-only context and no transport codes; the gRPC
interceptor and the REST router each map them once (`levante.rpc`,
`levante.api.rest`). As in Mistral, "the user gave us something wrong"
(`InputError` and below) is kept apart from "a bug or the environment"
(`InternalError`).
"""

from __future__ import annotations

from dataclasses import dataclass

from levante.language.spec import Position


class LevanteError(Exception):
    """Root of every error Levante raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(LevanteError):
    """The caller's input is wrong; retrying it unchanged fails again."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in a definition: what, where (path), and the text position."""

    message: str
    path: str = ""
    position: Position | None = None

    def __str__(self) -> str:
        where = f" [{self.path}]" if self.path else ""
        at = f" (line {self.position.line}, column {self.position.column})" if self.position else ""
        return f"{self.message}{where}{at}"


class DefinitionError(InputError):
    """A definition text could not be parsed or is not valid.

    `issues` lists every problem found, each with its path and position.
    """

    def __init__(self, message: str, *, issues: tuple[Issue, ...] = ()) -> None:
        super().__init__(message)
        self.issues = issues


class WorkflowInputError(InputError):
    """Workflow input is missing required parameters or has unknown ones."""


class NotFoundError(LevanteError):
    """The named resource does not exist (or is not visible to the caller)."""


class AlreadyExistsError(LevanteError):
    """A resource with the same identity exists already."""


class ForbiddenError(LevanteError):
    """The operation is not allowed on this resource as it is (Mistral answers 403)."""


class FailedPreconditionError(LevanteError):
    """The resource is not in a state that allows the operation."""


class UnauthenticatedError(LevanteError):
    """The request carries no credentials, or credentials that do not verify (HTTP 401)."""


class PayloadTooLargeError(InputError):
    """A definition, input or body is larger than the configured limit (HTTP 413)."""


class RateLimitedError(LevanteError):
    """The caller's project is over its rate limit; retry after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ExpressionError(LevanteError):
    """An expression failed to parse or to evaluate.

    At run time this fails the task that evaluated it, with the message as
    the task's state_info; it is never an API error.
    """

    def __init__(self, message: str, *, expression: str) -> None:
        super().__init__(message)
        self.expression = expression


class InternalError(LevanteError):
    """A bug or an environment failure; the caller may retry."""


class UnavailableError(InternalError):
    """A dependency (database, broker, another service) is not reachable."""
