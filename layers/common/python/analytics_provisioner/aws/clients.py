"""boto3 clients with standard retries (backoff with jitter) and timeouts, cached per process."""

from functools import lru_cache

import boto3
from botocore.config import Config

RETRY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 6},
    connect_timeout=5,
    read_timeout=30,
)


@lru_cache(maxsize=64)
def client(service: str, region: str):
    return boto3.session.Session().client(service, region_name=region, config=RETRY_CONFIG)


def reset() -> None:
    """Forget cached clients (tests start a fresh emulator per test)."""
    client.cache_clear()
