"""A local stand-in for the Hugging Face Hub (and for publisher URLs), for tests of downloads.

It answers what huggingface_hub's real client (1.x) asks at ``HF_ENDPOINT``, as read in its
source (``file_download.py``, ``_snapshot_download.py``, ``hf_api.py``, ``utils/_http.py``):

- ``HEAD``/``GET /{repo}/resolve/{revision}/{file}`` (``/datasets/{repo}/...`` for datasets):
  ``X-Repo-Commit`` always; a file stored in LFS answers ``302`` to a CDN address (another host
  name, ``localhost``, so the client does not follow it with its Hub headers) with
  ``X-Linked-Etag`` (its sha256) and ``X-Linked-Size``; a small file answers ``200`` with
  ``ETag`` = its git blob id;
- ``GET /api/{type}s/{repo}/revision/{revision}`` (``repo_info``: ``sha`` = the commit) and
  ``GET /api/{type}s/{repo}/tree/{revision}?recursive=True`` (``list_repo_tree``: ``oid`` = blob
  id, ``lfs.oid`` = sha256), as ``snapshot_download`` asks them;
- ``Range: bytes=N-`` on file content (``206``); ``401`` + ``X-Error-Code: GatedRepo`` for a gated
  repository without its token; ``404`` + ``EntryNotFound`` / ``RevisionNotFound`` /
  ``RepoNotFound``;
- publisher URLs under ``/pub/...`` (tests route real URLs there with ``urlfetch.route_urls``).

Test hooks: :meth:`LocalHub.tamper` serves other bytes than the checksums it reports;
:meth:`LocalHub.cut_once` drops the connection half way through the next transfer of a file;
:attr:`LocalHub.requests` logs every request.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

LFS_SUFFIXES = (
    ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".onnx", ".zip", ".msgpack", ".h5", ".model",
    ".npy", ".pkl", ".tar", ".gz", ".parquet",
)  # fmt: skip
TOKEN = "hf_localhub_test_token"


def blob_id(data: bytes) -> str:
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()  # noqa: S324


@dataclass
class Stored:
    """One file's content (bytes, or a file on disk for big ones) and its checksums."""

    source: bytes | Path
    sha256: str
    size: int
    lfs: bool
    served: bytes | Path | None = None  # what is really sent (tampering), if not `source`

    @property
    def blob(self) -> str:
        if self.lfs:
            spec = "version https://git-lfs.github.com/spec/v1"
            pointer = f"{spec}\noid sha256:{self.sha256}\nsize {self.size}\n"
            return blob_id(pointer.encode())
        assert isinstance(self.source, bytes)
        return blob_id(self.source)

    def body(self) -> bytes | Path:
        return self.source if self.served is None else self.served


def stored(content: bytes | Path) -> Stored:
    if isinstance(content, Path):
        h = hashlib.sha256()
        with open(content, "rb") as f:
            while block := f.read(1 << 22):
                h.update(block)
        return Stored(content, h.hexdigest(), content.stat().st_size, True)
    return Stored(content, hashlib.sha256(content).hexdigest(), len(content), False)


@dataclass
class Repo:
    repo_id: str
    repo_type: str
    commit: str
    files: dict[str, Stored]
    branches: dict[str, str] = field(default_factory=dict)
    gated: bool = False


@dataclass(frozen=True)
class Request:
    method: str
    host: str
    path: str
    range: str | None
    authorized: bool


class LocalHub:
    """The server; start with :meth:`start`, stop with :meth:`stop` (or use the pytest fixture)."""

    def __init__(self) -> None:
        self.repos: dict[tuple[str, str], Repo] = {}
        self.pub: dict[str, Stored] = {}
        self.requests: list[Request] = []
        self.cuts: dict[str, float] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- content ----------------------------------------------------------------------------
    def add_repo(
        self,
        repo_id: str,
        files: dict[str, bytes | Path],
        *,
        repo_type: str = "model",
        commit: str | None = None,
        gated: bool = False,
    ) -> str:
        """Serve ``files`` as ``repo_id`` at one commit (also the ``main`` branch); its id."""
        entries = {}
        for path, content in files.items():
            s = stored(content)
            s.lfs = isinstance(content, Path) or path.endswith(LFS_SUFFIXES) or s.size > 10 << 20
            entries[path] = s
        digest = hashlib.sha1(  # noqa: S324 - a commit id is a SHA-1 by nature
            json.dumps(sorted((p, s.sha256) for p, s in entries.items())).encode()
        ).hexdigest()
        commit = commit or digest
        self.repos[(repo_type, repo_id)] = Repo(
            repo_id, repo_type, commit, entries, {"main": commit}, gated
        )
        return commit

    def add_url(self, path: str, content: bytes | Path) -> str:
        """Serve ``content`` at ``/pub/<path>``; the URL."""
        s = stored(content)
        s.lfs = True
        self.pub[path] = s
        return f"{self.url}/pub/{path}"

    def tamper(self, repo_id: str, filename: str, content: bytes, repo_type: str = "model") -> None:
        """Send ``content`` for this file from now on, still reporting the original checksums."""
        self.repos[(repo_type, repo_id)].files[filename].served = content

    def rewrite(
        self, repo_id: str, filename: str, content: bytes, repo_type: str = "model"
    ) -> None:
        """Change a file's content AND its reported checksums under the same commit (what a
        lock exists to catch: a source that changed under a commit already used)."""
        old = self.repos[(repo_type, repo_id)].files[filename]
        new = stored(content)
        new.lfs = old.lfs
        self.repos[(repo_type, repo_id)].files[filename] = new

    def tamper_url(self, path: str, content: bytes) -> None:
        self.pub[path].served = content

    def cut_once(self, sha256: str, fraction: float = 0.5) -> None:
        """The next full transfer of the content with this sha256 stops after ``fraction``."""
        self.cuts[sha256] = fraction

    def downloads(self) -> list[Request]:
        """Requests that transferred file content (GET of a file, not metadata)."""
        return [
            r
            for r in self.requests
            if r.method == "GET"
            and ("/lfs/" in r.path or "/pub/" in r.path or "/resolve/" in r.path)
        ]

    # --- server -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def cdn(self) -> str:
        assert self._server is not None
        return f"http://localhost:{self._server.server_address[1]}"

    def start(self) -> LocalHub:
        hub = self

        class Handler(_Handler):
            pass

        Handler.hub = hub
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hub: LocalHub

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass

    # --- dispatch ---------------------------------------------------------------------------
    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch(head=False)

    def _dispatch(self, head: bool) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        auth = self.headers.get("Authorization", "")
        with self.hub._lock:
            self.hub.requests.append(
                Request(
                    "HEAD" if head else "GET",
                    self.headers.get("Host", ""),
                    path,
                    self.headers.get("Range"),
                    auth == f"Bearer {TOKEN}",
                )
            )
        if path.startswith("/pub/"):
            key = path[len("/pub/") :] + (f"?{unquote(parts.query)}" if parts.query else "")
            s = self.hub.pub.get(key)
            return self._content(s, head) if s else self._error(404, "EntryNotFound")
        if path.startswith("/lfs/"):
            return self._lfs(path[len("/lfs/") :], head)
        if path.startswith("/api/"):
            return self._api(path[len("/api/") :], parse_qs(parts.query), auth)
        return self._resolve(path.lstrip("/"), head, auth)

    def _repo(self, repo_type: str, repo_id: str, auth: str) -> Repo | None:
        repo = self.hub.repos.get((repo_type, repo_id))
        if repo is None:
            self._error(404, "RepoNotFound")
            return None
        if repo.gated and auth != f"Bearer {TOKEN}":
            self._error(
                401,
                "GatedRepo",
                f"Access to {repo_type} {repo_id} is restricted. You must have access to it and "
                "be authenticated to access it. Please log in.",
            )
            return None
        return repo

    def _commit(self, repo: Repo, revision: str) -> str | None:
        if revision == repo.commit:
            return revision
        return repo.branches.get(revision)

    # --- /{repo}/resolve/{revision}/{file} ---------------------------------------------------
    def _resolve(self, path: str, head: bool, auth: str) -> None:
        repo_type = "model"
        if path.startswith("datasets/"):
            repo_type, path = "dataset", path[len("datasets/") :]
        bits = path.split("/")
        if len(bits) < 5 or bits[2] != "resolve":
            return self._error(404, "RepoNotFound")
        repo_id, revision, filename = "/".join(bits[:2]), bits[3], "/".join(bits[4:])
        repo = self._repo(repo_type, repo_id, auth)
        if repo is None:
            return
        commit = self._commit(repo, revision)
        if commit is None:
            return self._error(404, "RevisionNotFound")
        s = repo.files.get(filename)
        if s is None:
            return self._error(404, "EntryNotFound", commit=commit)
        if s.lfs:
            self.send_response(302)
            self.send_header("Location", f"{self.hub.cdn}/lfs/{s.sha256}")
            self.send_header("X-Repo-Commit", commit)
            self.send_header("X-Linked-Etag", f'"{s.sha256}"')
            self.send_header("X-Linked-Size", str(s.size))
            self.send_header("ETag", f'"{s.blob}"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        return self._content(s, head, {"X-Repo-Commit": commit, "ETag": f'"{s.blob}"'})

    def _lfs(self, sha256: str, head: bool) -> None:
        for repo in self.hub.repos.values():
            for s in repo.files.values():
                if s.sha256 == sha256:
                    return self._content(s, head)
        return self._error(404, "EntryNotFound")

    # --- /api/{type}s/{repo}/(revision|tree)/{revision} ---------------------------------------
    def _api(self, path: str, query: dict[str, list[str]], auth: str) -> None:
        bits = path.split("/")
        if len(bits) < 5 or bits[0] not in ("models", "datasets"):
            return self._error(404, "RepoNotFound")
        repo_type, repo_id, call = bits[0][:-1], "/".join(bits[1:3]), bits[3]
        repo = self._repo(repo_type, repo_id, auth)
        if repo is None:
            return
        commit = self._commit(repo, bits[4])
        if commit is None:
            return self._error(404, "RevisionNotFound")
        if call == "revision":
            body = {
                "id": repo_id,
                "sha": commit,
                "private": False,
                "gated": "manual" if repo.gated else False,
                "siblings": [{"rfilename": p} for p in sorted(repo.files)],
            }
            return self._json(body)
        if call == "tree":
            under = "/".join(bits[5:])
            return self._json(self._tree(repo, under, query.get("recursive", ["false"])[0]))
        return self._error(404, "RepoNotFound")

    def _tree(self, repo: Repo, under: str, recursive: str) -> list[dict[str, object]]:
        prefix = f"{under}/" if under else ""
        deep = recursive.lower() == "true"
        out: list[dict[str, object]] = []
        folders: set[str] = set()
        for path in sorted(repo.files):
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix) :]
            parents = rest.split("/")[:-1]
            for i in range(1, len(parents) + 1):
                folders.add(prefix + "/".join(parents[:i]))
            if "/" in rest and not deep:
                continue
            s = repo.files[path]
            entry: dict[str, object] = {"type": "file", "oid": s.blob, "size": s.size, "path": path}
            if s.lfs:
                entry["lfs"] = {"oid": s.sha256, "size": s.size, "pointerSize": 134}
            out.append(entry)
        for folder in sorted(folders):
            if deep or "/" not in folder[len(prefix) :]:
                out.append(
                    {
                        "type": "directory",
                        "oid": blob_id(folder.encode()),
                        "size": 0,
                        "path": folder,
                    }
                )
        return out

    # --- responses --------------------------------------------------------------------------
    def _error(self, status: int, code: str, message: str = "", commit: str | None = None) -> None:
        body = json.dumps({"error": message or code}).encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        if message:
            self.send_header("X-Error-Message", message)
        if commit:
            self.send_header("X-Repo-Commit", commit)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj: object) -> None:
        body = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _content(self, s: Stored, head: bool, headers: dict[str, str] | None = None) -> None:
        body = s.body()
        total = len(body) if isinstance(body, bytes) else body.stat().st_size
        start, end = 0, total - 1
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            lo, _, hi = rng[len("bytes=") :].partition("-")
            start = int(lo or 0)
            end = int(hi) if hi else total - 1
            if start >= total:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{total}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        length = end - start + 1
        self.send_response(206 if rng else 200)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{end}/{total}")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if head:
            return
        cut = None
        if not rng and s.sha256 in self.hub.cuts:
            cut = int(length * self.hub.cuts.pop(s.sha256))
        self._send_body(body, start, cut if cut is not None else length)
        if cut is not None:
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(2)

    def _send_body(self, body: bytes | Path, start: int, count: int) -> None:
        if isinstance(body, bytes):
            self.wfile.write(body[start : start + count])
            return
        with open(body, "rb") as f:
            f.seek(start)
            left = count
            while left > 0 and (block := f.read(min(left, 1 << 20))):
                self.wfile.write(block)
                left -= len(block)
