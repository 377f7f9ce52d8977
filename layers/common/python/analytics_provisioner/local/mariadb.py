"""A throwaway MariaDB server: its own data directory and loopback address, gone when closed.

Every test process gets one (pytest -n workers never share the runbook's fixed MySQL user names,
so they need not take turns), and nothing is left on the machine's own server. It listens on port
3306, the port RDS gives the pipeline, of a loopback address of its own (127.0.0.2 to 127.0.0.254).
"""

import os
import shutil
import socket
import subprocess  # nosec B404  # runs the local MariaDB binaries, never input
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from secrets import SystemRandom

import pymysql

from .mysql import Contents, MysqlServer

PORT = 3306
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin"])
START_SECONDS = 30
SERVER_OPTIONS = [  # a test server: small, fast, nothing durable
    "--skip-log-bin",
    "--skip-name-resolve",
    "--innodb-buffer-pool-size=32M",
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=0",
    "--max-connections=300",
]


class NoMariaDB(RuntimeError):
    pass


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name, path=SEARCH_PATH)
        if found:
            return found
    raise NoMariaDB(
        f"{names[0]} is not installed: `apt-get install -y mariadb-server` (the tests start throwaway "
        "MariaDB servers), or point ANALYTICS_PROVISIONER_TEST_MYSQL at a server (mysql://user:password@host:port)"
    )


def _as_root() -> list[str]:
    return ["--user=root"] if os.geteuid() == 0 else []  # mariadbd refuses root unless told


def _install(data_dir: Path, log, attempts: int = 3) -> None:
    """A fresh data directory. mariadb-install-db now and then exits 1 on a loaded machine (its bootstrap
    server); a fresh try in an empty directory succeeds, so it gets ``attempts``, then its log is shown."""
    command = [
        _binary("mariadb-install-db", "mysql_install_db"),
        "--no-defaults",
        f"--datadir={data_dir}",
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
        *_as_root(),
    ]
    for attempt in range(1, attempts + 1):
        try:
            subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=True, timeout=120)  # nosec B603  # the installed MariaDB binary, a fixed argument list
            return
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            shutil.rmtree(data_dir, ignore_errors=True)
            if attempt == attempts:
                log.flush()
                raise NoMariaDB(
                    f"mariadb-install-db failed {attempts} times; its log: " + Path(log.name).read_text(errors="replace")[-2000:]
                ) from None


def _free_addresses() -> Iterator[str]:
    """Loopback addresses whose port 3306 nobody listens on, in random order (test processes start side by side)."""
    for last in SystemRandom().sample(range(2, 255), 253):  # spreads test processes over addresses
        address = f"127.0.0.{last}"
        with socket.socket() as probe:
            try:
                probe.bind((address, PORT))
            except OSError:
                continue
        yield address


def _answers(address: str) -> bool:
    try:
        pymysql.connect(host=address, port=PORT, user="root", password="", connect_timeout=1).close()  # nosec B106  # the throwaway server's root has no password and listens on loopback only
        return True
    except pymysql.err.OperationalError:
        return False


def _start(root: Path, address: str, log) -> subprocess.Popen | None:
    command = [
        _binary("mariadbd", "mysqld"),
        "--no-defaults",
        f"--datadir={root / 'data'}",
        f"--socket={root / 'socket'}",
        f"--pid-file={root / 'pid'}",
        f"--bind-address={address}",
        f"--port={PORT}",
        *SERVER_OPTIONS,
        *_as_root(),
    ]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # nosec B603  # the installed MariaDB binary, a fixed argument list
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        if _answers(address):
            return process
        time.sleep(0.1)
    _stop(process)
    return None


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def throwaway_server(attempts: int = 5) -> Iterator[MysqlServer]:
    """A fresh MariaDB whose root (no password) is reachable on this loopback address only; removed on exit."""
    with tempfile.TemporaryDirectory(prefix="ap-mariadb-") as directory:
        root = Path(directory)
        with open(root / "server.log", "wb") as log:
            _install(root / "data", log)
            for address, _ in zip(_free_addresses(), range(attempts), strict=False):
                process = _start(root, address, log)
                if process:
                    try:
                        yield MysqlServer(address, PORT, "root", "")
                    finally:
                        _stop(process)
                    return
        raise NoMariaDB(
            f"a throwaway MariaDB did not start in {attempts} tries; its log: " + (root / "server.log").read_text(errors="replace")[-2000:]
        )


class ServerPool:
    """Throwaway servers lent one at a time and wiped when returned (starting one takes seconds, a
    wipe milliseconds): the emulator gives each RDS instance a workflow creates a server of its own."""

    def __init__(self):
        self._idle: list[tuple[MysqlServer, Contents]] = []
        self._stack = ExitStack()

    @contextmanager
    def server(self) -> Iterator[MysqlServer]:
        if self._idle:
            server, pristine = self._idle.pop()
        else:
            server = self._stack.enter_context(throwaway_server())
            pristine = server.contents()
        yield server
        server.restore(pristine)  # a server that fails here is not lent again
        self._idle.append((server, pristine))

    def close(self) -> None:
        self._stack.close()
