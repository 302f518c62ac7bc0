"""`make screenshots` (bench/screenshots.py): the README's pictures from the demo's data."""

import struct
import subprocess
import sys

import pytest

from tests.helpers import PROJECT_DIR, project_environment

pytestmark = pytest.mark.browser

NAMES = ("store-cards", "store-dashboard", "amazon-order-details", "cancel-order")


def png_width(path) -> int:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">I", header[16:20])[0]


def test_the_script_saves_desktop_and_phone_pictures_of_the_demo(tmp_path):
    output = tmp_path / "screenshots"
    environment = project_environment(var_dir=tmp_path / "var", keep_services=False)

    finished = subprocess.run(
        [sys.executable, "bench/screenshots.py", "--output", str(output), "--orders", "20"],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "RESULT screenshots PASS 8 saved" in finished.stdout
    for name in NAMES:
        for width in (1440, 390):
            assert png_width(output / f"{name}-{width}.png") == width
    readme = (PROJECT_DIR / "README.md").read_text()
    for name in NAMES:
        assert f"docs/screenshots/{name}-1440.png" in readme
        assert (PROJECT_DIR / "docs" / "screenshots" / f"{name}-390.png").exists()
