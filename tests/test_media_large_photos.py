"""Phone panoramas of 150 MP and more are decoded reduced and stored; only bombs and non-images are refused."""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image

from meldingen.media import refusals
from meldingen.media.images import (
    DRAFT_MIN_EDGE,
    MAX_STORED_EDGE,
    ImageRejected,
    draft_size,
    process_image,
)

PANORAMA = (16_000, 9_600)  # 153.6 MP, as a phone's panorama mode makes


def jpeg(size, *, mode="L", exif=None, quality=50) -> bytes:
    """A photo whose left half is white and right half black, so its orientation can be checked."""
    image = Image.new(mode, size, 0)
    image.paste(255, (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def phone_exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (52.0, 22.0, 22.8),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (4.0, 53.0, 34.8),
    }
    return exif


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) is rewritten to claim another size: a JPEG bomb."""
    data = bytearray(jpeg((64, 48)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


@pytest.fixture(scope="module")
def panorama() -> bytes:
    return jpeg(PANORAMA, exif=phone_exif(orientation=1))


def test_a_153_megapixel_panorama_is_decoded_at_a_quarter_and_stored_scaled_down(panorama):
    result = process_image(panorama, max_pixels=50_000_000)
    assert (result.original_width, result.original_height) == PANORAMA
    assert result.decode_scale == 4
    assert (result.width, result.height) == (4000, 2400)
    assert max(result.width, result.height) <= MAX_STORED_EDGE
    assert result.gps == pytest.approx((52.3730, 4.8930), abs=1e-3)  # GPS read before EXIF is removed
    opened = Image.open(io.BytesIO(result.jpeg_bytes))
    assert not opened.getexif()  # nothing of the original's metadata is kept
    stored = opened.convert("L")
    assert stored.getpixel((10, 10)) > 200 and stored.getpixel((stored.width - 10, 10)) < 50


def test_draft_decoding_keeps_orientation_from_exif():
    sideways = jpeg((8_000, 4_000), exif=phone_exif(orientation=6))  # phone held upright, stored sideways
    result = process_image(sideways)
    assert result.decode_scale == 2
    assert (result.width, result.height) == (2000, 4000)  # turned upright after the reduced decode
    stored = Image.open(io.BytesIO(result.jpeg_bytes)).convert("L")
    assert stored.getpixel((stored.width // 2, 10)) > 200  # white left half is now the top
    assert stored.getpixel((stored.width // 2, stored.height - 10)) < 50


@pytest.mark.parametrize("size, expected", [
    ((4032, 3024), None),  # an ordinary 12 MP photo is decoded as it is
    ((6143, 4000), None),  # half would go under DRAFT_MIN_EDGE
    ((16_000, 9_600), (3072, 1844)),
    ((30_000, 5_000), (3072, 512)),
])
def test_draft_size_keeps_the_long_edge_at_least_the_minimum(size, expected):
    assert draft_size(*size) == expected
    if expected:
        assert max(expected) >= DRAFT_MIN_EDGE


def test_jpeg_declaring_billions_of_pixels_is_refused_as_a_bomb_before_decoding():
    with pytest.raises(ImageRejected) as caught:
        process_image(jpeg_declaring(65_000, 65_000))
    assert caught.value.http_status == 400 and caught.value.code == refusals.TOO_MANY_PIXELS


def test_declared_limit_for_reduced_decoding_is_configurable(panorama):
    with pytest.raises(ImageRejected) as caught:
        process_image(panorama, max_declared_pixels=100_000_000)
    assert caught.value.code == refusals.TOO_MANY_PIXELS


def test_formats_without_reduced_decoding_must_fit_the_decoded_limit():
    out = io.BytesIO()
    Image.new("L", (3000, 2000), 128).save(out, format="PNG")
    with pytest.raises(ImageRejected) as caught:
        process_image(out.getvalue(), max_pixels=5_000_000, max_declared_pixels=600_000_000)
    assert caught.value.code == refusals.TOO_MANY_PIXELS


@pytest.mark.parametrize("data, code", [
    (b"%PDF-1.7 not an image", refusals.NOT_IMAGE),
    (b"", refusals.EMPTY),
    (jpeg((64, 48))[:300], refusals.MALFORMED),
])
def test_every_refusal_carries_a_code_for_the_resident(data, code):
    with pytest.raises(ImageRejected) as caught:
        process_image(data)
    assert caught.value.code == code


def test_every_refusal_code_has_plain_dutch_and_english():
    for code, texts in refusals.REASONS.items():
        assert set(texts) == {"nl", "en"}, code
    assert refusals.refusal_text([refusals.NOT_IMAGE], "nl") == "het bestand is geen foto"
    assert refusals.refusal_text([refusals.NOT_IMAGE], "en") == "the file is not a photo"
    assert refusals.refusal_text(["no-such-code"], "nl") == refusals.REASONS[refusals.UNKNOWN]["nl"]
    assert refusals.refusal_text([refusals.TOO_LARGE, refusals.TOO_LARGE, refusals.EMPTY], "nl") == (
        "het bestand is te groot en het bestand is leeg")
