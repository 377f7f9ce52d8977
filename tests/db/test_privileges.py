"""The phase's database objects, under this test's names, applied to the real MariaDB: log in as each
user and check what it may and may not do; re-running converges and changes nothing."""

import pytest

from analytics_provisioner import mysql
from analytics_provisioner.phases.dbsetup import ANALYTICS_DATABASES, analytics_server_objects, edxapp_server_objects

# Refused: access denied (MariaDB's answer to a GRANT without the privilege), to a database, to a table,
# for lack of a global privilege.
DENIED = {1045, 1044, 1142, 1227}


@pytest.fixture
def names(prefix) -> dict:
    return {
        "databases": tuple(f"{prefix}-{name}" for name in ANALYTICS_DATABASES),  # keeps the '-' of analytics-api
        "analytics": f"{prefix}an",
        "migration": f"{prefix}mig",
        "read_only": f"{prefix}ro",
    }


@pytest.fixture
def passwords() -> dict:
    return {"analytics": mysql.new_password(), "migration": mysql.new_password(), "read_only": mysql.new_password()}


def apply_analytics(admin, names, passwords) -> None:
    objects = analytics_server_objects(
        passwords["analytics"],
        (names["migration"], passwords["migration"]),
        databases=names["databases"],
        analytics_user=names["analytics"],
    )
    with mysql.session(admin) as cursor:
        mysql.apply(cursor, *objects)


def apply_edxapp(admin, names, passwords) -> None:
    with mysql.session(admin) as cursor:
        mysql.apply(cursor, *edxapp_server_objects(passwords["read_only"], user=names["read_only"]))


def create_table(connection, database: str, table: str = "probe") -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {mysql.quote(database)}.{table} (id INT PRIMARY KEY)")
        cursor.execute(f"INSERT INTO {mysql.quote(database)}.{table} VALUES (1)")
        cursor.execute(f"DROP TABLE {mysql.quote(database)}.{table}")


def snapshot(admin, prefix) -> dict:
    """Every user and database under the prefix, with its definition, password hash and grants."""
    with mysql.session(admin) as cursor:
        cursor.execute("SELECT user, host FROM mysql.user WHERE user LIKE CONCAT(%s, '%%') ORDER BY user", (prefix,))
        accounts = cursor.fetchall()
        found = {}
        for user, host in accounts:
            cursor.execute("SHOW CREATE USER %s@%s", (user, host))
            found[f"user {user}"] = cursor.fetchall()
            cursor.execute("SHOW GRANTS FOR %s@%s", (user, host))
            found[f"grants {user}"] = sorted(cursor.fetchall())
        cursor.execute("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE CONCAT(%s, '%%') ORDER BY 1", (prefix,))
        for (name,) in cursor.fetchall():
            cursor.execute(f"SHOW CREATE DATABASE {mysql.quote(name)}")
            found[f"database {name}"] = cursor.fetchall()
    return found


def test_databases_have_the_runbooks_character_set(admin, names, passwords):
    apply_analytics(admin, names, passwords)
    with mysql.session(admin) as cursor:
        cursor.execute(
            "SELECT schema_name, default_character_set_name FROM information_schema.schemata WHERE schema_name IN %s", (names["databases"],)
        )
        charsets = dict(cursor.fetchall())
    assert set(charsets) == set(names["databases"])
    assert set(charsets.values()) <= {"utf8", "utf8mb3"}  # MariaDB and MySQL 8 call utf8 utf8mb3


def test_analytics_user_owns_its_databases_and_nothing_else(admin, names, passwords, login, refused, prefix):
    apply_analytics(admin, names, passwords)
    dashboard, api, reports = names["databases"]
    analytics = login(names["analytics"], passwords["analytics"])
    for database in (reports, dashboard, api):
        create_table(analytics, database)
    assert refused(analytics, "SELECT user FROM mysql.user") in DENIED
    assert refused(analytics, f"CREATE DATABASE {mysql.quote(prefix + '-other')}") in DENIED
    assert refused(analytics, "CREATE USER %s@'%%' IDENTIFIED BY 'x'", (f"{prefix}new",)) in DENIED


def test_migration_user_can_create_tables_in_all_three_databases(admin, names, passwords, login, refused):
    apply_analytics(admin, names, passwords)
    migration = login(names["migration"], passwords["migration"])
    for database in names["databases"]:
        create_table(migration, database)
    assert refused(migration, "SELECT user FROM mysql.user") in DENIED


def test_read_only_user_can_select_everything_and_change_nothing(admin, names, passwords, login, refused, prefix):
    other = f"{prefix}-edxapp"
    with mysql.session(admin) as cursor:
        cursor.execute(f"CREATE DATABASE {mysql.quote(other)}")
        cursor.execute(f"CREATE TABLE {mysql.quote(other)}.courses (id INT PRIMARY KEY)")
        cursor.execute(f"INSERT INTO {mysql.quote(other)}.courses VALUES (7)")
    apply_edxapp(admin, names, passwords)
    read_only = login(names["read_only"], passwords["read_only"], database=other)
    with read_only.cursor() as cursor:
        cursor.execute("SELECT id FROM courses")
        assert cursor.fetchall() == ((7,),)
    assert refused(read_only, "INSERT INTO courses VALUES (8)") in DENIED
    assert refused(read_only, "UPDATE courses SET id = 9") in DENIED
    assert refused(read_only, "DELETE FROM courses") in DENIED
    assert refused(read_only, "CREATE TABLE probe (id INT)") in DENIED
    assert refused(read_only, "DROP TABLE courses") in DENIED
    assert refused(read_only, "GRANT SELECT ON *.* TO %s@'%%'", (names["analytics"],)) in DENIED
    assert _only_select(snapshot(admin, prefix)[f"grants {names['read_only']}"])


def _only_select(grants: list[tuple[str]]) -> bool:
    """One grant line, SELECT ON *.* (MariaDB appends the password hash to it)."""
    return len(grants) == 1 and grants[0][0].startswith("GRANT SELECT ON *.* TO ")


def test_read_only_user_loses_privileges_it_was_given_elsewhere(admin, names, passwords, login, refused, prefix):
    other = f"{prefix}-edxapp"
    with mysql.session(admin) as cursor:
        cursor.execute(f"CREATE DATABASE {mysql.quote(other)}")
        cursor.execute(f"CREATE TABLE {mysql.quote(other)}.courses (id INT PRIMARY KEY)")
        cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY 'old'", (names["read_only"],))
        cursor.execute(f"GRANT INSERT ON {mysql.quote(other)}.* TO %s@'%%'", (names["read_only"],))
        cursor.execute("GRANT CREATE USER ON *.* TO %s@'%%'", (names["read_only"],))
    apply_edxapp(admin, names, passwords)
    read_only = login(names["read_only"], passwords["read_only"], database=other)
    assert refused(read_only, "INSERT INTO courses VALUES (8)") in DENIED
    assert refused(read_only, "CREATE USER %s@'%%' IDENTIFIED BY 'x'", (f"{prefix}new",)) in DENIED
    assert _only_select(snapshot(admin, prefix)[f"grants {names['read_only']}"])


def test_a_second_run_changes_nothing(admin, names, passwords, prefix, login):
    apply_analytics(admin, names, passwords)
    apply_edxapp(admin, names, passwords)
    first = snapshot(admin, prefix)
    apply_analytics(admin, names, passwords)
    apply_edxapp(admin, names, passwords)
    assert snapshot(admin, prefix) == first
    assert len([key for key in first if key.startswith("user ")]) == 3
    assert len([key for key in first if key.startswith("database ")]) == 3
    login(names["analytics"], passwords["analytics"]).close()


def test_an_existing_user_gets_the_stored_password(admin, names, passwords, login):
    with mysql.session(admin) as cursor:
        cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY 'set-by-hand'", (names["analytics"],))
    apply_analytics(admin, names, passwords)
    login(names["analytics"], passwords["analytics"]).close()
    with pytest.raises(Exception) as raised:
        login(names["analytics"], "set-by-hand")
    assert raised.value.args[0] == 1045


def test_a_new_password_replaces_the_old_one(admin, names, passwords, login):
    apply_analytics(admin, names, passwords)
    old = passwords["analytics"]
    rotated = dict(passwords, analytics=mysql.new_password())
    apply_analytics(admin, names, rotated)
    login(names["analytics"], rotated["analytics"]).close()
    with pytest.raises(Exception) as raised:
        login(names["analytics"], old)
    assert raised.value.args[0] == 1045


def test_an_underscore_in_a_database_name_is_not_a_grant_wildcard(admin, prefix, login, refused):
    granted, lookalike = f"{prefix}_a_b", f"{prefix}xaxb"
    user = mysql.User(f"{prefix}u", mysql.new_password(), all_on=(granted,))
    with mysql.session(admin) as cursor:
        cursor.execute(f"CREATE DATABASE {mysql.quote(lookalike)}")
        mysql.apply(cursor, [mysql.Database(granted)], [user])
    connection = login(user.name, user.password)
    create_table(connection, granted)
    assert refused(connection, f"CREATE TABLE {mysql.quote(lookalike)}.probe (id INT)") in DENIED


def test_generated_passwords_are_long_random_and_plain():
    generated = {mysql.new_password() for _ in range(200)}
    assert len(generated) == 200
    assert all(len(password) == 32 and password.isalnum() and password.isascii() for password in generated)
    assert len(set("".join(generated))) == 62  # the whole alphabet is in use
