"""KTP photo and selfie processing: decode, refuse what is not a usable photo, re-encode.

The type is decided by decoding (never the file name or Content-Type). The header's pixel count is checked
before any pixel is decoded (decompression bombs). The stored image is re-encoded as JPEG without any
metadata: EXIF (GPS included) is dropped after its orientation has been applied. CPU-bound: call
`process_image` through `asyncio.to_thread`, before the request touches the database.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, ImageStat, UnidentifiedImageError

from shared.i18n import Text

ALLOWED_FORMATS = {"JPEG", "PNG"}


@dataclass(frozen=True)
class ImageRules:
    max_bytes: int
    max_pixels: int
    max_side: int
    jpeg_quality: int
    min_long_side: int
    min_short_side: int
    min_luminance: float
    min_stddev: float


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    width: int
    height: int
    sha256: str
    content_type: str = "image/jpeg"


class ImageRejected(Exception):
    def __init__(self, code: str, text: Text, status: int = 422) -> None:
        super().__init__(code)
        self.code = code
        self.text = text
        self.status = status


NOT_AN_IMAGE = Text(
    "Berkas ini bukan foto JPEG atau PNG. Unggah foto dalam format JPEG atau PNG.",
    "This file is not a JPEG or PNG photo. Upload a JPEG or PNG photo.",
)
CORRUPT = Text(
    "Foto tidak dapat dibaca (berkas rusak atau terpotong). Ambil ulang foto lalu unggah lagi.",
    "The photo cannot be read (the file is damaged or cut off). Take the photo again and upload it.",
)
TOO_LARGE = Text(
    "Ukuran berkas foto maksimal {mb} MB. Kecilkan foto lalu unggah lagi.",
    "The photo may be at most {mb} MB. Make it smaller and upload it again.",
)
TOO_MANY_PIXELS = Text(
    "Resolusi foto terlalu besar (maksimal {mp} megapiksel). Unggah foto biasa dari kamera ponsel.",
    "The photo's resolution is too large (at most {mp} megapixels). Upload an ordinary phone camera photo.",
)
TOO_SMALL = Text(
    "Foto terlalu kecil ({width}x{height} piksel); minimal {min_w}x{min_h}. Ambil foto lebih dekat dan jelas.",
    "The photo is too small ({width}x{height} pixels); at least {min_w}x{min_h}. Take a closer, clearer photo.",
)
TOO_DARK = Text(
    "Foto terlalu gelap. Ambil ulang foto di tempat yang lebih terang.",
    "The photo is too dark. Take it again somewhere brighter.",
)
BLANK = Text(
    "Foto tampak kosong (satu warna saja). Pastikan KTP atau wajah Anda terlihat jelas di foto.",
    "The photo looks blank (a single colour). Make sure the KTP or your face is clearly visible.",
)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: PNG transparency must not turn into black."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _too_many_pixels(rules: ImageRules) -> ImageRejected:
    return ImageRejected("image_too_many_pixels", TOO_MANY_PIXELS.format(mp=rules.max_pixels // 1_000_000))


def process_image(raw: bytes, rules: ImageRules) -> ProcessedImage:
    """Check and re-encode an upload; raises ImageRejected with a code and a message that says what to do."""
    if len(raw) > rules.max_bytes:
        raise ImageRejected("image_too_large", TOO_LARGE.format(mb=rules.max_bytes // (1024 * 1024)), status=413)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw), formats=sorted(ALLOWED_FORMATS))
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(rules) from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageRejected("image_type_unsupported", NOT_AN_IMAGE) from exc
    with image:
        width, height = image.size
        # Checked on the header, before decoding a single pixel.
        if width * height > rules.max_pixels:
            raise _too_many_pixels(rules)
        try:
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            rgb = _flatten(upright)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise ImageRejected("image_corrupt", CORRUPT) from exc
    width, height = rgb.size
    if max(width, height) < rules.min_long_side or min(width, height) < rules.min_short_side:
        raise ImageRejected(
            "image_too_small",
            TOO_SMALL.format(width=width, height=height, min_w=rules.min_long_side, min_h=rules.min_short_side),
        )
    sample = rgb.convert("L")
    sample.thumbnail((256, 256))
    stat = ImageStat.Stat(sample)
    if stat.mean[0] < rules.min_luminance:
        raise ImageRejected("image_too_dark", TOO_DARK)
    if stat.stddev[0] < rules.min_stddev:
        raise ImageRejected("image_blank", BLANK)
    rgb.thumbnail((rules.max_side, rules.max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # No exif=, no icc_profile=: the stored file carries no metadata at all.
    rgb.save(out, format="JPEG", quality=rules.jpeg_quality, optimize=True)
    data = out.getvalue()
    return ProcessedImage(data=data, width=rgb.width, height=rgb.height, sha256=hashlib.sha256(data).hexdigest())
