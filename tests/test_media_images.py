"""Photos from residents and staff: checked by content, upright, without EXIF, GPS kept as a candidate, bombs refused."""

from __future__ import annotations

import io
import struct
import zlib

import pillow_heif
import pytest
from PIL import ExifTags, Image

from meldingen.media.images import ImageRejected, process_image

MiB = 1024 * 1024


def jpeg_with_gps_and_orientation(orientation: int = 6) -> bytes:
    """A 200x100 photo whose left half is red, stored sideways with Orientation 6 like a phone does,
    with GPS for Amsterdam's Dam square (52°22'22.8"N, 4°53'34.8"E)."""
    image = Image.new("RGB", (200, 100), "blue")
    image.paste((255, 0, 0), (0, 0, 100, 100))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Telefoonmerk"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 22.0, 22.8),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (4.0, 53.0, 34.8),
    }
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=95)
    return out.getvalue()


def png(width: int = 40, height: int = 30, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (10, 200, 30) if mode == "RGB" else (10, 200, 30, 0)).save(out, format="PNG")
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims an enormous size: the classic decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def test_phone_photo_is_turned_upright_stripped_of_exif_and_its_gps_kept():
    result = process_image(jpeg_with_gps_and_orientation(6))
    assert (result.width, result.height) == (100, 200)  # orientation 6: rotate 90° clockwise
    out = Image.open(io.BytesIO(result.jpeg_bytes))
    assert out.format == "JPEG" and out.size == (100, 200)
    assert not out.getexif() and "exif" not in out.info
    assert b"Exif" not in result.jpeg_bytes and b"Telefoonmerk" not in result.jpeg_bytes
    # after a clockwise turn the red left half is on top
    assert out.getpixel((50, 20))[0] > 200 and out.getpixel((50, 180))[2] > 200
    lat, lon = result.gps
    assert lat == pytest.approx(52.373, abs=1e-4) and lon == pytest.approx(4.893, abs=1e-4)
    assert result.content_type == "image/jpeg"


def test_southern_and_western_references_give_negative_coordinates():
    image = Image.new("RGB", (10, 10))
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = {1: "S", 2: (33.0, 51.0, 0.0), 3: "W", 4: (70.0, 30.0, 0.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    assert process_image(out.getvalue()).gps == (-33.85, -70.5)


def test_photo_without_gps_has_none_and_thumbnail_is_small():
    result = process_image(png(1000, 600))
    assert result.gps is None
    thumb = Image.open(io.BytesIO(result.thumbnail_bytes))
    assert thumb.format == "JPEG" and max(thumb.size) == 320 and thumb.size == (320, 192)


def test_transparent_png_becomes_a_jpeg_on_white():
    result = process_image(png(20, 20, "RGBA"))
    assert Image.open(io.BytesIO(result.jpeg_bytes)).getpixel((5, 5)) == pytest.approx((255, 255, 255), abs=3)


def test_heic_photo_is_converted_to_jpeg():
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(out, format="HEIF")
    data = out.getvalue()
    assert data[4:12] in (b"ftypheic", b"ftypmif1", b"ftypheix")
    result = process_image(data)
    assert Image.open(io.BytesIO(result.jpeg_bytes)).format == "JPEG"
    assert (result.width, result.height) == (64, 48)


@pytest.mark.parametrize("data", [b"%PDF-1.7 not an image", b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                                  b"just words", b"\x00" * 100])
def test_what_is_not_an_image_is_refused_as_unsupported_media(data):
    with pytest.raises(ImageRejected) as caught:
        process_image(data)
    assert caught.value.http_status == 415


def test_a_pdf_named_like_a_photo_is_still_not_an_image():
    # the content decides: there is no name or content type to go by at all
    with pytest.raises(ImageRejected):
        process_image(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n")


def test_empty_file_is_refused():
    with pytest.raises(ImageRejected) as caught:
        process_image(b"")
    assert caught.value.http_status == 415


def test_bytes_over_the_limit_are_too_large_before_decoding():
    with pytest.raises(ImageRejected) as caught:
        process_image(b"\xff\xd8\xff" + b"\x00" * (2 * MiB), max_bytes=1 * MiB)
    assert caught.value.http_status == 413


@pytest.mark.parametrize("width, height", [(30_000, 30_000), (100_000, 100_000)])
def test_decompression_bomb_is_refused_without_decoding(width, height):
    with pytest.raises(ImageRejected) as caught:
        process_image(png_declaring(width, height))
    assert caught.value.http_status == 400


def test_pixel_limit_is_configurable():
    with pytest.raises(ImageRejected) as caught:
        process_image(png(200, 200), max_pixels=10_000)
    assert caught.value.http_status == 400
    assert process_image(png(100, 100), max_pixels=10_000).width == 100


def test_truncated_jpeg_is_malformed():
    data = jpeg_with_gps_and_orientation()
    with pytest.raises(ImageRejected) as caught:
        process_image(data[: len(data) // 2])
    assert caught.value.http_status == 400


def test_image_whose_pixel_data_is_damaged_is_malformed():
    data = bytearray(png(50, 50))
    idat = data.index(b"IDAT")
    data[idat + 6: idat + 16] = b"\x13" * 10  # inside the compressed pixels; the chunk's CRC no longer fits
    with pytest.raises(ImageRejected) as caught:
        process_image(bytes(data))
    assert caught.value.http_status == 400


def test_huge_dimensions_are_scaled_down_for_storage():
    result = process_image(png(5000, 1000))
    assert (result.width, result.height) == (4096, 819)


def test_pillow_heif_is_the_registered_heif_opener():
    assert pillow_heif.__version__
    assert "HEIF" in Image.OPEN
