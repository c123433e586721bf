"""Turn untrusted image bytes into a clean, upright JPEG without EXIF, a thumbnail and the GPS it carried.

Phone panoramas and 200 MP sensors make JPEGs of 150 MP and more. Those are not bombs: a JPEG can be decoded
at 1/2, 1/4 or 1/8 of its size for a fraction of the cost (Pillow's draft mode, libjpeg's DCT scaling), and
staff never need more than MAX_STORED_EDGE pixels anyway. So a JPEG is judged by the pixels it will be
decoded to, and may declare up to `max_declared_pixels`; formats that cannot be decoded reduced (PNG, WebP,
HEIF, ...) must fit `max_pixels` as they are. Only what is over those, or not an image at all, is refused.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from struct import error as struct_error  # truncated EXIF raises it

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from meldingen.media import refusals

register_heif_opener()

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_PIXELS = 64_000_000  # decoded pixels: a 48–50 MP phone photo passes; a decompression bomb does not
DEFAULT_MAX_DECLARED_PIXELS = 600_000_000  # a JPEG's own size, when it is decoded reduced (a 200 MP photo: 1/4)
MAX_STORED_EDGE = 4096  # what staff need to see; bigger only costs storage
DRAFT_MIN_EDGE = 3072  # a large JPEG is decoded at the smallest scale that keeps its long edge at least this
THUMBNAIL_EDGE = 320
JPEG_QUALITY = 85
DRAFT_FORMATS = frozenset({"JPEG", "MPO"})

# Pillow's own bomb guard (warn above MAX_IMAGE_PIXELS, refuse above twice that) fires on open, before we can
# choose a reduced decode. Our limits above are the guard; Pillow's is kept as a backstop beyond them.
Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, 1_100_000_000)

# What Pillow may decode. Named by Pillow's format, i.e. by content, never by file name or declared type.
ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "HEIF", "GIF", "BMP", "TIFF"})


class ImageRejected(ValueError):
    """The bytes are not an acceptable image; `http_status` is 413 (too large), 415 (not an image) or 400.

    `reason` is English, for systems and logs; `code` (media/refusals.py) is what residents are told about.
    """

    def __init__(self, reason: str, http_status: int, code: str = refusals.UNKNOWN):
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status
        self.code = code


@dataclass(frozen=True)
class ProcessedImage:
    jpeg_bytes: bytes
    thumbnail_bytes: bytes
    width: int
    height: int
    gps: tuple[float, float] | None  # from EXIF, before it was removed: a candidate location, never the truth
    content_type: str = "image/jpeg"
    original_width: int = 0  # as the file declared it, before a reduced decode
    original_height: int = 0
    decode_scale: int = 1  # 1, 2, 4 or 8: the file was decoded at 1/decode_scale of its size


def draft_size(width: int, height: int, min_edge: int = DRAFT_MIN_EDGE) -> tuple[int, int] | None:
    """The size to ask draft mode for, so the long edge stays at least `min_edge`; None when no reduction."""
    long_edge = max(width, height)
    if long_edge < 2 * min_edge:
        return None  # even 1/2 would go below min_edge: decode as it is
    factor = min_edge / long_edge
    return max(1, math.ceil(width * factor)), max(1, math.ceil(height * factor))


def process_image(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES, max_pixels: int = DEFAULT_MAX_PIXELS,
                  max_declared_pixels: int = DEFAULT_MAX_DECLARED_PIXELS) -> ProcessedImage:
    if len(data) > max_bytes:
        raise ImageRejected(f"the image is larger than {max_bytes // (1024 * 1024)} MiB", 413, refusals.TOO_LARGE)
    if not data:
        raise ImageRejected("the file is empty", 415, refusals.EMPTY)
    with warnings.catch_warnings():
        # Pillow's own bomb guard warns first and raises later; both mean "refuse".
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))  # reads the header only
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected("the image declares too many pixels", 400, refusals.TOO_MANY_PIXELS) from None
        except UnidentifiedImageError:
            raise ImageRejected("the file is not an image", 415, refusals.NOT_IMAGE) from None
        except (OSError, SyntaxError, ValueError):
            raise ImageRejected("the image is malformed", 400, refusals.MALFORMED) from None
        with image:
            if image.format not in ACCEPTED_FORMATS:
                raise ImageRejected(f"image type {image.format} is not accepted", 415, refusals.FORMAT_NOT_ACCEPTED)
            original = image.size
            scale = _choose_decode(image, max_pixels, max_declared_pixels)
            try:
                image.load()  # before EXIF: reading a PNG's EXIF loads it, and would hide a broken image
                gps = read_gps(image)
                upright = ImageOps.exif_transpose(image)
                rgb = _to_rgb(upright)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise ImageRejected("the image declares too many pixels", 400, refusals.TOO_MANY_PIXELS) from None
            except (OSError, SyntaxError, ValueError, EOFError, struct_error):
                raise ImageRejected("the image is malformed or truncated", 400, refusals.MALFORMED) from None
    if max(rgb.size) > MAX_STORED_EDGE:
        rgb.thumbnail((MAX_STORED_EDGE, MAX_STORED_EDGE), Image.Resampling.LANCZOS)
    thumbnail = rgb.copy()
    thumbnail.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE), Image.Resampling.LANCZOS)
    return ProcessedImage(
        jpeg_bytes=_jpeg(rgb),
        thumbnail_bytes=_jpeg(thumbnail),
        width=rgb.width,
        height=rgb.height,
        gps=gps,
        original_width=original[0],
        original_height=original[1],
        decode_scale=scale,
    )


def _choose_decode(image: Image.Image, max_pixels: int, max_declared_pixels: int) -> int:
    """Check the declared size against the limits and, for a large JPEG, switch to a reduced decode.

    Answers the scale denominator (1, 2, 4, 8); raises ImageRejected for a bomb.
    """
    width, height = image.size
    declared = width * height
    if width <= 0 or height <= 0:
        raise ImageRejected("the image has no pixels", 400, refusals.MALFORMED)
    if image.format in DRAFT_FORMATS and declared <= max_declared_pixels:
        target = draft_size(width, height)
        if target is not None:
            image.draft(image.mode, target)  # changes image.size to the reduced size libjpeg will decode
        decoded = image.size[0] * image.size[1]
        if decoded > max_pixels:
            raise ImageRejected(f"the image has more than {max_pixels} pixels even when reduced", 400,
                                refusals.TOO_MANY_PIXELS)
        return max(1, round(width / image.size[0]))
    limit = max_declared_pixels if image.format in DRAFT_FORMATS else max_pixels
    if declared > limit:
        raise ImageRejected(f"the image has more than {limit} pixels", 400, refusals.TOO_MANY_PIXELS)
    return 1


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # No exif=, icc_profile= or comment: nothing of the original's metadata is carried over.
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def read_gps(image: Image.Image) -> tuple[float, float] | None:
    """(lat, lon) from the EXIF GPS block (degrees/minutes/seconds with N/S/E/W), or None when absent or nonsense."""
    try:
        gps = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:
        return None
    if not gps:
        return None
    try:
        lat = _degrees(gps[ExifTags.GPS.GPSLatitude], gps.get(ExifTags.GPS.GPSLatitudeRef, "N"), "S")
        lon = _degrees(gps[ExifTags.GPS.GPSLongitude], gps.get(ExifTags.GPS.GPSLongitudeRef, "E"), "W")
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:  # "no fix" written as zeros
        return None
    return round(lat, 7), round(lon, 7)


def _degrees(value, ref, negative_ref: str) -> float:
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "ignore")
    parts = [float(v) for v in value]
    if len(parts) != 3:
        raise ValueError("GPS coordinate is not degrees, minutes, seconds")
    degrees = parts[0] + parts[1] / 60 + parts[2] / 3600
    return -degrees if str(ref).strip().upper() == negative_ref else degrees

