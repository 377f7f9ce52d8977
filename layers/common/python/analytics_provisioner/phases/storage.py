"""storage phase (issue #4): not implemented yet."""

from ..errors import ProvisionerError


def run(state: dict) -> dict:
    raise ProvisionerError("the storage phase is not implemented yet (issue #4)")
