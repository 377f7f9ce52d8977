"""network phase (issue #3): not implemented yet."""

from ..errors import ProvisionerError


def run(state: dict) -> dict:
    raise ProvisionerError("the network phase is not implemented yet (issue #3)")
