"""Validate's checks of the rules AWS applies only when a resource is created. Nothing here creates anything.

``check`` refuses (PreflightError naming the field and a value that works) an input AWS would
refuse after other resources exist, and returns the warnings for what AWS accepts but the operator
should know:
- the image: AWS deprecates public images two years after creation (every Ubuntu 16.04 and 18.04
  image); a deprecated image still launches, and the warning names it.
"""

from ..aws import instances
from ..deployment import Deployment


def check(deployment: Deployment) -> list[str]:
    """The warnings; raises PreflightError for an input AWS would refuse."""
    return [warning for warning in (deprecated_image(deployment),) if warning]


def deprecated_image(deployment: Deployment) -> str | None:
    image = instances.image(deployment.options.ami_id, deployment.region)
    since = instances.deprecated_since(image) if image else None
    if since is None:
        return None
    return (
        f"the instances' image {image['ImageId']} ({image.get('Name')}) is deprecated since {since}: AWS deprecates public "
        "images two years after creation and lists them only when asked; instances still launch from it and install the "
        "available updates on first boot"
    )
