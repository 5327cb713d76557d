"""Load documents with their metadata, split them into chunks and keep the index in step with the files."""

from __future__ import annotations

import hashlib
import logging
import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.config import Settings
from rag.errors import DocumentError
from rag.store import Chunk, FileState, Store, model_identity

log = logging.getLogger(__name__)

SUPPORTED = (".md", ".txt", ".html", ".htm", ".pdf")
NOT_DOCUMENTS = {"readme.md"}
# Zero-width and bidi-control characters hide text from readers but not from the model.
INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
CHUNKER_VERSION = 3
# Chunks embedded per model call, across files: bigger batches sort and pad better.
EMBED_BATCH = 256
HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*#*\s*$", re.M)


@dataclass(frozen=True)
class Section:
    """A headed part of a document."""

    heading: str
    text: str


@dataclass(frozen=True)
class LoadedDocument:
    """A parsed file: its metadata and its sections."""

    title: str
    date: str
    sections: list[Section]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class IngestSummary:
    """What one ingestion run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_total: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """A human-readable report."""
        out = [
            f"files: {len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged, {len(self.failed)} skipped",
            f"chunks: {self.chunks_embedded} embedded, {self.chunks_total} in the index",
            f"time: {self.seconds:.2f} s",
        ]
        out += [f"skipped {name}: {reason}" for name, reason in self.failed]
        return out


def parse_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split YAML front matter from the body; a file without it has empty metadata."""
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---\n", 4)
    if end < 0:
        raise DocumentError("front matter is not closed by a '---' line")
    try:
        meta = yaml.safe_load(text[4:end]) or {}
    except yaml.YAMLError as exc:
        raise DocumentError(f"front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise DocumentError("front matter must be a mapping")
    return meta, text[end + 5 :]


def clean_text(text: str) -> str:
    """Normalise unicode, drop invisible characters, collapse runs of blank space."""
    text = INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[ \t]+", " ", text)
    # A line break inside a sentence is only wrapping: join it, so chunks are cut at sentences, not lines. A list
    # number has at most three digits: a year that opens a wrapped line ("on 3 May\n1998. It…") starts no item.
    text = re.sub(r"(?<![.!?:\n])[ ]?\n(?![ ]?(?:[-*]\s|\||#|\d{1,3}\.\s|\n))", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def split_markdown(body: str) -> list[Section]:
    """Sections at #, ## and ### headings; text before the first heading has no heading."""
    sections: list[Section] = []
    last_end, heading = 0, ""
    for match in HEADING.finditer(body):
        sections.append(Section(heading, body[last_end : match.start()]))
        last_end, heading = match.end(), match.group(2)
    sections.append(Section(heading, body[last_end:]))
    return [Section(s.heading, clean_text(s.text)) for s in sections if clean_text(s.text)]


def decode(raw: bytes) -> str:
    """UTF-8, or Windows-1252 for legacy files; NUL bytes mean a binary file."""
    if b"\x00" in raw[:8192]:
        raise DocumentError("binary file, not text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        log.warning("not UTF-8, read as Windows-1252")
        return raw.decode("cp1252", errors="replace")


def load_text(raw: bytes, name: str) -> LoadedDocument:
    """Markdown or plain text with optional front matter."""
    meta, body = parse_front_matter(decode(raw).lstrip("\ufeff"))
    return LoadedDocument(
        title=str(meta.get("title") or Path(name).stem),
        date=_date_str(meta.get("date")),
        sections=split_markdown(body),
        extra={"kind": meta.get("kind", ""), "origin": meta.get("source", "")},
    )


def load_html(raw: bytes, name: str) -> LoadedDocument:
    """HTML without its scripts, styles and hidden parts; sections at h1-h3."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode(raw), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object", "svg"]):
        tag.decompose()
    for tag in soup.select('[hidden], [style*="display:none"], [style*="display: none"]'):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else Path(name).stem
    if soup.head:
        soup.head.decompose()
    for level in ("h1", "h2", "h3"):
        for tag in soup.find_all(level):
            tag.replace_with(f"\n\n{'#' * int(level[1])} {tag.get_text(' ', strip=True)}\n\n")
    for tag in soup.find_all(["p", "li", "div", "br", "tr"]):
        tag.insert_after("\n\n")
    return LoadedDocument(title=title, date="", sections=split_markdown(soup.get_text()))


def load_pdf(raw: bytes, name: str) -> LoadedDocument:
    """Text of each page; a scanned PDF without a text layer is refused."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        pages = [clean_text(page.extract_text() or "") for page in reader.pages]
        title = str((reader.metadata.get("/Title") if reader.metadata else None) or Path(name).stem)
    except (PdfReadError, ValueError, KeyError) as exc:
        raise DocumentError(f"unreadable PDF: {exc}") from exc
    sections = [Section(f"page {n}", text) for n, text in enumerate(pages, 1) if text]
    if not sections:
        raise DocumentError("PDF has no extractable text (scanned image?)")
    return LoadedDocument(title=title, date="", sections=sections)


LOADERS = {".md": load_text, ".txt": load_text, ".html": load_html, ".htm": load_html, ".pdf": load_pdf}


def load_document(path: Path, max_bytes: int) -> LoadedDocument:
    """Read one file, or raise DocumentError saying why it cannot be used."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit")
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from exc
    doc = LOADERS[path.suffix.lower()](raw, path.name)
    if not doc.sections:
        raise DocumentError("no text in file")
    return doc


def chunk_document(doc: LoadedDocument, source: str, file_hash: str, settings: Settings) -> list[Chunk]:
    """Split each section at paragraphs, then sentences; ids are a hash of source and text."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
        keep_separator="end",
    )
    pieces = [
        (s.heading, piece) for s in doc.sections for piece in _with_lead_ins(splitter.split_text(s.text))
    ]
    model = model_identity(settings.embed_model_path)
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for position, (heading, text) in enumerate(pieces):
        # The model is part of the id: another model's vectors are other chunks, so a switch re-embeds them all.
        chunk_id = hashlib.sha256(f"{model}\n{source}\n{text}".encode()).hexdigest()[:32]
        if chunk_id in seen:
            continue
        seen.add(chunk_id)
        metadata = {
            "title": doc.title,
            "date": doc.date,
            "source": source,
            "section": heading,
            "position": position,
            "file_hash": file_hash,
            "embed_model": model,
            **{k: str(v) for k, v in doc.extra.items()},
        }
        context = " — ".join(part for part in (doc.title, heading) if part)
        chunks.append(Chunk(chunk_id, text, f"{context}\n{text}", metadata))
    return [Chunk(c.id, c.text, c.embed_text, {**c.metadata, "n_chunks": len(chunks)}) for c in chunks]


def _with_lead_ins(pieces: list[str]) -> list[str]:
    """A piece that only leads in to what follows ("The totals vary by source:") stays with it."""
    joined: list[str] = []
    for piece in pieces:
        if joined and joined[-1].rstrip().endswith(":"):
            joined[-1] = f"{joined[-1].rstrip()}\n\n{piece}"
        else:
            joined.append(piece)
    return joined


def version_hash(raw: bytes, settings: Settings) -> str:
    """Identifies a file's chunks: its bytes, the chunking that cut them and the model that embeds them."""
    model = model_identity(settings.embed_model_path)
    chunking = f"\n{CHUNKER_VERSION}/{settings.chunk_size}/{settings.chunk_overlap}/{model}".encode()
    return hashlib.sha256(raw + chunking).hexdigest()


def discover(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Document files under the given paths, and the directories that were scanned."""
    files: list[Path] = []
    roots: list[Path] = []
    for path in paths:
        if path.is_dir():
            roots.append(path)
            files += sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in SUPPORTED
                and p.name.lower() not in NOT_DOCUMENTS
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            files.append(path)
    return files, roots


def source_name(path: Path) -> str:
    """The stable key of a file in the index: its path relative to the working directory."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def ingest(paths: list[Path], *, store: Store, settings: Settings, progress: bool = False) -> IngestSummary:
    """Bring the index in step with the files: add, update, remove; skip and report bad files."""
    started = time.perf_counter()
    summary = IngestSummary()
    files, roots = discover(paths)
    states = store.file_states()
    max_bytes = int(settings.max_file_mb * 1_000_000)
    pending: list[tuple[list[Chunk], FileState | None]] = []

    def flush() -> None:
        summary.chunks_embedded += store.write_files(pending)
        pending.clear()

    for path in _progress(files, progress):
        source = source_name(path)
        if path.suffix.lower() not in SUPPORTED:
            summary.failed.append((source, f"unsupported file type {path.suffix or '(none)'}"))
            continue
        try:
            file_hash = version_hash(path.read_bytes(), settings)
        except OSError as exc:
            summary.failed.append((source, f"cannot read file: {exc.strerror or exc}"))
            continue
        state = states.get(source)
        if state and state.is_complete(file_hash):
            summary.unchanged.append(source)
            continue
        try:
            chunks = chunk_document(load_document(path, max_bytes), source, file_hash, settings)
        except DocumentError as exc:
            log.warning("skipped %s: %s", source, exc)
            summary.failed.append((source, str(exc)))
            continue
        pending.append((chunks, state))
        (summary.updated if state else summary.added).append(source)
        if sum(len(c) for c, _ in pending) >= EMBED_BATCH:
            flush()
    flush()
    present = {source_name(p) for p in files}
    root_prefixes = [source_name(r).rstrip("/") + "/" for r in roots]
    for source in states:
        if source not in present and any(source.startswith(prefix) for prefix in root_prefixes):
            store.delete_source(source)
            summary.removed.append(source)
    if summary.added or summary.updated or summary.removed:
        store.mark_changed()
    summary.chunks_total = store.count()
    summary.seconds = time.perf_counter() - started
    return summary


def _progress(files: list[Path], enabled: bool) -> Any:
    if not enabled:
        return files
    from tqdm import tqdm

    return tqdm(files, desc="ingest", unit="file")


def _date_str(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value or "")
