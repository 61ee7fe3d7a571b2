"""cnnlib.process: the malloc arena cap (glibc) is applied, idempotent, and refused for nonsense."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cnnlib.process import MMAP_THRESHOLD_MAX, keep_freed_blocks, limit_malloc_arenas

ROOT = Path(__file__).resolve().parents[1]


def test_cap_is_applied_on_linux_and_again_is_a_no_op():
    first = limit_malloc_arenas(2)
    assert first is sys.platform.startswith("linux")
    assert limit_malloc_arenas(2) is first


def test_zero_arenas_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        limit_malloc_arenas(0)


def test_threads_still_allocate_and_free_under_the_cap():
    """A fresh process with the cap: many threads allocating big and small blocks work as before."""
    code = (
        "import threading\n"
        "from cnnlib.process import limit_malloc_arenas\n"
        "assert limit_malloc_arenas(1)\n"
        "out = []\n"
        "def work(i):\n"
        "    blocks = [bytearray(1000 * (j % 50 + 1)) for j in range(2000)]\n"
        "    out.append(sum(len(b) for b in blocks))\n"
        "ts = [threading.Thread(target=work, args=(i,)) for i in range(16)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n"
        "assert len(out) == 16 and len(set(out)) == 1, out\n"
    )
    if not sys.platform.startswith("linux"):
        pytest.skip("glibc only")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_keep_freed_blocks_applies_on_linux_and_refuses_nonsense():
    code = "from cnnlib.process import keep_freed_blocks\nprint(keep_freed_blocks())\nx = [bytearray(4_000_000) for _ in range(20)]\n"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(sys.platform.startswith("linux"))
    for bad in (0, -1, MMAP_THRESHOLD_MAX + 1):
        with pytest.raises(ValueError, match="threshold"):
            keep_freed_blocks(bad)
