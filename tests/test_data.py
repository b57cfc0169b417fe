import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from bnnet import DataError, load_cifar10
from bnnet.cifar10 import find_batches_dir
from bnnet.core.data import load_raw, read_batch
from tests.conftest import LABEL_NAMES, write_fake_cifar


def test_loads_official_layout_with_shapes_dtypes_and_names(fake_cifar):
    data = load_cifar10(fake_cifar, n_val=20)
    # 5 batches x 30 = 150 training images, 20 held out
    assert data.X_train.shape == (130, 3072) and data.X_val.shape == (20, 3072)
    assert data.X_test.shape == (30, 3072)
    assert data.X_train.dtype == np.float32
    assert data.y_train.dtype.kind == "i" and set(np.unique(data.y_train)) <= set(range(10))
    assert data.label_names == LABEL_NAMES
    assert data.n_classes == 10


def test_accepts_the_parent_folder_and_str_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("BNNET_CACHE_DIR", str(tmp_path / "cache"))
    folder = write_fake_cifar(tmp_path / "d", str_keys=True, protocol=2)
    a = load_cifar10(folder.parent, n_val=10)
    b = load_cifar10(folder, n_val=10)
    np.testing.assert_array_equal(a.X_train, b.X_train)


def test_validation_split_is_seeded_and_disjoint(fake_cifar):
    raw = load_raw(fake_cifar)
    a = load_cifar10(fake_cifar, n_val=25, seed=3)
    b = load_cifar10(fake_cifar, n_val=25, seed=3)
    c = load_cifar10(fake_cifar, n_val=25, seed=4)
    np.testing.assert_array_equal(a.X_val, b.X_val)
    assert not np.array_equal(a.y_val, c.y_val) or not np.array_equal(a.X_val, c.X_val)
    # every training image lands in exactly one split
    rows = {r.tobytes() for r in np.asarray(raw["X_train"])}
    assert len(rows) == 150
    back = lambda X, d: np.rint(X * d.std.astype(np.float32) + d.mean).astype(np.uint8)  # noqa: E731
    train_rows = {r.tobytes() for r in back(a.X_train, a)}
    val_rows = {r.tobytes() for r in back(a.X_val, a)}
    assert not train_rows & val_rows and train_rows | val_rows == rows


def test_normalisation_uses_training_statistics_only(fake_cifar):
    data = load_cifar10(fake_cifar, n_val=20, dtype=np.float64)
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(data.X_train.std(axis=0), 1, atol=1e-9)
    # the validation and test sets are shifted by the *training* mean: their own means
    # are not zero (the fake test batch is 15 grey levels brighter on purpose)
    raw = load_raw(fake_cifar)
    test_u8 = np.asarray(raw["X_test"], dtype=np.float64)
    np.testing.assert_allclose(data.X_test, (test_u8 - data.mean) / data.std, atol=1e-9)
    assert abs(data.X_test.mean()) > 0.1


def test_small_course_split_uses_batch_1_and_2(fake_cifar):
    data = load_cifar10(fake_cifar, split="small")
    b1, y1 = read_batch(fake_cifar / "data_batch_1")
    _, y2 = read_batch(fake_cifar / "data_batch_2")
    np.testing.assert_array_equal(data.y_train, y1)
    np.testing.assert_array_equal(data.y_val, y2)
    np.testing.assert_allclose(data.mean, b1.mean(axis=0))


def test_n_train_subsamples_the_training_split(fake_cifar):
    data = load_cifar10(fake_cifar, n_val=20, n_train=40)
    assert data.X_train.shape == (40, 3072)
    with pytest.raises(ValueError, match="n_train"):
        load_cifar10(fake_cifar, n_val=20, n_train=1000)


def test_cache_is_written_outside_the_data_and_notices_changes(fake_cifar, tmp_path):
    before = sorted(os.listdir(fake_cifar))
    first = load_cifar10(fake_cifar, n_val=20)
    assert sorted(os.listdir(fake_cifar)) == before  # the data folder is only read
    caches = list((tmp_path / "cache").glob("cifar10-*"))
    assert len(caches) == 1 and (caches[0] / "X_train.npy").is_file()
    np.testing.assert_array_equal(load_cifar10(fake_cifar, n_val=20).X_train, first.X_train)

    # replace the test batch: a new cache key, new data
    with open(fake_cifar / "test_batch", "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    batch[b"data"] = 255 - batch[b"data"]
    with open(fake_cifar / "test_batch", "wb") as f:
        pickle.dump(batch, f)
    os.utime(fake_cifar / "test_batch", ns=(1, 10**18))
    changed = load_cifar10(fake_cifar, n_val=20)
    assert not np.allclose(changed.X_test, first.X_test)
    assert len(list((tmp_path / "cache").glob("cifar10-*"))) == 2


def test_data_dir_from_environment_variable(fake_cifar, monkeypatch):
    monkeypatch.setenv("BNNET_DATA_DIR", str(fake_cifar))
    assert find_batches_dir() == fake_cifar
    assert load_cifar10(n_val=20).X_train.shape[0] == 130


def test_missing_data_gives_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.delenv("BNNET_DATA_DIR", raising=False)
    with pytest.raises(DataError, match="make data") as err:
        load_cifar10(tmp_path / "nowhere")
    assert "BNNET_DATA_DIR" in str(err.value) and "nowhere" in str(err.value)


def test_bad_batches_are_reported_with_the_file_name(fake_cifar):
    path = fake_cifar / "data_batch_3"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataError, match="data_batch_3 is truncated or corrupt"):
        load_cifar10(fake_cifar)


def test_labels_out_of_range_are_refused(fake_cifar):
    path = fake_cifar / "data_batch_2"
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    batch[b"labels"][0] = 10
    with open(path, "wb") as f:
        pickle.dump(batch, f)
    with pytest.raises(DataError, match=r"data_batch_2: labels must be in 0..9"):
        read_batch(path)


def test_pickle_with_foreign_globals_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "data_batch_1"
    with open(path, "wb") as f:
        pickle.dump({b"data": Evil(), b"labels": [0]}, f)
    with pytest.raises(DataError, match="refusing to load global"):
        read_batch(path)
    assert not marker.exists()


def test_a_bool_is_not_a_count_of_images(fake_cifar):
    with pytest.raises(ValueError, match="n_val=True"):
        load_cifar10(fake_cifar, n_val=True)
    with pytest.raises(ValueError, match="n_train=True"):
        load_cifar10(fake_cifar, n_val=20, n_train=True)


def rewrite_batch(path: Path, **changes) -> None:
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    batch.update({k.encode(): v for k, v in changes.items()})
    with open(path, "wb") as f:
        pickle.dump(batch, f)

@pytest.mark.parametrize(("data", "message"), [
    (np.zeros((30, 1024), np.uint8), r"shape \(N, 3072\), found uint8 with shape \(30, 1024\)"),
    (np.zeros((30, 3072), np.float64), "found float64"),
    ("not an array", "found str"),
])
def test_batch_with_wrong_shape_or_dtype_is_refused(fake_cifar, data, message):
    rewrite_batch(fake_cifar / "data_batch_4", data=data)
    with pytest.raises(DataError, match=f"data_batch_4: 'data' must be a uint8 array.*{message}"):
        load_cifar10(fake_cifar)

def test_batch_with_fewer_labels_than_images_is_refused(fake_cifar):
    rewrite_batch(fake_cifar / "test_batch", labels=[1, 2, 3])
    with pytest.raises(DataError, match="test_batch: 30 images but 3 labels"):
        read_batch(fake_cifar / "test_batch")

def test_missing_batch_file_is_named(fake_cifar):
    (fake_cifar / "data_batch_5").unlink()
    with pytest.raises(DataError, match="incomplete CIFAR-10 copy: missing data_batch_5"):
        load_cifar10(fake_cifar)
