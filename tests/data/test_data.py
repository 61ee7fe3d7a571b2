"""Tests for cnnlib.data: synthetic shapes, the bundled MNIST sample, offline downloads, zip uploads.

The upload limits are read in cnnlib.data.uploads (Z) and the download probe in cnnlib.data.downloads (DL):
patch them there; a patch on cnnlib.data would not reach the code.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cnnlib import data as D
from cnnlib.data import DATASETS, DatasetError, load_dataset, load_image_folder_zip, normalize
from cnnlib.data import downloads as DL
from cnnlib.data import uploads as Z
from cnnlib.data.load import load_mnist_sample
from cnnlib.data.synthetic import make_shapes

SHARED_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist_5k.csv.gz"


# ------------------------------------------------------------------------------------- shapes


def test_shapes_bundle_types_and_sizes():
    b = load_dataset("shapes")
    assert b.name == "shapes" and b.classes == ["circle", "square", "diagonal", "ring"]
    assert b.input_shape == (3, 32, 32)
    assert b.train_images.shape == (2000, 3, 32, 32) and b.train_images.dtype == torch.uint8
    assert b.test_images.shape == (500, 3, 32, 32) and b.test_labels.dtype == torch.int64
    assert b.class_counts("train") == [500] * 4 and b.class_counts("test") == [125] * 4
    x, y = b.train[3]
    assert x.shape == (3, 32, 32) and x.dtype == torch.uint8 and isinstance(y, int)
    assert len(b.mean) == len(b.std) == 3 and all(0 < s < 1 for s in b.std)
    info = DATASETS["shapes"]
    assert info.offline and info.input_shape == b.input_shape and list(info.classes) == b.classes


def test_shapes_deterministic_and_seed_dependent():
    a = load_dataset("shapes", seed=3, train_size=64, test_size=16)
    b = load_dataset("shapes", seed=3, train_size=64, test_size=16)
    c = load_dataset("shapes", seed=4, train_size=64, test_size=16)
    assert torch.equal(a.train_images, b.train_images) and torch.equal(a.test_labels, b.test_labels)
    assert not torch.equal(a.train_images, c.train_images)
    assert not torch.equal(a.train_images[:16], a.test_images)  # train and test differ


def test_shapes_are_drawn_where_the_label_says():
    images, labels = make_shapes(400, seed=1, noise=0.0)
    lit = (images.float().mean(1) > 0.3 * 255).float()  # [N, H, W] shape pixels
    area = lit.sum(dim=(1, 2))
    # A filled disc or square covers far more pixels than a line or a ring of similar size.
    filled = area[(labels == 0) | (labels == 1)].median()
    thin = area[(labels == 2) | (labels == 3)].median()
    assert filled > 1.5 * thin
    # Rings have an empty centre; discs do not.
    ys, xs = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    for i in range(40):
        m = lit[i]
        cy, cx = (m * ys).sum() / m.sum(), (m * xs).sum() / m.sum()
        centre = m[int(cy.round()), int(cx.round())]
        if labels[i] == 3:
            assert centre == 0
        if labels[i] in (0, 1):
            assert centre == 1


def test_shapes_bad_sizes():
    with pytest.raises(DatasetError, match="train_size"):
        load_dataset("shapes", train_size=0)
    with pytest.raises(DatasetError, match="test_size"):
        load_dataset("shapes", test_size=10**7)


# ------------------------------------------------------------------------------- mnist sample


def test_mnist_sample_bundled_split():
    b = load_dataset("mnist-sample")
    assert b.input_shape == (1, 28, 28) and b.classes == [str(d) for d in range(10)]
    assert b.train_images.shape == (4000, 1, 28, 28) and b.test_images.shape == (1000, 1, 28, 28)
    assert b.class_counts("train") == [400] * 10 and b.class_counts("test") == [100] * 10
    assert b.train_images.dtype == torch.uint8 and int(b.train_images.max()) == 255
    assert 0.10 < b.mean[0] < 0.16 and 0.28 < b.std[0] < 0.34  # MNIST's well-known 0.1307 / 0.3081
    # No digit is in both splits.
    train = {bytes(x.numpy()) for x in b.train_images}
    assert not any(bytes(x.numpy()) in train for x in b.test_images)
    # Same split every time.
    assert torch.equal(load_dataset("mnist-sample").test_labels, b.test_labels)


@pytest.mark.skipif(not SHARED_CSV.exists(), reason="../shared/data is not here")
def test_mnist_sample_matches_the_shared_csv():
    with gzip.open(SHARED_CSV, "rt") as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.int64)
    rows = {bytes(r[:784].astype(np.uint8)): int(r[784]) for r in table}
    b = load_dataset("mnist-sample")
    for images, labels in ((b.train_images, b.train_labels), (b.test_images, b.test_labels)):
        for x, y in zip(images[::97], labels[::97], strict=True):
            assert rows[bytes(x.numpy().reshape(-1))] == int(y)


def test_mnist_sample_missing_or_corrupt(tmp_path):
    with pytest.raises(DatasetError, match="missing"):
        load_mnist_sample(tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not an npz")
    with pytest.raises(DatasetError, match="could not be read"):
        load_mnist_sample(bad)


def test_app_does_not_read_shared_folder():
    modules = sorted(Path(D.__file__).parent.rglob("*.py"))  # every module of the cnnlib.data package
    assert len(modules) > 1
    for module in modules:
        assert "shared" not in module.read_text().replace("shares", ""), module.name


# ------------------------------------------------------------------------------- normalize


def test_normalize_matches_formula():
    b = load_dataset("mnist-sample")
    x = b.test_images[:5]
    got = normalize(x, b)
    want = (x.float() / 255 - b.mean[0]) / b.std[0]
    assert got.dtype == torch.float32 and torch.allclose(got, want)
    assert torch.allclose(normalize(x[0], b), want[0])  # [C, H, W] too
    s = load_dataset("shapes", train_size=40, test_size=8)
    xs = s.train_images[:3]
    mean, std = torch.tensor(s.mean).view(3, 1, 1), torch.tensor(s.std).view(3, 1, 1)
    assert torch.allclose(normalize(xs, s), (xs.float() / 255 - mean) / std, atol=1e-6)
    whole = s.train_images.float() / 255
    assert torch.allclose(whole.mean(dim=(0, 2, 3)), torch.tensor(s.mean, dtype=torch.float32), atol=1e-4)
    assert torch.allclose(
        whole.std(dim=(0, 2, 3), unbiased=False), torch.tensor(s.std, dtype=torch.float32), atol=1e-4
    )
    with pytest.raises(ValueError, match="channel"):
        normalize(xs, b)


def test_unknown_dataset():
    with pytest.raises(DatasetError, match="Unknown dataset"):
        load_dataset("imagenet")


# ------------------------------------------------------------------------------- downloads


def test_download_blackholed_network_gives_up_after_the_timeout(tmp_path, monkeypatch):
    # A firewall that drops packets makes connect() hang: the probe's timeout must end it.
    timeouts = []

    def hanging_connect(address, timeout=None):
        timeouts.append(timeout)
        raise TimeoutError("timed out")

    monkeypatch.setattr(DL.socket, "create_connection", hanging_connect)
    with pytest.raises(DatasetError, match="could not be downloaded .*timed out"):
        load_dataset("mnist", root=tmp_path)
    assert timeouts and all(t == DL.DOWNLOAD_TIMEOUT_S for t in timeouts)


def test_download_disabled_and_not_cached(tmp_path):
    with pytest.raises(DatasetError, match="not in the cache"):
        load_dataset("mnist", root=tmp_path, download=False)


def test_default_root_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("CNN_CLASSROOM_DATA", str(tmp_path))
    assert D.default_data_root() == tmp_path
    monkeypatch.delenv("CNN_CLASSROOM_DATA")
    assert D.default_data_root().name == "cnn-classroom"


def test_torchvision_cached_files_are_read(tmp_path):
    # A fake cached MNIST in torchvision's raw format: the loader must read it without network.
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)

    def idx(path: Path, array: np.ndarray, kind: int) -> None:
        header = bytes([0, 0, 8, kind]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
        path.write_bytes(header + array.astype(np.uint8).tobytes())

    rng = np.random.default_rng(0)
    for prefix, n in (("train", 30), ("t10k", 10)):
        idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)), 3)
        idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10, 1)
    b = load_dataset("mnist", root=tmp_path, download=False)
    assert b.train_images.shape == (30, 1, 28, 28) and b.test_images.shape == (10, 1, 28, 28)
    assert b.train_labels.tolist() == [i % 10 for i in range(30)] and b.classes[3] == "3"


# ------------------------------------------------------------------------------- zip uploads


def _png(colour: tuple[int, int, int], size: tuple[int, int] = (12, 10), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, colour if mode != "L" else colour[0]).save(buf, format="PNG")
    return buf.getvalue()


def _zip(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def _good_files(per_class: int = 5, top: str = "") -> dict[str, bytes]:
    files = {}
    for c, colour in (("cats", (200, 30, 30)), ("dogs", (30, 200, 30)), ("owls", (30, 30, 200))):
        for i in range(per_class):
            files[f"{top}{c}/{i}.png"] = _png(colour)
    return files


def test_zip_upload_good():
    files = _good_files()
    files["cats/readme.txt"] = b"hello"
    files["__MACOSX/cats/._0.png"] = b"junk"
    files[".DS_Store"] = b"junk"
    b = load_image_folder_zip(_zip(files), image_size=(16, 20))
    assert b.classes == ["cats", "dogs", "owls"] and b.input_shape == (3, 16, 20)
    assert len(b.train) + len(b.test) == 15 and b.class_counts("test") == [1, 1, 1]
    assert b.train_images.dtype == torch.uint8
    # Colours survive: the cats' images are red.
    cats = b.train_images[b.train_labels == 0].float()
    assert cats[:, 0].mean() > 150 and cats[:, 1].mean() < 60
    assert any("not images" in n for n in b.notes)
    assert "Note" in b.describe()


def test_zip_upload_top_folder_grayscale_and_via_load_dataset():
    data = _zip(_good_files(top="my data/"))
    b = load_dataset("upload", data=data, image_size=24, grayscale=True)
    assert b.input_shape == (1, 24, 24) and b.classes == ["cats", "dogs", "owls"]


def test_zip_upload_deterministic_split():
    data = _zip(_good_files(per_class=10))
    a, b = load_image_folder_zip(data, seed=1), load_image_folder_zip(data, seed=1)
    assert torch.equal(a.test_images, b.test_images) and a.class_counts("test") == [2, 2, 2]


def test_zip_upload_transparent_and_odd_images():
    files = _good_files()
    files["dogs/alpha.png"] = _png((0, 0, 0), mode="RGBA")
    files["dogs/gray.png"] = _png((90, 90, 90), mode="L")
    jpg = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 20, 30)).save(jpg, format="JPEG")
    files["owls/big.JPG"] = jpg.getvalue()
    b = load_image_folder_zip(_zip(files), image_size=(8, 8))
    assert len(b.train) + len(b.test) == 18


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: b"", "empty"),
        (lambda: b"PK\x03\x04 definitely not a zip", "not a zip"),
        (lambda: _png((1, 2, 3)), "not a zip"),
        (lambda: _zip({}), "empty"),
        (lambda: _zip({"a.png": _png((1, 1, 1)), "b.png": _png((2, 2, 2))}), "no class folders"),
        (lambda: _zip({"cats/0.png": _png((1, 1, 1)), "cats/1.png": _png((1, 1, 1))}), "only one class"),
        (lambda: _zip({"cats/notes.txt": b"x", "dogs/data.csv": b"1,2"}), "no image files"),
        (lambda: _zip({"cats/0.png": b"not a png", "dogs/0.png": b"nor this"}), "no readable images"),
        (lambda: _zip({**_good_files(), "../evil.png": _png((1, 1, 1))}), "escapes"),
        (lambda: _zip({**_good_files(), "cats/../../evil.png": _png((1, 1, 1))}), "escapes"),
        (lambda: _zip({**_good_files(), "/etc/evil.png": _png((1, 1, 1))}), "absolute"),
        (lambda: _zip({**_good_files(), "C:/evil.png": _png((1, 1, 1))}), "absolute"),
        (lambda: _zip({**_good_files(), "x\\..\\evil.png": _png((1, 1, 1))}), "escapes"),
        (lambda: _zip({**_good_files(), "lonely/0.png": _png((1, 1, 1))}), "only one image"),
    ],
)
def test_zip_upload_rejects(make, match):
    with pytest.raises(DatasetError, match=match):
        load_image_folder_zip(make())


def test_zip_upload_bad_image_size():
    data = _zip(_good_files())
    for size in [(0, 10), (4, 4), (1000, 32), "big", (32,), (True, 32), (32.5, 32)]:
        with pytest.raises(DatasetError, match="Image size"):
            load_image_folder_zip(data, image_size=size)


def test_zip_upload_too_many_files():
    one = _png((5, 5, 5), size=(2, 2))
    many = {f"{'ab'[i % 2]}/{i}.png": one for i in range(60)}
    with pytest.raises(DatasetError, match="limit is 50"):
        load_image_folder_zip(_zip(many, zipfile.ZIP_STORED), max_images=50)


def test_zip_upload_too_many_entries(monkeypatch):
    monkeypatch.setattr(Z, "MAX_ZIP_ENTRIES", 30)
    many = {f"{'ab'[i % 2]}/{i}.txt": b"" for i in range(40)}
    with pytest.raises(DatasetError, match="entries"):
        load_image_folder_zip(_zip(many, zipfile.ZIP_STORED))


def test_zip_upload_decompression_bomb_member():
    # 30 MB of zeros compresses to ~30 KB: one member larger than the per-file cap.
    files = _good_files()
    files["cats/bomb.png"] = bytes(30 * 1024 * 1024)
    with pytest.raises(DatasetError, match="MB"):
        load_image_folder_zip(_zip(files))


def test_zip_upload_lying_header_is_caught(monkeypatch):
    # The per-file check must not trust the header: read at most the cap, then stop.
    monkeypatch.setattr(Z, "MAX_FILE_BYTES", 1000)
    files = _good_files()
    files["cats/big.png"] = bytes(5000)
    data = bytearray(_zip(files, zipfile.ZIP_STORED))
    with pytest.raises(DatasetError, match="MB"):
        load_image_folder_zip(bytes(data))


def test_zip_upload_total_size_cap(monkeypatch):
    monkeypatch.setattr(Z, "MAX_UNCOMPRESSED_BYTES", 2000)
    with pytest.raises(DatasetError, match="unpacks to more than"):
        load_image_folder_zip(_zip(_good_files(per_class=20)))


def test_zip_upload_pixel_bomb(monkeypatch):
    # A tiny PNG that decodes to a huge image: skipped by the pixel cap before decoding.
    monkeypatch.setattr(Z, "MAX_IMAGE_PIXELS", 100 * 100)
    files = _good_files()
    files["cats/huge.png"] = _png((0, 0, 0), size=(2000, 2000))
    b = load_image_folder_zip(_zip(files))
    assert len(b.train) + len(b.test) == 15
    assert any("too large" in n for n in b.notes)


def test_zip_upload_encrypted_member_skipped():
    data = bytearray(_zip(_good_files(), zipfile.ZIP_STORED))
    # Mark the first member as encrypted (general-purpose flag bit 0) in its local and central headers.
    first_local = data.find(b"PK\x03\x04")
    data[first_local + 6] |= 1
    first_central = data.find(b"PK\x01\x02")
    data[first_central + 8] |= 1
    b = load_image_folder_zip(bytes(data))
    assert len(b.train) + len(b.test) == 14 and any("unreadable" in n for n in b.notes)


def test_zip_upload_16bit_images_are_scaled_not_clipped():
    """A 16-bit grayscale PNG keeps its tones (half-scale grey stays grey, not white)."""
    files = _good_files()
    buf = io.BytesIO()
    Image.fromarray(np.full((10, 12), 32768, dtype=np.uint16)).save(buf, format="PNG")
    files["owls/deep.png"] = buf.getvalue()
    b = load_image_folder_zip(_zip(files), image_size=(10, 12), grayscale=True)
    images = torch.cat([b.train_images, b.test_images]).float()  # [N, 1, 10, 12]
    means = images.mean(dim=(1, 2, 3))
    assert ((means - 128).abs() < 2).any(), means


# ------------------------------------------------------------------------------- audit additions


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "cifar10"])
def test_download_without_network_fails_fast_naming_the_offline_datasets(name, tmp_path, monkeypatch):
    """Offline for sure (also on a CI box with internet): every connection is refused at once."""
    import time

    def offline(address, timeout=None):
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(DL.socket, "create_connection", offline)
    t0 = time.monotonic()
    with pytest.raises(DatasetError) as info:
        load_dataset(name, root=tmp_path)
    assert time.monotonic() - t0 < 5  # fails fast: no retries over every file and mirror
    msg = str(info.value)
    assert DATASETS[name].title in msg and "could not be downloaded" in msg
    assert '"Synthetic shapes" (shapes)' in msg and '"MNIST sample (bundled)" (mnist-sample)' in msg
    assert "Network is unreachable" in msg
    assert not any(tmp_path.rglob("*.gz")) and not any(tmp_path.rglob("*.tar.gz"))  # nothing half-written


def test_zip_errors_about_classes_say_which_images_were_skipped(monkeypatch):
    # A class whose only other image is too large to decode: the error says why it has one image.
    monkeypatch.setattr(Z, "MAX_IMAGE_PIXELS", 100 * 100)
    files = _good_files()
    files["zebras/0.png"] = _png((9, 9, 9))
    files["zebras/huge.png"] = _png((0, 0, 0), size=(300, 300))
    with pytest.raises(DatasetError, match="only one image.*zebras/huge.png.*too large"):
        load_image_folder_zip(_zip(files))
    only = {"cats/0.png": _png((1, 1, 1)), "cats/1.png": _png((2, 2, 2)), "dogs/0.png": b"broken"}
    with pytest.raises(DatasetError, match="only one class.*dogs/0.png"):
        load_image_folder_zip(_zip(only))


def test_zip_photo_with_exif_rotation_is_turned_upright():
    # A 20 wide x 10 high photo whose EXIF says "rotate 90°": a viewer shows it 10 wide x 20 high.
    img = Image.new("RGB", (20, 10), (0, 0, 0))
    img.paste((255, 255, 255), (0, 0, 10, 10))  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif.tobytes(), quality=95)
    files = _good_files()
    files["cats/photo.jpg"] = buf.getvalue()
    b = load_image_folder_zip(_zip(files), image_size=(20, 10), grayscale=True)
    images = torch.cat([b.train_images, b.test_images])
    photo = next(x for x in images if x.float().std() > 50)[0].float()  # [20, 10] the two-tone one
    assert photo[:10].mean() > 200 and photo[10:].mean() < 50  # upright: the white half is on top


def test_zip_nested_top_folders_mixed_sizes_and_modes():
    files = {}
    for c in ("a", "b"):
        files[f"outer/inner/{c}/wide.png"] = _png((200, 10, 10), size=(64, 8))
        files[f"outer/inner/{c}/gray.png"] = _png((90, 90, 90), size=(9, 30), mode="L")
        p = io.BytesIO()
        Image.new("P", (16, 16), 3).save(p, format="GIF")
        files[f"outer/inner/{c}/pal.gif"] = p.getvalue()
        p = io.BytesIO()
        Image.new("1", (16, 16), 1).save(p, format="BMP")
        files[f"outer/inner/{c}/bw.bmp"] = p.getvalue()
    b = load_image_folder_zip(_zip(files), image_size=12)
    assert b.classes == ["a", "b"] and b.input_shape == (3, 12, 12)
    assert len(b.train) + len(b.test) == 8 and not b.notes
