"""Object storage: the filesystem backend and the S3-compatible client (SigV4 against AWS's own example)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from services.profile.config import ProfileSettings
from services.profile.storage import FilesystemStorage, ObjectMissing, S3Storage, check_key, sigv4_headers


async def test_filesystem_put_get_delete(tmp_path):
    storage = FilesystemStorage(tmp_path)
    await storage.put("profiles/a/ktp-1.jpg", b"data", "image/jpeg")
    assert await storage.get("profiles/a/ktp-1.jpg") == b"data"
    assert list(tmp_path.rglob("*.tmp")) == []
    await storage.delete("profiles/a/ktp-1.jpg")
    await storage.delete("profiles/a/ktp-1.jpg")  # deleting twice is fine
    with pytest.raises(ObjectMissing):
        await storage.get("profiles/a/ktp-1.jpg")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../b", "a//b", "Upper", ""])
def test_keys_cannot_escape_the_root(key):
    with pytest.raises(ValueError):
        check_key(key)


def test_sigv4_matches_the_aws_documentation_example():
    # "Example: GET Object" from the AWS S3 Signature Version 4 documentation.
    headers = sigv4_headers(
        method="GET",
        url="https://examplebucket.s3.amazonaws.com/test.txt",
        headers={"Range": "bytes=0-9"},
        payload_hash="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        access_key="AKIAIOSFODNN7EXAMPLE",
        secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region="us-east-1",
        now=datetime(2013, 5, 24, tzinfo=UTC),
    )
    assert headers["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


async def test_s3_storage_speaks_path_style_signed_requests():
    objects: dict[str, bytes] = {}
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert request.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AK/")
        assert request.url.path.startswith("/prakerja-ktp/")
        key = request.url.path.removeprefix("/prakerja-ktp/")
        if request.method == "PUT":
            objects[key] = request.content
            return httpx.Response(200)
        if request.method == "GET":
            return httpx.Response(200, content=objects[key]) if key in objects else httpx.Response(404)
        objects.pop(key, None)
        return httpx.Response(204)

    settings = ProfileSettings(
        storage_backend="s3",
        s3_endpoint="https://s3.example.test",
        s3_bucket="prakerja-ktp",
        s3_access_key="AK",
        s3_secret_key="SK",
        s3_region="ap-southeast-3",
    )
    storage = S3Storage(settings, transport=httpx.MockTransport(handler))
    await storage.put("profiles/x/ktp-1.jpg", b"jpeg", "image/jpeg")
    assert await storage.get("profiles/x/ktp-1.jpg") == b"jpeg"
    await storage.delete("profiles/x/ktp-1.jpg")
    with pytest.raises(ObjectMissing):
        await storage.get("profiles/x/ktp-1.jpg")
    assert "ap-southeast-3/s3/aws4_request" in seen[0].headers["authorization"]
    assert seen[0].headers["content-type"] == "image/jpeg" and seen[0].headers["x-amz-content-sha256"]
    await storage.close()
