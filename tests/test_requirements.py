"""The Cloud requirements pin the same versions as requirements.txt (CPU wheels for torch)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        if m := re.match(r"^([A-Za-z0-9_.-]+)==([^\s;]+)$", line):
            pins[m[1].lower()] = m[2]
        elif m := re.match(r"^([A-Za-z0-9_.-]+) @ .*/\1-([0-9.]+)%2Bcpu-cp311", line):
            pins[m[1].lower()] = m[2]
        else:
            raise AssertionError(f"{path.name}: unpinned or unexpected line {line!r}")
    return pins


def test_cloud_requirements_match_local_pins():
    local = _pins(ROOT / "requirements.txt")
    cloud = _pins(ROOT / "deploy" / "requirements-cloud.txt")
    assert local == cloud
    assert local["torch"] == "2.14.1" and local["torchvision"] == "0.29.1"
    assert local["streamlit"] == "1.67.0" and local["streamlit-drawable-canvas"] == "0.13.0"
