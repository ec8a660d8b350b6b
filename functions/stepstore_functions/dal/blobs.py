"""S3 objects: presigned uploads (single or multipart), verification, commit tagging, downloads.

Bytes at a key are written once. Every presigned PUT is create-only (`If-None-Match: *` is a signed
header, so S3 refuses the URL without it and refuses it with it once the key exists), and is bound
to the declared length and MD5 when they are known up front; parts are bound to their length; a
multipart upload is completed create-only, after which its upload id is gone and its part URLs
answer NoSuchUpload. So a URL reused after commit (or while the commit runs) cannot replace the
bytes its pointer refers to, nor re-tag them as staging. Readers re-check size and ETag, and in a
versioned bucket fetch the exact version that was committed.
"""

from __future__ import annotations

import base64
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from stepstore_functions.dal.clients import client
from stepstore_functions.resources import COMMITTED_TAG, STAGING_TAG
from stepstore_functions.settings import get_settings

STAGING_TAGGING = f"{quote(STAGING_TAG[0])}={quote(STAGING_TAG[1])}"
COMMITTED_TAGGING = f"{quote(COMMITTED_TAG[0])}={quote(COMMITTED_TAG[1])}"


@dataclass(frozen=True)
class ObjectHead:
    size: int
    etag: str
    version_id: str | None = None  # set in a versioned bucket


@dataclass(frozen=True)
class PresignedUpload:
    urls: list[str]
    headers: dict[str, str]
    multipart_id: str | None


class BlobStore:
    """One bucket. Objects are written tagged as staging and retagged when their metadata commits,
    so a lifecycle rule can expire whatever an interrupted upload left behind."""

    def __init__(self, bucket: str, presign_seconds: int, s3: Any = None) -> None:
        self.bucket = bucket
        self.presign_seconds = presign_seconds
        self._s3 = s3  # injected in tests; otherwise the process-wide client

    @classmethod
    def of(cls, bucket: str) -> BlobStore:
        """The store for one of this deployment's buckets, presigning for the configured lifetime."""
        return cls(bucket, get_settings().presign_seconds)

    @property
    def s3(self) -> Any:
        return self._s3 or client("s3")

    def presign_upload(
        self,
        key: str,
        part_count: int,
        multipart: bool | None = None,
        size: int | None = None,
        etag: str | None = None,
        part_size: int | None = None,
    ) -> PresignedUpload:
        """URLs for `part_count` parts; one part is a single PUT unless `multipart` says otherwise.

        A single PUT is create-only and, when `size` and `etag` (the MD5, in hex) are declared now,
        accepts exactly those bytes; the caller must send the returned headers. Parts of an upload
        whose `size` is declared are bound to their lengths.
        """
        s3 = self.s3
        if not (part_count > 1 if multipart is None else multipart):
            params: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "Tagging": STAGING_TAGGING}
            headers = {"x-amz-tagging": STAGING_TAGGING, "If-None-Match": "*"}
            params["IfNoneMatch"] = "*"
            if size is not None:
                params["ContentLength"] = size  # signed: the client's Content-Length must equal it
            if etag is not None:
                headers["Content-MD5"] = params["ContentMD5"] = content_md5(etag)
            url = s3.generate_presigned_url("put_object", Params=params, ExpiresIn=self.presign_seconds)
            return PresignedUpload(urls=[url], headers=headers, multipart_id=None)
        multipart_id = s3.create_multipart_upload(Bucket=self.bucket, Key=key, Tagging=STAGING_TAGGING)[
            "UploadId"
        ]
        sizes = part_sizes(size, part_size, part_count) if size is not None and part_size else None
        urls = self.presign_parts(key, multipart_id, 1, part_count, sizes)
        return PresignedUpload(urls=urls, headers={}, multipart_id=multipart_id)

    def presign_parts(
        self, key: str, multipart_id: str, first: int, count: int, sizes: list[int] | None = None
    ) -> list[str]:
        """Part URLs `first` to `first + count - 1`; with `sizes` (of all parts), each bound to its length."""
        urls = []
        for number in range(first, first + count):
            params: dict[str, Any] = {
                "Bucket": self.bucket,
                "Key": key,
                "UploadId": multipart_id,
                "PartNumber": number,
            }
            if sizes is not None:
                params["ContentLength"] = sizes[number - 1]
            urls.append(
                self.s3.generate_presigned_url("upload_part", Params=params, ExpiresIn=self.presign_seconds)
            )
        return urls

    def complete_multipart(self, key: str, multipart_id: str, parts: list[tuple[int, str]]) -> bool:
        """Assemble the parts; False when S3 refuses them (missing or mismatched parts)."""
        try:
            self.s3.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=multipart_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]},
                IfNoneMatch="*",  # assembles only a new object, never over one already at the key
            )
        except ClientError:
            return False
        return True

    def abort_multipart(self, key: str, multipart_id: str) -> None:
        # Already completed or aborted is fine: the lifecycle rule cleans up either way.
        with suppress(ClientError):
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=multipart_id)

    def head(self, key: str) -> ObjectHead | None:
        try:
            response = self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        version = response.get("VersionId")
        return ObjectHead(
            size=int(response["ContentLength"]),
            etag=response["ETag"].strip('"'),
            version_id=version if version and version != "null" else None,
        )

    def mark_committed(self, key: str) -> None:
        # Keys are written once, so in a versioned bucket the current version is the committed one.
        self.s3.put_object_tagging(
            Bucket=self.bucket,
            Key=key,
            Tagging={"TagSet": [{"Key": COMMITTED_TAG[0], "Value": COMMITTED_TAG[1]}]},
        )

    def retire(self, key: str) -> None:
        """Tag a replaced object as staging again: the lifecycle rule removes it a day later, so a
        reader that fetched its pointer just before the replacement can still read it."""
        self.s3.put_object_tagging(
            Bucket=self.bucket,
            Key=key,
            Tagging={"TagSet": [{"Key": STAGING_TAG[0], "Value": STAGING_TAG[1]}]},
        )

    def presign_download(self, key: str, version_id: str | None = None) -> str:
        """A GET of the object; with `version_id` (a versioned bucket), of exactly that version."""
        params = {"Bucket": self.bucket, "Key": key}
        if version_id is not None:
            params["VersionId"] = version_id
        return self.s3.generate_presigned_url("get_object", Params=params, ExpiresIn=self.presign_seconds)

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)


def content_md5(etag: str) -> str:
    """The Content-MD5 header (base64 of the digest) for a single-part ETag (the digest in hex)."""
    return base64.b64encode(bytes.fromhex(etag)).decode()


def part_sizes(size: int, part_size: int, part_count: int) -> list[int]:
    """The length of each part of a `size`-byte object cut into `part_size` parts."""
    return [min(part_size, size - (n * part_size)) for n in range(part_count)]
