"""Data augmentation on a mini-batch of flattened CIFAR-10 images, vectorised.

A row of ``X`` is an image in the official layout: 1024 red, then 1024 green, then 1024
blue values, each plane 32 x 32 in row-major order, so ``X.reshape(N, 3, 32, 32)`` is a
view of the batch as images.
"""

from __future__ import annotations

import numpy as np

IMAGE_SHAPE = (3, 32, 32)


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
    if d != int(np.prod(IMAGE_SHAPE)):
        raise ValueError(
            f"augmentation needs 32 x 32 x 3 images (3072 values per row), got {d}; "
            "set flip=False and shift=0 for other inputs"
        )
    if not flip and not shift:
        return X
    images = X.reshape(n, *IMAGE_SHAPE)
    _, height, width = IMAGE_SHAPE
    rows = np.broadcast_to(np.arange(height), (n, height))
    cols = np.broadcast_to(np.arange(width), (n, width))
    if flip:
        flipped = rng.random(n) < 0.5
        cols = np.where(flipped[:, None], width - 1 - cols, cols)
    if shift:
        padded = np.zeros((n, IMAGE_SHAPE[0], height + 2 * shift, width + 2 * shift), X.dtype)
        padded[:, :, shift:-shift, shift:-shift] = images
        dy, dx = rng.integers(-shift, shift + 1, size=(2, n))
        # output pixel (r, c) reads input pixel (r - dy, c - dx), at (r - dy + shift, ...) in
        # the padded image
        rows = rows - dy[:, None] + shift
        cols = cols - dx[:, None] + shift
        images = padded
    out = images[np.arange(n)[:, None, None, None], np.arange(IMAGE_SHAPE[0])[None, :, None, None],
                 rows[:, None, :, None], cols[:, None, None, :]]
    return out.reshape(n, d)
