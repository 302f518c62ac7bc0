"""What the product imports is declared in requirements.in, not reached through another
package's requirements (which may drop it in any release)."""

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

from django.conf import settings

from tests.test_import_circles import project_modules

PROJECT = Path(settings.BASE_DIR)
# The product's code; tests, benchmarks and tools may use requirements-dev.in as well.
PRODUCT_PACKAGES = {
    "amazon_channel",
    "commerce_orders",
    "config",
    "dashboard",
    "demo",
    "seller_central_sandbox",
}
NOT_PRODUCT = {"tests", "testing", "migrations"}  # testing.py: fixtures for the suite


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_requirements(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        names.add(_canonical(re.match(r"[A-Za-z0-9_.-]+", line).group()))
    return names


def imported_top_level_names(paths) -> set[str]:
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_every_package_the_product_imports_is_declared_in_requirements_in():
    modules = project_modules()
    product_files = [
        path
        for name, path in modules.items()
        if name.split(".")[0] in PRODUCT_PACKAGES and not NOT_PRODUCT & set(name.split("."))
    ]
    project_top_level = {name.split(".")[0] for name in modules}
    third_party = (
        imported_top_level_names(product_files) - set(sys.stdlib_module_names) - project_top_level
    )
    distributions = packages_distributions()
    declared = declared_requirements(PROJECT / "requirements.in")

    undeclared = {
        module: distributions.get(module, ["?"])
        for module in sorted(third_party)
        if not {_canonical(name) for name in distributions.get(module, [])} & declared
    }

    assert "httpx" in third_party and "cachetools" in third_party
    assert undeclared == {}
