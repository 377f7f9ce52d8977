"""Constants and helpers shared by tests (import as ``from testkit import ...``)."""

import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EVENTS = REPO / "events"
MYSQL_URL = os.environ.get("ANALYTICS_PROVISIONER_TEST_MYSQL", "mysql://root@127.0.0.1:3306")
REGION = "us-east-1"


def load_event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())
