"""Images: scikit-image's bundled sample images (no download), as float32 RGB arrays in [0, 1].

The images shown in the demo are held out of training, so their reconstructions show what the
autoencoder learned, not what it memorised.
"""
import numpy as np
from PIL import Image

# Shown (and compared) by default; never trained on.
DEMO_IMAGES = ("astronaut", "coffee", "chelsea", "rocket")
# Trained on: photos, textures and micrographs, colour and grey (grey is repeated to RGB).
TRAIN_IMAGES = ("stereo_motorcycle", "immunohistochemistry", "hubble_deep_field", "retina",
                "camera", "brick", "grass", "gravel", "coins", "moon", "page", "clock", "horse")


def load(name):
    """The sample image `name` of skimage.data as a float32 [H, W, 3] array in [0, 1].
    Raises ValueError for a name skimage.data does not have."""
    from skimage import data  # imported here: only the demo needs scikit-image
    loader = getattr(data, name, None)
    if loader is None or not callable(loader):
        raise ValueError("skimage.data has no image '%s' (try astronaut, coffee, chelsea, rocket, camera)" % name)
    try:
        img = loader()
    except Exception as e:  # noqa: BLE001 - e.g. a newer scikit-image that would download this one
        raise RuntimeError("skimage.data.%s() failed: %s: %s" % (name, type(e).__name__, e)) from e
    if isinstance(img, tuple):  # stereo_motorcycle: (left, right, disparity)
        img = img[0]
    img = np.asarray(img)
    if img.dtype == bool:
        img = img.astype(np.uint8) * 255
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    img = img[:, :, :3]
    if img.dtype != np.uint8:  # some samples are float or 16-bit: rescale their own range
        lo, hi = float(img.min()), float(img.max())
        return ((img.astype(np.float32) - lo) / max(hi - lo, 1e-12)).astype(np.float32)
    return img.astype(np.float32) / 255.0


def resize(img, height, width):
    """Resizes a float [H, W, 3] image in [0, 1] with PIL's Lanczos filter."""
    pil = Image.fromarray(np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8))
    return np.asarray(pil.resize((width, height), Image.LANCZOS), dtype=np.float32) / 255.0


def fit(img, longest, multiple):
    """`img` at its own aspect ratio, its longer side scaled to `longest` (0: kept as it is), then each
    side cropped about the centre to a multiple of `multiple` (the network halves the size that many
    times; at most multiple - 1 pixels go): the demo's whole-image input, one size per image."""
    h, w = img.shape[:2]
    if longest > 0 and max(h, w) != longest:
        k = longest / max(h, w)
        img = resize(img, max(multiple, round(h * k)), max(multiple, round(w * k)))
        h, w = img.shape[:2]
    ch, cw = h - h % multiple, w - w % multiple
    top, left = (h - ch) // 2, (w - cw) // 2
    return img[top:top + ch, left:left + cw]


def load_training_images(names, scales, log):
    """Each loadable image of `names` at each short side of `scales` (so patches see the scales that
    whole images are shown at). An image this scikit-image cannot provide without a download is
    skipped with a note; returns the list of arrays and the names used."""
    out, used = [], []
    for name in names:
        try:
            img = load(name)
        except (RuntimeError, ValueError) as e:  # a sample this scikit-image lacks is skipped
            log("  skipping training image %s: %s: %s" % (name, type(e).__name__, e))
            continue
        h, w = img.shape[:2]
        for s in scales:
            k = s / min(h, w)
            out.append(resize(img, max(s, round(h * k)), max(s, round(w * k))))
        used.append(name)
    if not out:
        raise RuntimeError("no training image could be loaded from skimage.data (tried %s)" % ", ".join(names))
    return out, used


class PatchSampler:
    """Random patch x patch crops of the training images, flipped at random, as [N, 3, p, p] float32."""

    def __init__(self, images, patch, seed):
        self.images = [im for im in images if min(im.shape[:2]) >= patch]
        if not self.images:
            raise ValueError("every training image is smaller than the %d-pixel patch" % patch)
        self.patch = patch
        self.rng = np.random.default_rng(seed)
        # Larger images give proportionally more patches.
        areas = np.array([im.shape[0] * im.shape[1] for im in self.images], dtype=np.float64)
        self.weights = areas / areas.sum()

    def batch(self, n):
        p, out = self.patch, np.empty((n, 3, self.patch, self.patch), np.float32)
        for i, k in enumerate(self.rng.choice(len(self.images), size=n, p=self.weights)):
            im = self.images[k]
            y = self.rng.integers(0, im.shape[0] - p + 1)
            x = self.rng.integers(0, im.shape[1] - p + 1)
            crop = im[y:y + p, x:x + p]
            if self.rng.random() < 0.5:
                crop = crop[:, ::-1]
            out[i] = crop.transpose(2, 0, 1)
        return out
