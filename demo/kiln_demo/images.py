"""PNG grids: input | PyTorch | kiln | |kiln - PyTorch| amplified, with the amplification drawn on it."""
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

MIN_PANEL = 192  # small test images are enlarged (nearest neighbour) to at least this many pixels
GAP = 6
TITLE_H = 20
FOOTER_H = 20


def _font(size=13):
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default()


def amplification(max_abs):
    """The power of ten that maps the largest difference into (0.1, 1]: a factor a reader can undo.
    1 when the outputs are identical."""
    if not max_abs > 0:
        return 1.0
    return 10.0 ** math.floor(math.log10(1.0 / max_abs))


def power_text(factor):
    """1e6 rather than %g's 1e+06."""
    return "1e%d" % round(math.log10(factor)) if factor > 0 else str(factor)


def _to_pil(chw, scale):
    hwc = np.clip(np.asarray(chw, np.float32).transpose(1, 2, 0), 0.0, 1.0)
    img = Image.fromarray((hwc * 255.0 + 0.5).astype(np.uint8))
    return img.resize((img.width * scale, img.height * scale), Image.NEAREST) if scale > 1 else img


def _label(draw, xy, text, font, fill=(255, 255, 255), box=None):
    if box is not None:
        left, top, right, bottom = draw.textbbox(xy, text, font=font)
        draw.rectangle((left - 3, top - 2, right + 3, bottom + 2), fill=box)
    draw.text(xy, text, font=font, fill=fill)


def difference_panel(kiln, torch_out):
    """|kiln - PyTorch|, the largest over the three channels, times amplification(): a grey [3, H, W] array
    in [0, 1] (white = 1 / factor or more), and the factor."""
    diff = np.abs(np.asarray(kiln, np.float64) - np.asarray(torch_out, np.float64)).max(axis=0)
    factor = amplification(float(diff.max()))
    grey = np.clip(diff * factor, 0.0, 1.0).astype(np.float32)
    return np.repeat(grey[None], 3, axis=0), factor


def save_grid(path, name, image, torch_out, kiln_out, stats, footer):
    """Writes the grid for one image. image/torch_out/kiln_out: [3, H, W] in [0, 1]; stats: the image's
    entry of the report (psnr_pytorch_db, psnr_kiln_db, max_abs_error); footer: one line of context."""
    diff, factor = difference_panel(kiln_out, torch_out)
    size = image.shape[1]
    scale = max(1, -(-MIN_PANEL // size))
    panels = [_to_pil(a, scale) for a in (image, torch_out, kiln_out, diff)]
    pw, ph = panels[0].size
    titles = ["input: %s" % name,
              "PyTorch  %.2f dB" % stats["psnr_pytorch_db"],
              "kiln  %.2f dB" % stats["psnr_kiln_db"],
              "|kiln - PyTorch| x %s" % power_text(factor)]
    canvas = Image.new("RGB", (4 * pw + 5 * GAP, TITLE_H + ph + FOOTER_H + 2 * GAP), (32, 32, 32))
    draw = ImageDraw.Draw(canvas)
    font, small = _font(13), _font(11)
    for i, (panel, title) in enumerate(zip(panels, titles)):
        x = GAP + i * (pw + GAP)
        canvas.paste(panel, (x, TITLE_H + GAP))
        _label(draw, (x, 4), title, font)
    # The scale on the difference panel itself, so a cropped copy still says how to read it.
    dx, dy = GAP + 3 * (pw + GAP), TITLE_H + GAP + ph
    if stats["max_abs_error"] > 0:
        scale_lines = ["x%s: white = %s" % (power_text(factor), power_text(1.0 / factor)),
                       "max %.2e" % stats["max_abs_error"]]
    else:
        scale_lines = ["identical (max 0)"]
    for k, text in enumerate(reversed(scale_lines)):
        _label(draw, (dx + 5, dy - 17 * (k + 1)), text, small, fill=(255, 230, 120), box=(0, 0, 0))
    _label(draw, (GAP, TITLE_H + ph + GAP + 5), footer, small, fill=(200, 200, 200))
    canvas.save(path, optimize=True)
    return factor
