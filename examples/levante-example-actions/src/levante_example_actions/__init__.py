"""Example Levante action plugin: `example.greet` and `example.checksum`."""

from levante_example_actions.actions import ChecksumAction, GreetAction

__all__ = ["ChecksumAction", "GreetAction"]
