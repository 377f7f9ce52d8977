"""boto3 clients with standard retries (backoff with jitter) and timeouts, cached per process.

One botocore session is shared so service models load once per process (a cold start pays for
each service only once); client creation is locked because sessions are not thread-safe and
the local emulator runs parallel branches on threads.
"""

import threading
from functools import lru_cache

import boto3
import botocore.session
from botocore.config import Config

RETRY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 6},
    connect_timeout=5,
    read_timeout=30,
)
# For a create that takes no idempotency token (AllocateAddress): the SDK must not send it again after
# a lost answer, which may have created it; the caller looks it up instead.
SINGLE_ATTEMPT_CONFIG = RETRY_CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))

_lock = threading.Lock()
_session: boto3.session.Session | None = None
_loader = None  # botocore's parsed service models: kept across resets, they never change


def _shared_session() -> boto3.session.Session:
    global _session, _loader
    if _session is None:
        core = botocore.session.get_session()
        if _loader is None:
            _loader = core.get_component("data_loader")
        core.register_component("data_loader", _loader)
        _session = boto3.session.Session(botocore_session=core)
    return _session


@lru_cache(maxsize=64)
def _cached(service: str, region: str, retries: bool):
    return _shared_session().client(service, region_name=region, config=RETRY_CONFIG if retries else SINGLE_ATTEMPT_CONFIG)


def client(service: str, region: str, retries: bool = True):
    """The shared client; ``retries=False``: one that sends each call once (``SINGLE_ATTEMPT_CONFIG``)."""
    with _lock:
        return _cached(service, region, retries)


def reset() -> None:
    """Forget cached clients and credentials (tests start a fresh emulator per test)."""
    global _session
    with _lock:
        _cached.cache_clear()
        _session = None


def partition(region: str) -> str:
    """The ARN partition of a region: "aws", "aws-cn" or "aws-us-gov"."""
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def available_regions(service: str) -> list[str]:
    """Regions botocore knows for ``service`` in every partition (no API call; models load once)."""
    session = _shared_session()
    return [region for partition in session.get_available_partitions() for region in session.get_available_regions(service, partition)]
