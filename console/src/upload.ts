// A file straight to S3 through the API's presigned URLs: the MD5 (S3's ETag) is computed first,
// since the API commits only bytes whose size and ETag match what was declared.
import SparkMD5 from "spark-md5";
import { api, seg } from "./api/client";
import type { ElementOut, UploadTicket } from "./api/types";

const READ_SLICE = 4 * 1024 * 1024;
const SINGLE_PUT_LIMIT = 64 * 1024 * 1024; // above this, parts (retried one by one, not the whole file)
const PART_SIZE = 16 * 1024 * 1024;

export interface UploadProgress {
  phase: "checking" | "uploading" | "committing";
  loaded: number;
  total: number;
}

async function md5Of(blob: Blob, onRead: (bytes: number) => void): Promise<{ hex: string; raw: string }> {
  const hash = new SparkMD5.ArrayBuffer();
  for (let offset = 0; offset < blob.size; offset += READ_SLICE) {
    const slice = blob.slice(offset, offset + READ_SLICE);
    hash.append(await slice.arrayBuffer());
    onRead(Math.min(blob.size, offset + READ_SLICE));
  }
  const raw = hash.end(true);
  return { hex: binaryToHex(raw), raw };
}

function binaryToHex(binary: string): string {
  let hex = "";
  for (let i = 0; i < binary.length; i += 1) hex += binary.charCodeAt(i).toString(16).padStart(2, "0");
  return hex;
}

function put(url: string, body: Blob, headers: Record<string, string>, onProgress: (loaded: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest(); // fetch cannot report upload progress
    xhr.open("PUT", url);
    for (const [key, value] of Object.entries(headers)) xhr.setRequestHeader(key, value);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () =>
      xhr.status >= 200 && xhr.status < 300
        ? resolve()
        : reject(new Error(`The storage service refused the upload (HTTP ${xhr.status}). Try again.`));
    xhr.onerror = () => reject(new Error("The upload was interrupted. Check your connection and try again."));
    xhr.send(body);
  });
}

export async function uploadFile(
  flowId: string,
  step: string,
  elementId: string,
  file: File,
  onProgress: (progress: UploadProgress) => void,
): Promise<ElementOut> {
  const base = `/flows/${seg(flowId)}/steps/${seg(step)}/elements/${seg(elementId)}/files/${seg(file.name)}/uploads`;
  const total = file.size;
  const multipart = total > SINGLE_PUT_LIMIT;
  onProgress({ phase: "checking", loaded: 0, total });
  let etag: string;
  const partEtags: string[] = [];
  if (!multipart) {
    etag = (await md5Of(file, (loaded) => onProgress({ phase: "checking", loaded, total }))).hex;
  } else {
    let raw = "";
    for (let offset = 0; offset < total; offset += PART_SIZE) {
      const part = await md5Of(file.slice(offset, offset + PART_SIZE), () => undefined);
      partEtags.push(part.hex);
      raw += part.raw;
      onProgress({ phase: "checking", loaded: Math.min(total, offset + PART_SIZE), total });
    }
    etag = `${SparkMD5.hashBinary(raw)}-${partEtags.length}`;
  }
  const ticket = await api.post<UploadTicket>(base, {
    size: total,
    etag,
    ...(multipart ? { part_size: PART_SIZE } : {}),
  });
  let done = 0;
  for (let i = 0; i < ticket.urls.length; i += 1) {
    const body = multipart ? file.slice(i * PART_SIZE, (i + 1) * PART_SIZE) : file;
    await put(ticket.urls[i], body, ticket.headers, (loaded) => onProgress({ phase: "uploading", loaded: done + loaded, total }));
    done += body.size;
    onProgress({ phase: "uploading", loaded: done, total });
  }
  onProgress({ phase: "committing", loaded: total, total });
  return api.post<ElementOut>(`${base}/${seg(ticket.upload_id)}/commit`, {
    parts: multipart ? partEtags.map((tag, i) => ({ part_number: i + 1, etag: tag })) : [],
  });
}
