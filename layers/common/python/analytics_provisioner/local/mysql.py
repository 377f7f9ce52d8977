"""The MySQL/MariaDB server that stands in for both RDS instances in local mode."""

import secrets
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlparse

import pymysql

from .. import mysql  # the library's SQL layer

LOCAL_ADMIN_PREFIX = "ap_admin_"
SYSTEM_DATABASES = frozenset({"mysql", "information_schema", "performance_schema", "sys"})

ACCESS_DENIED, CANNOT_CONNECT = 1045, 2003
HOW_TO_GET_ONE = (
    "no MySQL/MariaDB answers at {url}. Start one with "
    '`start-stop-daemon --start --oknodo --background --exec "$(command -v mariadbd)"` '
    "(Debian: `apt-get install -y mariadb-server` first), or "
    "`docker run -d -p 3306:3306 -e MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1 mariadb:11`, "
    "or point --mysql at another server"
)


@dataclass(frozen=True)
class MysqlServer:
    host: str
    port: int
    user: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> "MysqlServer":
        parsed = urlparse(url)
        if parsed.scheme not in ("mysql", "mariadb"):
            raise ValueError(f"a {parsed.scheme or 'schemeless'}:// URL is not a MySQL server: use e.g. mysql://root@127.0.0.1:3306")
        return cls(parsed.hostname or "127.0.0.1", parsed.port or 3306, unquote(parsed.username or "root"), unquote(parsed.password or ""))

    @property
    def url(self) -> str:
        """The ``--mysql`` URL of this server (it carries the password: never print it)."""
        secret = f":{quote(self.password, safe='')}" if self.password else ""
        return f"mysql://{quote(self.user, safe='')}{secret}@{self.host}:{self.port}"

    def connect(self, **kwargs):
        return pymysql.connect(host=self.host, port=self.port, user=self.user, password=self.password, connect_timeout=5, **kwargs)

    @property
    def display(self) -> str:
        """The URL without its password: what messages may show."""
        return f"mysql://{quote(self.user, safe='')}@{self.host}:{self.port}"

    def check(self) -> None:
        """The server answers and lets ``user`` in; else a RuntimeError saying which of the two failed."""
        try:
            self.connect().close()
        except pymysql.err.OperationalError as exc:
            code = exc.args[0] if exc.args else None
            if code == ACCESS_DENIED:
                raise RuntimeError(
                    f"MySQL at {self.display} answers but refuses user {self.user!r}: access denied "
                    "(check the user and password in --mysql; the password is not shown)"
                ) from None
            raise RuntimeError(HOW_TO_GET_ONE.format(url=self.display) + f" (MySQL error {code})") from None

    def create_admin(self, login: dict | None = None) -> dict:
        """A fresh admin user with a random password, one per emulator (RDS masters and edxapp admins
        never have empty passwords; emulators running side by side must not share one); ``login``
        gives the same admin to another server.

        Created for '%' and for every host an anonymous account names: MySQL matches the most specific
        host first, so a stock server's ''@'localhost' would otherwise refuse the admin's password."""
        user, password = (
            (login["username"], login["password"]) if login else (LOCAL_ADMIN_PREFIX + secrets.token_hex(4), secrets.token_urlsafe(24))
        )
        with self.connect() as connection, connection.cursor() as cursor:
            for host in ["%", *self._anonymous_hosts(cursor)]:
                cursor.execute("CREATE USER %s@%s IDENTIFIED BY %s", (user, host, password))
                cursor.execute("GRANT ALL PRIVILEGES ON *.* TO %s@%s WITH GRANT OPTION", (user, host))
        return {"host": self.host, "port": str(self.port), "username": user, "password": password}

    def drop_user(self, user: str) -> None:
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute("SELECT host FROM mysql.user WHERE user = %s", (user,))
            for (host,) in cursor.fetchall():
                cursor.execute("DROP USER IF EXISTS %s@%s", (user, host))

    @staticmethod
    def _anonymous_hosts(cursor) -> list[str]:
        cursor.execute("SELECT host FROM mysql.user WHERE user = '' AND host <> '%'")
        return [host for (host,) in cursor.fetchall()]

    def contents(self) -> "Contents":
        """The accounts and databases the server holds now."""
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute("SELECT user, host FROM mysql.user")
            users = frozenset((user, host) for user, host in cursor.fetchall())
            cursor.execute("SELECT schema_name FROM information_schema.schemata")
            databases = frozenset(name for (name,) in cursor.fetchall()) - SYSTEM_DATABASES
        return Contents(users, databases)

    def restore(self, kept: "Contents", spare_prefix: str | None = None) -> None:
        """Drop every account and database made since ``kept`` was taken (except accounts named with
        ``spare_prefix``: other emulators' admins on a shared server)."""
        now = self.contents()
        with self.connect() as connection, connection.cursor() as cursor:
            for user, host in sorted(now.users - kept.users):
                if not (spare_prefix and user.startswith(spare_prefix)):
                    cursor.execute("DROP USER IF EXISTS %s@%s", (user, host))
            for database in sorted(now.databases - kept.databases):
                cursor.execute(f"DROP DATABASE IF EXISTS {mysql.quote(database)}")  # a name the server listed


@dataclass(frozen=True)
class Contents:
    users: frozenset  # (user, host)
    databases: frozenset
