"""KTP photo and selfie uploads: decoded to decide the type, refused with a clear code when unusable,
downscaled and re-encoded without EXIF (GPS included), readable only by the owner and by ops (audited)."""

from __future__ import annotations

import io
import struct
import uuid
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from services.profile.models import AuditEntry
from tests.profile.conftest import photo, upload


def stored_files(settings) -> list[Path]:
    return sorted(p for p in Path(settings.objects_dir).rglob("*.jpg"))


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming a huge image, with a tiny (wrong) body: costs nothing to make."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b"")


def jpeg_with_gps(width: int = 800, height: int = 600, orientation: int | None = None) -> bytes:
    image = Image.open(io.BytesIO(photo(width, height)))
    exif = Image.Exif()
    exif[0x010F] = "KameraHP"  # Make
    gps = {1: "S", 2: (6.0, 24.0, 10.0), 3: "E", 4: (106.0, 49.0, 5.0)}
    exif[0x8825] = gps
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


async def test_upload_is_re_encoded_downscaled_and_readable_by_the_owner(client, applicant, settings):
    _, headers = await applicant()
    r = await upload(client, headers, "ktp", photo(3000, 2000, fmt="PNG"))
    assert r.status_code == 200, r.text
    info = r.json()
    assert (info["kind"], info["content_type"], info["width"], info["height"]) == ("ktp", "image/jpeg", 2000, 1333)
    [path] = stored_files(settings)
    stored = Image.open(path)
    assert stored.format == "JPEG" and stored.size == (2000, 1333)
    r = await client.get("/v1/profiles/me/documents/ktp", headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.content == path.read_bytes()
    assert r.headers["cache-control"] == "private, no-store"
    r = await client.get("/v1/profiles/me/documents/selfie", headers=headers)
    assert r.status_code == 404 and r.json()["code"] == "document_not_found"


async def test_exif_and_gps_are_removed_and_orientation_applied(client, applicant, settings):
    _, headers = await applicant()
    original = jpeg_with_gps(800, 600, orientation=6)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the upload does carry GPS
    r = await upload(client, headers, "selfie", original)
    assert r.status_code == 200, r.text
    assert (r.json()["width"], r.json()["height"]) == (600, 800)  # rotated upright
    [path] = stored_files(settings)
    stored = Image.open(path)
    assert len(stored.getexif()) == 0
    assert "exif" not in stored.info and b"Exif" not in path.read_bytes() and b"KameraHP" not in path.read_bytes()


async def test_png_with_transparency_is_flattened(client, applicant, settings):
    _, headers = await applicant()
    image = Image.open(io.BytesIO(photo(800, 600))).convert("RGBA")
    out = io.BytesIO()
    image.save(out, format="PNG")
    r = await upload(client, headers, "ktp", out.getvalue())
    assert r.status_code == 200, r.text


def _dark() -> bytes:
    gradient = Image.linear_gradient("L").resize((800, 600)).point(lambda v: v // 10)
    out = io.BytesIO()
    gradient.convert("RGB").save(out, format="JPEG")
    return out.getvalue()


def _blank() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 200, 200)).save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("make", "status", "code", "words"),
    [
        (lambda: b"%PDF-1.4 not a photo at all", 422, "image_type_unsupported", "JPEG atau PNG"),
        (lambda: photo(fmt="GIF"), 422, "image_type_unsupported", "JPEG atau PNG"),
        (lambda: photo(800, 600)[:3000], 422, "image_corrupt", "rusak"),
        (lambda: png_claiming(100_000, 100_000), 422, "image_too_many_pixels", "Resolusi"),
        (lambda: png_claiming(8000, 8000), 422, "image_too_many_pixels", "Resolusi"),
        (lambda: photo(390, 300), 422, "image_too_small", "terlalu kecil"),
        (lambda: photo(800, 250), 422, "image_too_small", "terlalu kecil"),
        (_dark, 422, "image_too_dark", "terlalu gelap"),
        (_blank, 422, "image_blank", "kosong"),
    ],
)
async def test_unusable_images_are_refused_with_a_clear_code(client, applicant, settings, make, status, code, words):
    _, headers = await applicant()
    r = await upload(client, headers, "ktp", make())
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    assert words in r.json()["detail"]
    assert stored_files(settings) == []
    status_body = (await client.get("/v1/profiles/me/status", headers=headers)).json()
    assert {s["step"]: s["done"] for s in status_body["steps"]}["ktp_photo"] is False


async def test_a_real_one_bit_png_above_the_pixel_limit(client, applicant, app):
    app.state.profile.settings.image_max_pixels = 2_000_000
    image = Image.new("1", (2000, 1500), 1)
    out = io.BytesIO()
    image.save(out, format="PNG")
    _, headers = await applicant()
    r = await upload(client, headers, "ktp", out.getvalue())
    assert r.json()["code"] == "image_too_many_pixels"


async def test_file_larger_than_the_limit(client, applicant, app):
    app.state.profile.settings.image_max_bytes = 20_000
    _, headers = await applicant()
    r = await upload(client, headers, "ktp", photo(1200, 900, quality=100))
    assert r.status_code == 413 and r.json()["code"] == "image_too_large"


async def test_body_limit_lets_ten_megabytes_through_but_not_more(client, applicant):
    _, headers = await applicant()
    r = await upload(client, headers, "ktp", b"\xff" * (10 * 1024 * 1024 - 100))
    assert r.status_code == 422 and r.json()["code"] == "image_type_unsupported"
    r = await upload(client, headers, "ktp", b"\xff" * (11 * 1024 * 1024))
    assert r.status_code == 413


async def test_replacing_a_photo_deletes_the_old_object(client, applicant, settings):
    _, headers = await applicant()
    assert (await upload(client, headers, "ktp")).status_code == 200
    [first] = stored_files(settings)
    assert (await upload(client, headers, "ktp", photo(900, 700))).status_code == 200
    [second] = stored_files(settings)
    assert first != second and not first.exists()


async def test_only_the_owner_and_ops_read_a_photo(client, app, applicant, issuer):
    owner, headers = await applicant()
    _, other = await applicant("SRI WAHYUNI")
    assert (await upload(client, headers, "ktp")).status_code == 200
    r = await client.get(f"/v1/profiles/{owner}/documents/ktp", params={"reason": "curious"}, headers=other)
    assert r.status_code == 403
    ops_id = uuid.uuid4()
    ops = issuer.headers(ops_id, ["ops"])
    r = await client.get(f"/v1/profiles/{owner}/documents/ktp", headers=ops)
    assert r.status_code == 422  # the reason is required
    r = await client.get(
        f"/v1/profiles/{owner}/documents/ktp", params={"reason": "verifikasi KTP tiket 123"}, headers=ops
    )
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    async with app.state.db.sessionmaker() as session:
        entries = list((await session.execute(select(AuditEntry))).scalars())
    assert [(e.actor, e.action, e.subject_account_id, e.target, e.reason) for e in entries] == [
        (str(ops_id), "document.read", owner, "ktp", "verifikasi KTP tiket 123")
    ]
