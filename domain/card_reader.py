"""Reading the text of a card photo: RapidOCR (PP-OCRv4 models on ONNX Runtime).

Why RapidOCR: its wheel (`rapidocr-onnxruntime`) carries its detection, direction and
recognition models, so nothing is downloaded at run time and no system package is needed;
Tesseract would be a Debian package the set-up installs, and reads photos (uneven light,
slanted text) worse. Its models are trained on Chinese and English: Latin text reads well,
though it sometimes drops the space between words ("HeadofSales"), which
`domain.card_fields` allows for.

OCR takes about a CPU second a card, so it runs in one worker thread per process (and one
ONNX Runtime thread), never on the event loop, with a timeout; cards queue for that thread
rather than starving the API's requests of both cores. The model is loaded once, on the
first card. Images are checked before they are decoded (pixel count from the header: a
small file can unpack into gigabytes) and scaled down to the size the detector works at.
"""

from __future__ import annotations

import asyncio
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from domain.card_fields import CardLine
from domain.errors import DomainError

# The longest side the text detector needs: larger photos only cost time.
DETECTION_SIDE = 2000


PHOTO_FORMATS = ("PNG", "JPEG", "WEBP")


def _invalid() -> DomainError:
    return DomainError(
        CardReadErrorCode.INVALID_IMAGE, "Upload a PNG, JPEG or WebP photo of the card.", "file"
    )


class CardReadErrorCode(StrEnum):
    INVALID_IMAGE = "INVALID_IMAGE"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    UNREADABLE = "UNREADABLE"


@dataclass(frozen=True, slots=True)
class CardReaderLimits:
    """The largest photo accepted (bytes and pixels) and how long reading it may take."""

    max_bytes: int = 8 * 1024 * 1024
    max_pixels: int = 40_000_000
    timeout_seconds: float = 30.0


class CardReader:
    """Reads card photos into text lines, in reading order (top to bottom)."""

    def __init__(self, limits: CardReaderLimits, threads: int = 1) -> None:
        self.limits = limits
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="card-ocr")
        self._engine: Any = None
        self._loading = threading.Lock()

    async def read(self, image: bytes) -> list[CardLine]:
        """The text lines on the photo; INVALID_IMAGE, IMAGE_TOO_LARGE, or UNREADABLE when
        reading takes longer than the limit (the thread finishes that card regardless)."""
        self._checked(image)  # the header only: cheap, and a refusal needs no queueing
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(self._executor, self.read_now, image)
        try:
            async with asyncio.timeout(self.limits.timeout_seconds):
                return await work
        except TimeoutError as exc:
            raise DomainError(
                CardReadErrorCode.UNREADABLE,
                f"The card could not be read within {self.limits.timeout_seconds:g} seconds.",
                "file",
            ) from exc

    def read_now(self, image: bytes) -> list[CardLine]:
        """`read`, in the calling thread (the worker thread, or a test's)."""
        pixels = self._decoded(image)
        result, _ = self._loaded()(pixels)
        lines: list[CardLine] = []
        for box, text, score in result or []:
            ys = [point[1] for point in box]
            lines.append(CardLine(str(text), float(score), float(max(ys) - min(ys))))
        return lines

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _loaded(self) -> Any:
        with self._loading:
            if self._engine is None:
                # Imported here: loading ONNX Runtime and the models costs a second, which
                # processes that never read a card should not pay.
                from rapidocr_onnxruntime import RapidOCR

                # One ONNX Runtime thread: measured here on 4 cards, busy machine, 17.7 s
                # and 3.0 s of CPU against 29.4 s and 5.6 s with a thread per core (its
                # threads spin waiting for each other while the API needs the cores).
                self._engine = RapidOCR(
                    print_verbose=False, intra_op_num_threads=1, inter_op_num_threads=1
                )
            return self._engine

    def _checked(self, image: bytes) -> Image.Image:
        """The image, opened but not decoded: INVALID_IMAGE unless its header is a PNG, JPEG
        or WebP one, IMAGE_TOO_LARGE over the pixel limit."""
        try:
            opened = Image.open(io.BytesIO(image), formats=PHOTO_FORMATS)
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
            raise _invalid() from exc
        width, height = opened.size
        if width * height > self.limits.max_pixels:
            raise DomainError(
                CardReadErrorCode.IMAGE_TOO_LARGE,
                f"Photos may have at most {self.limits.max_pixels:,} pixels.",
                "file",
            )
        return opened

    def _decoded(self, image: bytes) -> Any:
        import numpy

        try:
            with self._checked(image) as opened:
                upright = ImageOps.exif_transpose(opened).convert("RGB")
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise _invalid() from exc
        upright.thumbnail((DETECTION_SIDE, DETECTION_SIDE))
        return numpy.asarray(upright)
