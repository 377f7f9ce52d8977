"""dbsetup phase (issue #5): not implemented yet."""

from ..errors import ProvisionerError


def run(state: dict) -> dict:
    raise ProvisionerError("the dbsetup phase is not implemented yet (issue #5)")
