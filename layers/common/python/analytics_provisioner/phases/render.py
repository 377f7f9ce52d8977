"""render phase (issue #7): not implemented yet."""

from ..errors import ProvisionerError


def run(state: dict) -> dict:
    raise ProvisionerError("the render phase is not implemented yet (issue #7)")
