"""MySQL/MariaDB databases, users and grants over pymysql, declared as data and applied by one loop.

Portable to MySQL 8 and MariaDB: CREATE USER IF NOT EXISTS, then ALTER USER (IF NOT EXISTS leaves an
existing password alone, so ALTER USER is what converges it), then GRANT; never GRANT ... IDENTIFIED BY.

Nothing a caller passes can change a statement:
- database names cannot be bound, so they must match an allow-list, are backtick-quoted with
  backticks doubled, and in ``GRANT ... ON db.*`` their ``_`` and ``%`` (wildcards there) are escaped;
- everything else is bound with %s: user names and hosts (account names are string literals in
  MySQL's grammar), passwords and character sets. User names are checked against an allow-list too.

Passwords never leave: ``User.password`` is kept out of repr, and an error from a statement carrying a
password gives the MySQL error code only (a server message may quote the statement).
"""

import contextlib
import re
import secrets
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pymysql

from .errors import InputError, PreflightError, ProvisionerError, TransientAwsError

# Allow-lists: (pattern, what the error message asks for).
DATABASE_NAME = (re.compile(r"[A-Za-z0-9_-]{1,64}"), "1-64 letters, digits, '_' or '-'")
USER_NAME = (re.compile(r"[A-Za-z0-9_.-]{1,32}"), "1-32 letters, digits, '_', '.' or '-'")  # 32: MySQL 8's limit
HOST = (re.compile(r"[A-Za-z0-9.%_:-]{1,255}"), "a host name, an IP address or a pattern with '%'")
CHARSET = (re.compile(r"[a-z0-9_]{1,32}"), "a character set name such as 'utf8'")

PASSWORD_ALPHABET = string.ascii_letters + string.digits  # safe unquoted in YAML, JSON, shell, JDBC URLs
PASSWORD_LENGTH = 32  # ~190 bits

# Not reachable yet (fresh RDS DNS, security group), too many connections, lock timeouts, dropped links.
RETRYABLE_CODES = {1040, 1205, 1213, 2002, 2003, 2005, 2006, 2013}
# Bad login, or a login without the privilege a statement needs.
REFUSED_CODES = {1044, 1045, 1142, 1227, 1410, 1698}


def new_password() -> str:
    """A password from the operating system's CSPRNG."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def _require(rule: tuple[re.Pattern, str], value, what: str) -> None:
    pattern, expected = rule
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InputError(f"{what} {value!r} is not allowed: use {expected}")


def check_user_name(name) -> None:
    _require(USER_NAME, name, "user name")


@dataclass(frozen=True)
class Server:
    """Where to connect and as whom; ``label`` says which server it is, for error messages."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    label: str = "MySQL server"

    def __str__(self) -> str:
        return f"{self.label} at {self.host}:{self.port}"


@dataclass(frozen=True)
class Database:
    name: str
    charset: str = "utf8"

    def __post_init__(self):
        _require(DATABASE_NAME, self.name, "database name")
        _require(CHARSET, self.charset, "character set")


@dataclass(frozen=True)
class User:
    """An account, its password and its privileges. ``exact_privileges`` revokes whatever else it holds."""

    name: str
    password: str = field(repr=False)
    all_on: tuple[str, ...] = ()
    select_everything: bool = False
    exact_privileges: bool = False
    host: str = "%"

    def __post_init__(self):
        check_user_name(self.name)
        _require(HOST, self.host, "host")
        if not isinstance(self.password, str) or not self.password:
            raise InputError(f"user {self.name!r} needs a non-empty password")
        for name in self.all_on:
            _require(DATABASE_NAME, name, "database name")

    def __str__(self) -> str:
        return f"'{self.name}'@'{self.host}'"


def quote(identifier: str) -> str:
    """A backtick-quoted identifier: backticks inside are doubled."""
    return "`" + identifier.replace("`", "``") + "`"


def grant_pattern(database: str) -> str:
    """The database name as GRANT reads it: ``_`` and ``%`` are wildcards there, so escape them."""
    return re.sub(r"([\\_%])", r"\\\1", database)


@contextlib.contextmanager
def session(server: Server) -> Iterator:
    """An autocommit cursor on ``server``; errors inside name the server.

    pymysql upgrades to TLS whenever the server offers it (RDS does), without verifying the
    certificate: no CA bundle is shipped.
    """
    try:
        connection = pymysql.connect(
            host=server.host,
            port=server.port,
            user=server.username,
            password=server.password,
            autocommit=True,
            charset="utf8mb4",
            connect_timeout=10,
            read_timeout=60,
            write_timeout=60,
        )
    except pymysql.err.MySQLError as exc:
        raise _typed(exc, f"{server}: log in as {server.username!r}", carries_password=False) from None
    try:
        with connection.cursor() as cursor:
            yield cursor
    except ProvisionerError as exc:
        raise type(exc)(f"{server}: {exc}") from None
    finally:
        connection.close()


def apply(cursor, databases: Iterable[Database], users: Iterable[User]) -> None:
    """Create the databases, then each user with its password and privileges. Safe to repeat."""
    for database in databases:
        create_database(cursor, database)
    for user in users:
        ensure_user(cursor, user)
        if user.exact_privileges:
            revoke_everything(cursor, user)
        for name in user.all_on:
            grant_all(cursor, name, user)
        if user.select_everything:
            grant_select_everything(cursor, user)


def create_database(cursor, database: Database) -> None:
    execute(
        cursor,
        f"create database {quote(database.name)}",
        "CREATE DATABASE IF NOT EXISTS {} CHARACTER SET %s",
        [database.name],
        (database.charset,),
    )


def ensure_user(cursor, user: User) -> None:
    account = (user.name, user.host)
    execute(
        cursor,
        f"create user {user}",
        "CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s",
        values=(*account, user.password),
        carries_password=True,
    )
    execute(
        cursor, f"set the password of {user}", "ALTER USER %s@%s IDENTIFIED BY %s", values=(*account, user.password), carries_password=True
    )


def user_exists(cursor, name: str, host: str = "%") -> bool:
    """Whether the account exists (read from mysql.user: the logins we use may read it)."""
    check_user_name(name)
    _require(HOST, host, "host")
    execute(cursor, f"look up user '{name}'@'{host}'", "SELECT COUNT(*) FROM mysql.user WHERE user = %s AND host = %s", values=(name, host))
    return cursor.fetchone()[0] > 0


def drop_user(cursor, name: str, host: str = "%") -> None:
    """Drop the account if it exists (for users whose ownership the caller has checked)."""
    check_user_name(name)
    _require(HOST, host, "host")
    execute(cursor, f"drop user '{name}'@'{host}'", "DROP USER IF EXISTS %s@%s", values=(name, host))


def revoke_everything(cursor, user: User) -> None:
    execute(cursor, f"revoke the privileges of {user}", "REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s@%s", values=(user.name, user.host))


def grant_all(cursor, database: str, user: User) -> None:
    _require(DATABASE_NAME, database, "database name")
    execute(
        cursor,
        f"grant ALL on {quote(database)} to {user}",
        "GRANT ALL PRIVILEGES ON {}.* TO %s@%s",
        [grant_pattern(database)],
        (user.name, user.host),
    )


def grant_select_everything(cursor, user: User) -> None:
    execute(cursor, f"grant SELECT on everything to {user}", "GRANT SELECT ON *.* TO %s@%s", values=(user.name, user.host))


def execute(cursor, doing: str, template: str, identifiers: Iterable[str] = (), values: tuple = (), carries_password: bool = False) -> None:
    """Every statement goes through here: identifiers quoted into the text at ``{}``, values bound at ``%s``."""
    # Values are always passed, so pymysql %-formats the text: a % inside a quoted identifier must be %%.
    statement = template.format(*(quote(name).replace("%", "%%") for name in identifiers))
    try:
        cursor.execute(statement, values)
    except pymysql.err.MySQLError as exc:
        raise _typed(exc, doing, carries_password) from None


def _typed(exc: pymysql.err.MySQLError, doing: str, carries_password: bool) -> ProvisionerError:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    detail = f"MySQL error {code}"
    if not carries_password and len(exc.args) > 1:
        detail += f": {exc.args[1]}"
    if code in RETRYABLE_CODES:
        return TransientAwsError(
            f"{doing}: {detail}; if it persists, check that the function's subnets and security group reach the server"
        )
    if code in REFUSED_CODES:
        return PreflightError(
            f"{doing}: {detail}; check the credentials and that this login may create databases and users and grant privileges"
        )
    return ProvisionerError(f"{doing}: {detail}")
