"""S3 objects: presigned uploads (single or multipart), verification, commit tagging, downloads."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from stepstore_functions.dal.clients import client
from stepstore_functions.resources import COMMITTED_TAG, STAGING_TAG
from stepstore_functions.settings import get_settings

STAGING_TAGGING = f"{quote(STAGING_TAG[0])}={quote(STAGING_TAG[1])}"


@dataclass(frozen=True)
class ObjectHead:
    size: int
    etag: str


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

    def presign_upload(self, key: str, part_count: int, multipart: bool | None = None) -> PresignedUpload:
        """URLs for `part_count` parts; one part is a single PUT unless `multipart` says otherwise."""
        s3 = self.s3
        if not (part_count > 1 if multipart is None else multipart):
            url = s3.generate_presigned_url(
                "put_object",
                Params={"Bucket": self.bucket, "Key": key, "Tagging": STAGING_TAGGING},
                ExpiresIn=self.presign_seconds,
            )
            return PresignedUpload(urls=[url], headers={"x-amz-tagging": STAGING_TAGGING}, multipart_id=None)
        multipart_id = s3.create_multipart_upload(Bucket=self.bucket, Key=key, Tagging=STAGING_TAGGING)[
            "UploadId"
        ]
        urls = self.presign_parts(key, multipart_id, 1, part_count)
        return PresignedUpload(urls=urls, headers={}, multipart_id=multipart_id)

    def presign_parts(self, key: str, multipart_id: str, first: int, count: int) -> list[str]:
        return [
            self.s3.generate_presigned_url(
                "upload_part",
                Params={"Bucket": self.bucket, "Key": key, "UploadId": multipart_id, "PartNumber": number},
                ExpiresIn=self.presign_seconds,
            )
            for number in range(first, first + count)
        ]

    def complete_multipart(self, key: str, multipart_id: str, parts: list[tuple[int, str]]) -> bool:
        """Assemble the parts; False when S3 refuses them (missing or mismatched parts)."""
        try:
            self.s3.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=multipart_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]},
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
        return ObjectHead(size=int(response["ContentLength"]), etag=response["ETag"].strip('"'))

    def mark_committed(self, key: str) -> None:
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

    def presign_download(self, key: str) -> str:
        return self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=self.presign_seconds
        )

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)
