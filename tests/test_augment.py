import numpy as np
import pytest

from bnnet.core.augment import augment_batch


@pytest.fixture
def batch():
    return np.random.default_rng(0).standard_normal((64, 3072)).astype(np.float32)


def as_images(X):
    return X.reshape(len(X), 3, 32, 32)


def test_nothing_to_do_returns_the_batch_itself(batch):
    assert augment_batch(batch, np.random.default_rng(0), flip=False, shift=0) is batch


def test_flip_mirrors_about_half_of_the_images_and_nothing_else(batch):
    before = batch.copy()
    out = augment_batch(batch, np.random.default_rng(1), flip=True, shift=0)
    np.testing.assert_array_equal(batch, before)  # the input is not modified
    assert out.dtype == np.float32 and out.shape == batch.shape
    same = (as_images(out) == as_images(batch)).all(axis=(1, 2, 3))
    mirrored = (as_images(out) == as_images(batch)[..., ::-1]).all(axis=(1, 2, 3))
    assert (same | mirrored).all()
    assert 16 < mirrored.sum() < 48


def test_shift_translates_each_image_with_zero_fill(batch):
    s = 3
    out = as_images(augment_batch(batch, np.random.default_rng(2), flip=False, shift=s))
    images = as_images(batch)
    seen = set()
    for i in range(len(batch)):
        matches = []
        for dy in range(-s, s + 1):
            for dx in range(-s, s + 1):
                padded = np.pad(images[i], ((0, 0), (s, s), (s, s)))
                moved = padded[:, s - dy : s - dy + 32, s - dx : s - dx + 32]
                if np.array_equal(out[i], moved):
                    matches.append((dy, dx))
        assert len(matches) == 1, i
        seen.add(matches[0])
    assert len(seen) > 15  # the shifts vary over the batch (49 possible)


def test_same_seed_same_augmentation_and_wrong_width_is_refused(batch):
    a = augment_batch(batch, np.random.default_rng(5), flip=True, shift=2)
    b = augment_batch(batch, np.random.default_rng(5), flip=True, shift=2)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="3072"):
        augment_batch(batch[:, :100], np.random.default_rng(0), flip=True, shift=0)
