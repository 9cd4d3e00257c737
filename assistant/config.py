"""One frozen, typed settings object for the whole project.

Every value can be set with an environment variable prefixed ``PVA_`` (``PVA_DATA_DIR=/srv/pva``) or in a
``.env`` file in the working directory. Read settings through :func:`get_settings`; tests build their own
``Settings(...)`` and pass it in, or point ``PVA_DATA_DIR`` at a temp folder.

``data_dir`` moves all state on disk: the embedded Chroma store, the feedback log, uploads and reports.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ChatBackend = Literal["extractive", "local", "openai", "ollama"]

BUNDLED_EMBEDDING = "bundled"


class Settings(BaseSettings):
    """Configuration; see the README's configuration table for what each field does."""

    model_config = SettingsConfigDict(env_prefix="PVA_", env_file=".env", extra="ignore", frozen=True)

    data_dir: Path = Path("data")
    chroma_url: str | None = None
    collection: str = "pva"
    embedding_model: str = BUNDLED_EMBEDDING
    embedding_backend: Literal["torch", "onnx"] = "torch"
    embedding_batch_size: int = 32
    chunk_tokens: int = 256
    chat_backend: ChatBackend = "extractive"
    local_model_path: Path | None = None
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model: str = "gpt-4o-mini"
    ollama_url: str = "http://127.0.0.1:11434"
    ollama_model: str = "llama3.2"
    top_k: int = 5
    max_question_chars: int = 2000
    max_upload_mb: int = 20
    host: str = "127.0.0.1"
    port: int = 7860

    @property
    def chroma_path(self) -> Path:
        """Where the embedded Chroma store lives (unused when ``chroma_url`` is set)."""
        return self.data_dir / "chroma"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment and ``.env``."""
    return Settings()
