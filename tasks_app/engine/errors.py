"""Failures the engine reports to users.

Every error carries a `user_message` that is safe to show verbatim (no paths, no tracebacks); the
web layer maps the whole family to one response shape.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base class: a document could not be processed, for a reason the user can act on."""

    default_message = "The document could not be processed."

    def __init__(self, user_message: str | None = None) -> None:
        self.user_message = user_message or self.default_message
        super().__init__(self.user_message)


class ConfigError(EngineError):
    """A configuration value is invalid; the message names the field path."""

    default_message = "The configuration is invalid."


class UnsupportedFileType(EngineError):
    # Every message starts with the contract's "Unsupported file type" (API_CONTRACT §3.1), then says what to do.
    default_message = "Unsupported file type: PDF, images and office documents can be parsed."


class EncryptedDocument(EngineError):
    default_message = "This PDF is password-protected. Upload an unlocked copy."


class CorruptDocument(EngineError):
    default_message = "The file is damaged or not a valid document."


class EmptyDocument(EngineError):
    default_message = "The document is empty."


class TooLarge(EngineError):
    default_message = "The file is too large."


class TooManyPages(EngineError):
    default_message = "The document has too many pages."


class ImageTooLarge(EngineError):
    default_message = "The image is too large to process (too many pixels)."


class ConverterMissing(EngineError):
    default_message = (
        "Office documents need LibreOffice (soffice) on the server to be converted to PDF; it is not installed."
    )


class ConversionFailed(EngineError):
    default_message = "The document could not be converted to PDF."


class Cancelled(EngineError):
    default_message = "The task was cancelled."


class PageTimeout(EngineError):
    default_message = "A page took too long to process."


class OcrUnavailable(EngineError):
    default_message = "OCR is not available on this server."


class LlmUnavailable(EngineError):
    default_message = "No LLM endpoint is configured, so LLM generation or descriptions cannot be produced."


class LlmError(EngineError):
    """The model endpoint failed or kept giving unusable answers; `reason` is the bare cause, for callers that
    word their own message ("the model did not answer within 60 s")."""

    default_message = "The language model did not return a usable answer."

    def __init__(self, user_message: str | None = None, reason: str | None = None) -> None:
        super().__init__(user_message)
        self.reason = reason or self.user_message
