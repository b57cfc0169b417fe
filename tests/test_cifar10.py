"""Getting the data (bnnet.cifar10): the download is md5-checked, extracted safely, and
every failure says how to get the data."""

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from bnnet import DataError, download_cifar10, load_cifar10
from tests.conftest import write_fake_cifar


def make_archive(path: Path, members: dict[str, bytes]) -> str:
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return hashlib.md5(path.read_bytes()).hexdigest()

def test_download_verifies_md5_extracts_and_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("BNNET_CACHE_DIR", str(tmp_path / "cache"))
    source = write_fake_cifar(tmp_path / "src")
    members = {f"cifar-10-batches-py/{p.name}": p.read_bytes() for p in source.iterdir()}
    archive = tmp_path / "served.tar.gz"
    md5 = make_archive(archive, members)
    folder = download_cifar10(tmp_path / "data", url=archive.as_uri(), md5=md5)
    assert folder == tmp_path / "data" / "cifar-10-batches-py"
    assert load_cifar10(tmp_path / "data", n_val=20).X_train.shape == (130, 3072)

def test_download_with_wrong_md5_is_refused_and_removed(tmp_path):
    archive = tmp_path / "served.tar.gz"
    make_archive(archive, {"cifar-10-batches-py/test_batch": b"x"})
    target = tmp_path / "data"
    with pytest.raises(DataError, match=r"has md5 .* expected 0{32}.*It was removed"):
        download_cifar10(target, url=archive.as_uri(), md5="0" * 32)
    assert list(target.iterdir()) == []  # neither the archive nor a partial file is left

def test_archive_escaping_the_target_is_refused(tmp_path):
    archive = tmp_path / "served.tar.gz"
    md5 = make_archive(archive, {"cifar-10-batches-py/test_batch": b"x",
                                 "../escaped.txt": b"owned"})
    with pytest.raises(DataError, match=r"refusing to extract '\.\./escaped\.txt'"):
        download_cifar10(tmp_path / "data", url=archive.as_uri(), md5=md5)
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "data" / "cifar-10-batches-py").exists()  # nothing extracted

def test_no_network_says_how_to_get_the_data(tmp_path):
    with pytest.raises(DataError, match=r"could not download.*BNNET_DATA_DIR"):
        download_cifar10(tmp_path / "data", url="http://127.0.0.1:9/cifar-10-python.tar.gz")
    assert not any((tmp_path / "data").iterdir())
