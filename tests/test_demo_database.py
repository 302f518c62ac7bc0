"""The demo runs on SQLite, CI on PostgreSQL: the import's own SQL must hold on both."""

from tests.helpers import project_environment, run_pytest

# The tests of the import's writes, whatever database this run uses.
IMPORT_WRITE_TESTS = (
    "amazon_channel/tests/test_bulk_rows.py",
    "amazon_channel/tests/test_services_orders.py",
    "amazon_channel/tests/test_fields.py",
    "amazon_channel/tests/test_migrations.py",
)


def test_the_import_writes_pass_their_tests_on_the_demo_database_too(tmp_path):
    environment = project_environment(
        var_dir=tmp_path, keep_services=False, DATABASE_URL=f"sqlite:///{tmp_path}/demo.sqlite3"
    )

    result = run_pytest("-m", "not postgresql", *IMPORT_WRITE_TESTS, environment=environment)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert " passed" in output and "skipped" not in output, output
