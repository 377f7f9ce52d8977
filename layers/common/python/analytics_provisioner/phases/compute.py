"""compute phase (issue #6): not implemented yet."""

from ..errors import ProvisionerError


def run(state: dict) -> dict:
    raise ProvisionerError("the compute phase is not implemented yet (issue #6)")
