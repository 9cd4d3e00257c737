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
    embedding_backend: Literal["onnx", "torch"] = "onnx"
    """``onnx``: onnxruntime on an ONNX export of the model (made once, kept in ``model_cache_dir``), no PyTorch;
    ``torch``: sentence-transformers, the reference."""
    model_cache: Path | None = None
    """Where exported models are kept; ``None`` uses ``<data_dir>/models``."""
    embedding_batch_size: int = 8
    chunk_tokens: int = 256
    chat_backend: ChatBackend = "extractive"
    local_model_path: Path | None = None
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model: str = "gpt-4o-mini"
    ollama_url: str = "http://127.0.0.1:11434"
    ollama_model: str = "llama3.2"
    local_n_ctx: int = 2048
    """Context window of the local llama.cpp model, in tokens (prompt + reply must fit)."""
    local_threads: int | None = None
    """CPU threads for llama.cpp; ``None`` uses every core (``os.cpu_count()``)."""
    max_tokens: int = 256
    """Longest reply a chat model may generate, in tokens (all backends)."""
    temperature: float = 0.0
    """Sampling temperature for every backend; 0 makes the local model greedy, so answers are reproducible."""
    request_timeout: float = 60.0
    """Seconds to wait for a remote chat backend (OpenAI-compatible or Ollama) before giving up."""
    top_k: int = 5
    strict_grounding: bool | None = None
    """Remove unsupported sentences (True), only flag them (False), or None: strict for local and extractive."""
    grounding_checker: str = "embedding"
    """Sentence verifier: ``embedding`` (bundled model + word overlap) or ``nli:/path/to/cross-encoder``."""
    grounding_threshold: float | None = None
    """Support score (0..1) a sentence needs to count as grounded; ``None`` uses the checker's calibrated default."""
    max_question_chars: int = 2000
    max_upload_mb: int = 20
    host: str = "127.0.0.1"
    port: int = 7860
    auth_file: Path | None = None
    """App logins, one ``user:password[:admin]`` a line; with it (or ``auth_users``) the app asks for a login."""
    auth_users: SecretStr | None = None
    """App logins from the environment: ``user:password[:admin]`` entries separated by commas."""
    admin_users: str = ""
    """Comma-separated user names who may upload and remove documents when login is on (besides ``:admin``)."""
    app_concurrency: int = 4
    """How many chat requests the app runs at once; uploads and drafts have their own, smaller queues."""

    @property
    def chroma_path(self) -> Path:
        """Where the embedded Chroma store lives (unused when ``chroma_url`` is set)."""
        return self.data_dir / "chroma"

    @property
    def model_cache_dir(self) -> Path:
        """Where ONNX exports of the embedding model are kept (see :mod:`assistant.models.onnx_embedder`)."""
        return self.model_cache if self.model_cache is not None else self.data_dir / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment and ``.env``."""
    return Settings()
