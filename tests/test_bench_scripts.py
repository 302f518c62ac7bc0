"""The benchmarks still run against today's schema and code (tiny sizes; their figures are not
checked here: speed is measured by running them, bench/README.md). A migration that adds a NOT
NULL column to a table a bench loads with SQL broke dashboard_pages.py and load_pages.py once,
unnoticed until the next measurement."""

import os

import pytest

from tests.helpers import project_environment, run_script

pytestmark = pytest.mark.postgresql

SCRIPTS = {
    "dashboard_pages": (
        "bench/dashboard_pages.py",
        "--orders=20000",
        "--commerce-orders=3000",
        "--warmup=0",
        "--requests=1",
        "--admin-requests=1",
    ),
    "page_cpu": ("bench/page_cpu.py", "--orders=2000", "--requests=2", "--rounds=1"),
    "import_throughput": (
        "bench/import_throughput.py",
        "--orders=300",
        "--naive-orders=100",
        "--commerce-orders=200",
    ),
    # No drops and no poll: the full run waits out Amazon's two-minute rule for the poll.
    "notifications_latency": (
        "bench/notifications_latency.py",
        "--changes=4",
        "--sellers=2",
        "--spacing=0.5",
        "--copies=2",
        "--drop=0",
        "--no-poll",
        "--cancels=1",
        "--cancel-spacing=1",
        "--feed-seconds=2",
        "--workers=1",
        "--timeout=90",
    ),
}


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_benchmark_runs_to_its_result_line(name, tmp_path):
    script, *arguments = SCRIPTS[name]
    environment = project_environment(
        var_dir=tmp_path, keep_services=True, DATABASE_URL=os.environ["DATABASE_URL"]
    )

    finished = run_script(script, *arguments, environment=environment)

    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output
    assert f"RESULT {name} " in finished.stdout, output
    assert "cleanup: dropped database" in output, output
