"""analytics.pem: the private key of the analytics key pair (SSH to the instances and EMR)."""

from .context import RenderContext

NAME = "analytics.pem"


def render(ctx: RenderContext) -> str:
    return ctx.analytics_private_key.rstrip("\n") + "\n"
