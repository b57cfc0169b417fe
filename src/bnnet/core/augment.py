"""Data augmentation on a mini-batch of flattened CIFAR-10 images, vectorised.

A row of ``X`` is an image in the official layout: 1024 red, then 1024 green, then 1024
blue values, each plane 32 x 32 in row-major order, so ``X.reshape(N, 3, 32, 32)`` is a
view of the batch as images.
"""

from __future__ import annotations

import numpy as np

from bnnet.cifar10 import IMAGE_SHAPE, IMAGE_SIZE


def flip_images(X: np.ndarray) -> np.ndarray:
    """Every image mirrored left to right, shape (N, 3072) -> (N, 3072) (a new array)."""
    n, d = X.shape
    if d != IMAGE_SIZE:
        raise ValueError(f"flipping needs 32 x 32 x 3 images (3072 values per row), got {d}")
    return np.ascontiguousarray(X.reshape(n, *IMAGE_SHAPE)[..., ::-1]).reshape(n, d)


#: Per image of a batch: flipped (bool (N,)), translation dy, dx (int (N,) each).
Draws = tuple[np.ndarray, np.ndarray, np.ndarray]


def augment_draws(rng: np.random.Generator, n: int, *, flip: bool, shift: int) -> Draws:
    """The random choices of :func:`augment_batch` for ``n`` images, in its order: whether
    each image is flipped (bool (n,)), then its translation ``dy``, ``dx`` (int (n,) each;
    0 without ``shift``). Nothing is drawn for what is off."""
    flipped = rng.random(n) < 0.5 if flip else np.zeros(n, bool)
    if not shift:
        return flipped, np.zeros(n, np.int64), np.zeros(n, np.int64)
    dy, dx = rng.integers(-shift, shift + 1, size=(2, n))
    return flipped, dy, dx


def augment_batch(
    X: np.ndarray, rng: np.random.Generator, *, flip: bool, shift: int
) -> np.ndarray:
    """Randomly flipped and translated copies of the images of a mini-batch.

    Args:
        X: the batch, shape (N, 3072) (normalised inputs).
        rng: draws, per image, whether to flip and the translation.
        flip: flip each image horizontally with probability 1/2.
        shift: translate each image by dx, dy drawn uniformly from {-shift, ..., shift};
            pixels shifted in are 0, the training mean of normalised inputs.

    Returns:
        the augmented batch, shape (N, 3072), same dtype (``X`` itself when there is
        nothing to do; otherwise ``X`` is not modified).
    """
    n, d = X.shape
    if d != IMAGE_SIZE:
        raise ValueError(
            f"augmentation needs 32 x 32 x 3 images (3072 values per row), got {d}; "
            "set flip=False and shift=0 for other inputs"
        )
    if not flip and not shift:
        return X
    draws = augment_draws(rng, n, flip=flip, shift=shift)
    return apply_augmentation(X, draws, flip=flip, shift=shift)


def apply_augmentation(X: np.ndarray, draws: Draws, *, flip: bool, shift: int) -> np.ndarray:
    """The images of ``X`` (N, 3072) flipped and translated as ``draws`` (from
    :func:`augment_draws` with the same ``flip`` and ``shift``) say: a new array (``X`` is
    not modified), unless both are off."""
    n, d = X.shape
    flipped, dy, dx = draws
    images = X.reshape(n, *IMAGE_SHAPE)
    if flip:
        images = np.where(flipped[:, None, None, None], images[..., ::-1], images)
    if not shift:
        return images.reshape(n, d)
    # one slice copy per distinct translation (at most (2 shift + 1)^2 groups): 2-3x
    # faster than gathering every pixel with fancy indexing
    _, height, width = IMAGE_SHAPE
    side = 2 * shift + 1
    group = (dy + shift) * side + (dx + shift)
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(side * side + 1))
    out = np.zeros((n, *IMAGE_SHAPE), X.dtype)  # 0 = the training mean, shifted in
    for g in range(side * side):
        rows = order[bounds[g] : bounds[g + 1]]
        if not len(rows):
            continue
        a, b = g // side - shift, g % side - shift  # output pixel (r, c) = input (r - a, c - b)
        out[rows, :, max(0, a) : height + min(0, a), max(0, b) : width + min(0, b)] = \
            images[rows, :, max(0, -a) : height + min(0, -a), max(0, -b) : width + min(0, -b)]
    return out.reshape(n, d)
