"""Hostile names and passwords cannot change a statement; no password reaches an error message."""

import traceback

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics_provisioner import mysql
from analytics_provisioner.errors import InputError, PreflightError, ProvisionerError, TransientAwsError
from analytics_provisioner.phases.dbsetup import analytics_server_objects

HOSTILE_PASSWORD = "a'b\"c\\d`e%f_g;-- h"
HOSTILE_NAMES = ["a'b", 'a"b', "a\\b", "a`b", "a%b", "a;b", "a -- b", "a/*b", "a b", "a@b", "", "a" * 65, "é", "a\nb", "a\x00b"]
# Beyond the allow-list: what the quoting alone must carry into a statement unchanged.
QUOTING_ONLY = ["x'y", 'x"y', "x\\y", "x`y", "x``y", "x%y", "x%sy", "x_y", "x;y -- z", "x`; DROP DATABASE `z"]


def test_a_hostile_password_works_for_login(admin, prefix, login):
    user = mysql.User(f"{prefix}u", HOSTILE_PASSWORD)
    with mysql.session(admin) as cursor:
        mysql.apply(cursor, [], [user])
    login(user.name, HOSTILE_PASSWORD).close()


def test_a_hostile_password_works_without_backslash_escapes(admin, prefix, login):
    """With NO_BACKSLASH_ESCAPES a backslash-escaped value would break out of its quotes: the driver adapts."""
    user = mysql.User(f"{prefix}u", HOSTILE_PASSWORD)
    with mysql.session(admin) as cursor:
        cursor.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")
        mysql.apply(cursor, [], [user])
    login(user.name, HOSTILE_PASSWORD).close()


def test_a_hostile_migration_password_works_for_login(admin, prefix, login):
    objects = analytics_server_objects(
        mysql.new_password(), (f"{prefix}mig", HOSTILE_PASSWORD), databases=(f"{prefix}-reports",), analytics_user=f"{prefix}an"
    )
    with mysql.session(admin) as cursor:
        mysql.apply(cursor, *objects)
    with login(f"{prefix}mig", HOSTILE_PASSWORD, database=f"{prefix}-reports").cursor() as cursor:
        cursor.execute("CREATE TABLE probe (id INT)")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=126), min_size=1, max_size=40))
def test_any_ascii_password_works_for_login(admin, prefix, login, password):
    user = mysql.User(f"{prefix}h", password)
    with mysql.session(admin) as cursor:
        mysql.apply(cursor, [], [user])
    login(user.name, password).close()


@pytest.mark.parametrize("name", HOSTILE_NAMES + ["a.b"])
def test_hostile_database_names_are_refused_before_any_statement(name):
    with pytest.raises(InputError, match="database name"):
        mysql.Database(name)
    with pytest.raises(InputError, match="database name"):
        mysql.User("someone", "pw", all_on=(name,))
    with pytest.raises(InputError, match="database name"):
        mysql.grant_all(cursor=None, database=name, user=mysql.User("someone", "pw"))  # no cursor needed: refused first


@pytest.mark.parametrize("name", HOSTILE_NAMES + ["a" * 33])
def test_hostile_user_names_are_refused_before_any_statement(name):
    with pytest.raises(InputError, match="user name"):
        mysql.User(name, "pw")


@pytest.mark.parametrize("host", ["a'b", "a`b", "a b", "", "a;b"])
def test_hostile_hosts_are_refused(host):
    with pytest.raises(InputError, match="host"):
        mysql.User("someone", "pw", host=host)


def test_an_empty_password_is_refused():
    with pytest.raises(InputError, match="password"):
        mysql.User("someone", "")


def test_the_hostile_names_of_the_issue_are_refused_by_the_phase(prefix):
    with pytest.raises(InputError):
        analytics_server_objects("pw", (f"{prefix}mig';--", "pw"), databases=(f"{prefix}-reports",))
    with pytest.raises(InputError):
        analytics_server_objects("pw", (f"{prefix}mig", "pw"), databases=(f"{prefix}`; DROP DATABASE x; --",))


@pytest.mark.parametrize("suffix", QUOTING_ONLY)
def test_quoting_alone_keeps_any_name_inside_its_identifier(admin, prefix, login, refused, suffix):
    """Defence in depth: even names the allow-list refuses cannot leave their backticks or widen a grant."""
    name, sentinel, user = prefix + suffix, f"{prefix}z", mysql.User(f"{prefix}u", mysql.new_password())
    with mysql.session(admin) as cursor:
        mysql.execute(cursor, "create the sentinel", "CREATE DATABASE {}", [sentinel])
        mysql.execute(cursor, "create", "CREATE DATABASE {}", [name])
        mysql.ensure_user(cursor, user)
        mysql.execute(cursor, "grant", "GRANT ALL PRIVILEGES ON {}.* TO %s@%s", [mysql.grant_pattern(name)], (user.name, user.host))
        cursor.execute("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE CONCAT(%s, '%%')", (prefix,))
        assert sorted(row[0] for row in cursor.fetchall()) == sorted([name, sentinel])
    connection = login(user.name, user.password)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {mysql.quote(name)}.probe (id INT)")
    assert refused(connection, f"CREATE TABLE {mysql.quote(sentinel)}.probe (id INT)") in {1044, 1142}


def test_grant_patterns_escape_the_wildcards():
    assert mysql.quote("a`b") == "`a``b`"
    assert mysql.grant_pattern("analytics_api") == "analytics\\_api"
    assert mysql.grant_pattern("a%b") == "a\\%b"
    assert mysql.grant_pattern("analytics-api") == "analytics-api"


def _everything_said(exc: BaseException) -> str:
    return str(exc) + repr(exc) + "".join(traceback.format_exception(exc))


def test_a_refused_statement_never_reports_the_password(admin, prefix):
    weak = mysql.Server(admin.host, admin.port, f"{prefix}weak", mysql.new_password(), label="a weak login")
    with mysql.session(admin) as cursor:
        cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (weak.username, weak.password))
        cursor.execute("GRANT SELECT ON *.* TO %s@'%%'", (weak.username,))
    with pytest.raises(PreflightError) as raised, mysql.session(weak) as cursor:
        mysql.ensure_user(cursor, mysql.User(f"{prefix}victim", HOSTILE_PASSWORD))
    said = _everything_said(raised.value)
    assert "a weak login at" in said and "MySQL error 1227" in said
    assert "Access denied" not in said  # the server's own text is dropped: it may quote the statement
    assert HOSTILE_PASSWORD not in said and "a'b" not in said and weak.password not in said
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_refused_grant_says_why(admin, prefix):
    """Statements without a password keep the server's explanation."""
    weak = mysql.Server(admin.host, admin.port, f"{prefix}weak", mysql.new_password(), label="a weak login")
    with mysql.session(admin) as cursor:
        cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (weak.username, weak.password))
    with pytest.raises(ProvisionerError) as raised, mysql.session(weak) as cursor:
        mysql.create_database(cursor, mysql.Database(f"{prefix}-db"))
    assert "Access denied" in str(raised.value) and f"`{prefix}-db`" in str(raised.value)


def test_a_wrong_admin_password_is_permanent_and_not_repeated(admin, prefix):
    wrong = mysql.Server(admin.host, admin.port, f"{prefix}nobody", HOSTILE_PASSWORD, label="the analytics RDS x")
    with pytest.raises(PreflightError) as raised, mysql.session(wrong):
        pass
    said = _everything_said(raised.value)
    assert "the analytics RDS x at" in said and "1045" in said and HOSTILE_PASSWORD not in said


def test_an_unreachable_server_is_transient():
    closed_port = mysql.Server("127.0.0.1", 1, "admin", HOSTILE_PASSWORD, label="the edxapp database server")
    with pytest.raises(TransientAwsError) as raised, mysql.session(closed_port):
        pass
    assert "2003" in str(raised.value) and HOSTILE_PASSWORD not in _everything_said(raised.value)


def test_server_and_user_reprs_hide_passwords():
    assert HOSTILE_PASSWORD not in repr(mysql.Server("h", 1, "u", HOSTILE_PASSWORD))
    assert HOSTILE_PASSWORD not in repr(mysql.User("u", HOSTILE_PASSWORD))
