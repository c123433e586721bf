"""Turn untrusted image bytes into a clean, upright JPEG without EXIF, a thumbnail and the GPS it carried."""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from struct import error as struct_error  # truncated EXIF raises it

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

register_heif_opener()

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_PIXELS = 64_000_000  # a 48–50 MP phone photo passes; a decompression bomb does not
MAX_STORED_EDGE = 4096  # what staff need to see; bigger only costs storage
THUMBNAIL_EDGE = 320
JPEG_QUALITY = 85

# What Pillow may decode. Named by Pillow's format, i.e. by content, never by file name or declared type.
ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "HEIF", "GIF", "BMP", "TIFF"})


class ImageRejected(ValueError):
    """The bytes are not an acceptable image; `http_status` is 413 (too large), 415 (not an image) or 400."""

    def __init__(self, reason: str, http_status: int):
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status


@dataclass(frozen=True)
class ProcessedImage:
    jpeg_bytes: bytes
    thumbnail_bytes: bytes
    width: int
    height: int
    gps: tuple[float, float] | None  # from EXIF, before it was removed: a candidate location, never the truth
    content_type: str = "image/jpeg"


def process_image(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES,
                  max_pixels: int = DEFAULT_MAX_PIXELS) -> ProcessedImage:
    if len(data) > max_bytes:
        raise ImageRejected(f"the image is larger than {max_bytes // (1024 * 1024)} MiB", 413)
    if not data:
        raise ImageRejected("the file is empty", 415)
    with warnings.catch_warnings():
        # Pillow's own bomb guard warns first and raises later; both mean "refuse".
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))  # reads the header only
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected("the image declares too many pixels", 400) from None
        except UnidentifiedImageError:
            raise ImageRejected("the file is not an image", 415) from None
        except (OSError, SyntaxError, ValueError):
            raise ImageRejected("the image is malformed", 400) from None
        with image:
            if image.format not in ACCEPTED_FORMATS:
                raise ImageRejected(f"image type {image.format} is not accepted", 415)
            width, height = image.size
            if width <= 0 or height <= 0 or width * height > max_pixels:
                raise ImageRejected(f"the image has more than {max_pixels} pixels", 400)
            try:
                image.load()  # before EXIF: reading a PNG's EXIF loads it, and would hide a broken image
                gps = read_gps(image)
                upright = ImageOps.exif_transpose(image)
                rgb = _to_rgb(upright)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise ImageRejected("the image declares too many pixels", 400) from None
            except (OSError, SyntaxError, ValueError, EOFError, struct_error):
                raise ImageRejected("the image is malformed or truncated", 400) from None
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
    )


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
    except Exception:  # noqa: BLE001 — EXIF is untrusted and optional; broken EXIF means no GPS, not no photo
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

