"""The hostile student's catalogue (issue 24): every input a student controls is priced before the
work starts and refused with a message that says how to fit.

The expensive cases (zips, oversized models) run in one child process under an address-space cap
a few hundred MB above what it maps after its imports (tests/hostile/cases.py): the refusal must
come with its message, and before the allocation (no MemoryError, peak RSS about unchanged). A
control case shows the cap is real (what a zip cost before dies under it), and an ordinary upload
still loads. The cheap cases (links, lessons, tokens, CSV cells, the database file's mode) run
here. Nothing allocates more than a few MB in this process.
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import zipfile

import pytest
import torch

from cnnlib.data import DatasetError, load_image_folder_zip
from cnnlib.data.bundle import channel_stats
from cnnlib.share import PackError, loads_untrusted, pack, spreadsheet_safe, unpack
from cnnlib.share.export import FORMULA_STARTS
from cnnlib.share.lessons import LessonError, parse_lesson
from cnnlib.spec import SpecError, estimate_memory, spec_from_token
from tests.hostile import cases

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc: Linux"),
    pytest.mark.slow,  # one child process runs the whole catalogue: 8 s, in CI, not in the quick check
]

GROWTH_MB = 40  # what a refusal may add to the child's peak RSS (the unpriced work took GBs)

# case -> (the refusal's type, words its message must hold)
EXPECTED = {
    "tiny_images": ("DatasetError", ["983 MB", "fewer images", "smaller image size"]),
    "pixel_bomb": ("DatasetError", ["million pixels", "shrink the pictures", "fewer images"]),
    "stop": ("UploadStopped", ["stopped"]),
    "train_oversized": ("ConfigError", ["needs about 13.0 GB", "Lower the batch size"]),
    "slow_motion": ("StepError", ["One step in slow motion needs about 13.0 GB", "fewer channels"]),
    "feature_maps": ("MemoryBudgetError", ["feature maps needs about", "fewer channels"]),
    "grad_cam": ("MemoryBudgetError", ["Grad-CAM for this model needs about", "less padding"]),
    "draw_model": ("ValueError", ["needs about", "pool earlier"]),
    "crafted_link": ("SpecError", ["nested too deeply"]),
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict]:
    return cases.run_cases(cases.build_inputs(tmp_path_factory.mktemp("hostile")))


@pytest.mark.parametrize("name", list(EXPECTED))
def test_refused_with_a_message_before_the_allocation(reports, name):
    report = reports[name]
    kind, words = EXPECTED[name]
    assert report["error"] == kind, report
    assert all(w in report["message"] for w in words), report["message"]
    assert report["peak_rss_growth_mb"] < GROWTH_MB, report


def test_the_cap_stops_unpriced_work_and_lets_an_ordinary_upload_through(reports):
    assert reports["control_unpriced"]["error"] == "MemoryError", reports["control_unpriced"]
    assert reports["fits"]["error"] is None, reports["fits"]


# ---------------------------------------------------------------------------- uploads: budgets


def _zip(n: int, png: bytes) -> bytes:
    return cases.zip_of(png, n)


def test_upload_budgets_are_arguments_and_say_how_to_fit():
    data = _zip(40, cases.png_bytes(8, 8))
    with pytest.raises(DatasetError, match="grayscale") as info:
        load_image_folder_zip(data, image_size=64, max_dataset_bytes=40 * 64 * 64 * 2)
    assert "at most 26 at 64x64" in str(info.value)
    bundle = load_image_folder_zip(data, image_size=64, grayscale=True, max_dataset_bytes=40 * 64 * 64)
    assert bundle.input_shape == (1, 64, 64)
    with pytest.raises(DatasetError, match="million pixels"):
        load_image_folder_zip(data, image_size=8, max_decoded_pixels=8 * 8 * 10)


def test_a_jpeg_is_priced_at_the_size_it_is_decoded():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (800, 800), (9, 9, 9)).save(buf, format="JPEG")
    data = _zip(4, buf.getvalue())
    # 4 x 640,000 source pixels, but draft mode decodes each at 1/8: 100 x 100.
    assert len(load_image_folder_zip(data, image_size=16, max_decoded_pixels=4 * 100 * 100).classes) == 2
    with pytest.raises(DatasetError, match="million pixels"):
        load_image_folder_zip(data, image_size=16, max_decoded_pixels=4 * 100 * 100 - 1)


def test_16_bit_images_are_scaled_not_clipped():
    import numpy as np
    from PIL import Image

    files = {}
    for k, value in enumerate((0, 32768, 65535)):
        buf = io.BytesIO()
        Image.fromarray(np.full((40, 30), value, dtype=np.uint16)).save(buf, format="PNG")
        files[f"c{k % 2}/{k}.png"] = files[f"c{k % 2}/{k}b.png"] = buf.getvalue()
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    b = load_image_folder_zip(zbuf.getvalue(), image_size=8, grayscale=True)
    values = sorted({int(v) for v in torch.cat([b.train_images, b.test_images]).unique()})
    assert values == [0, 128, 255]


def test_channel_stats_chunks_in_bytes_give_the_same_statistics():
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (37, 3, 9, 7), dtype=torch.uint8, generator=g)  # [N, C, H, W]
    one_image = channel_stats(images, chunk_bytes=1)  # one image per chunk
    whole = channel_stats(images)
    for a, b in zip(one_image, whole, strict=True):
        assert a == pytest.approx(b)
    x = images.double() / 255
    assert whole[0] == pytest.approx(tuple(x.mean(dim=(0, 2, 3)).tolist()))


# ---------------------------------------------------------------------------- models: the estimate


def test_the_estimate_of_a_spec_and_of_its_module_agree():
    from cnnlib.spec import PRESETS, build_model

    for spec in PRESETS.values():
        by_spec = estimate_memory(spec, 8)
        by_module = estimate_memory(build_model(spec), 8, input_shape=spec.input_shape)
        assert by_spec == by_module


def test_the_estimate_runs_nothing_real():
    spec = cases.PADDED_SPEC
    from cnnlib.spec import ModelSpec

    est = estimate_memory(ModelSpec.from_dict(spec), 256)
    assert est.total_bytes > 200e9 and est.params == 1028  # priced, not allocated


# ---------------------------------------------------------------------------- links and files


def test_the_crafted_token_unpacks_to_a_message():
    with pytest.raises(SpecError, match="nested too deeply"):
        spec_from_token(cases.CRAFTED_TOKEN)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"input_shape": [1, 28, ' + "9" * 5000 + '], "layers": []}', "number of 5,000 characters"),
        ('{"input_shape": [1, 28, NaN], "layers": []}', "NaN"),
        ('{"input_shape": [1, 28, 1e999], "layers": []}', "too large"),
    ],
    ids=["5000 digits", "NaN", "1e999"],
)
def test_a_token_with_huge_numbers_is_refused(text, words):
    import base64
    import zlib

    token = "v1." + base64.urlsafe_b64encode(zlib.compress(text.encode(), 9)).decode().rstrip("=")
    with pytest.raises(PackError, match=words):
        unpack(token, "model link")


def test_a_zlib_bomb_token_is_refused_after_little_work():
    import base64
    import zlib

    token = "v1." + base64.urlsafe_b64encode(
        zlib.compress(b"[" + b" " * 3_000_000 + b"]", 9)
    ).decode().rstrip("=")
    assert len(token) < 6000
    with pytest.raises(PackError, match="unpacks to more than"):
        unpack(token)


def test_a_stack_link_nested_deeply_is_refused():
    from cnnlib.shapes.link import parse_stack

    deep: list = [1]
    for _ in range(40):
        deep = [deep]
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_stack(pack(deep))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"title": "x", "steps": ' + "[" * 3000 + "]" * 3000 + "}", "nested too deeply"),
        ('{"title": "x", "steps": [{"page": "kernels", "state": {"stride": ' + "7" * 5000 + "}}]}", "5,000"),
        ('{"title": "x", "steps": [{"page": "kernels", "state": {"stride": NaN}}]}', "NaN"),
    ],
)
def test_a_hostile_lesson_file_is_refused(text, words):
    schemas = {s.page: s for s in _schemas()}  # the pages' link schemas, as the app passes them
    with pytest.raises(LessonError, match=words):
        parse_lesson(text, schemas)


def test_loads_untrusted_keeps_ordinary_json():
    text = '{"a": [1, -2.5e-3, "[[[{{{\\"", true, null], "b": {"c": [[1, 2], [3, 4]]}}'
    assert loads_untrusted(text) == json.loads(text)


def _schemas():
    from cnnlib.inference import DRAW_LINK
    from cnnlib.kernels import KERNELS_LINK
    from cnnlib.shapes import SHAPES_LINK
    from cnnlib.spec import BUILDER_LINK
    from cnnlib.training import TRAINING_LINK

    return [KERNELS_LINK, SHAPES_LINK, BUILDER_LINK, TRAINING_LINK, DRAW_LINK]


def _bound_cases():
    for schema in _schemas():
        for f in schema.fields:
            yield schema, f.key, "9" * (f.max_len + 1), "too long"
            if f.kind in ("int", "float") and f.hi is not None:
                over = f.hi + 1 if f.kind == "int" else f.hi * 2 + 1
                yield schema, f.key, str(int(over) if f.kind == "int" else over), ""
            if f.kind in ("int", "float") and f.lo is not None:
                under = f.lo - 1 if f.kind == "int" else f.lo - abs(f.lo) - 1
                yield schema, f.key, str(int(under) if f.kind == "int" else under), ""


@pytest.mark.parametrize(
    ("schema", "key", "value", "words"),
    list(_bound_cases()),
    ids=lambda v: v.page if hasattr(v, "page") else (v[:12] if isinstance(v, str) else str(v)),
)
def test_every_link_field_refuses_past_its_bound(schema, key, value, words):
    parsed = schema.parse({key: value})
    assert key not in parsed.values and [i.key for i in parsed.ignored] == [key]
    assert words in parsed.ignored[0].reason


# ---------------------------------------------------------------------------- smaller leaks


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_a_board_cell_never_runs_as_a_formula(start):
    cell = start + 'HYPERLINK("http://evil.example","click")'
    assert spreadsheet_safe(cell) == "'" + cell
    assert spreadsheet_safe("LeNet-5") == "LeNet-5" and spreadsheet_safe(-3) == -3


def test_the_sqlite_file_is_readable_by_its_owner_only(tmp_path):
    from sqlalchemy import URL

    from cnnlib.classroom.engine import make_engines

    path = tmp_path / "class.sqlite3"
    reader, writer = make_engines(URL.create("sqlite", database=str(path)))
    try:
        with writer.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    finally:
        writer.dispose()
        reader.dispose()
    for p in tmp_path.iterdir():
        assert stat.S_IMODE(os.stat(p).st_mode) & 0o077 == 0, (p, oct(os.stat(p).st_mode))
