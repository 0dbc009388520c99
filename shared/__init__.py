"""Levante: a workflow service compatible with OpenStack Mistral.

This package is the common core (`shared/` in the source tree): workflow
language, expressions, persistence, messaging, configuration and the
generated protobuf code. The services mount as `levante.api`,
`levante.engine`, `levante.executor` and `levante.scheduler`.
"""

__version__ = "0.1.0"
