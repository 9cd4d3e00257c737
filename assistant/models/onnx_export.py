"""Export a sentence-transformers folder to ONNX: the transformer as a graph, its tokenizer and pooling as files.

Run once per model, in a child process (``python -m assistant.models.onnx_export MODEL_DIR TARGET_DIR``, see
:mod:`assistant.models.onnx_embedder`); this is the only place the ONNX path touches PyTorch. Only the plain
pipeline is supported (Transformer → Pooling → optional Normalize, as all-MiniLM-L6-v2): another module (Dense,
a router…) raises, and ``PVA_EMBEDDING_BACKEND=torch`` runs such a model.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import torch
from onnxruntime.transformers import optimizer
from sentence_transformers import SentenceTransformer

from assistant.models.onnx_embedder import MODEL_FILE, PIPELINE_FILE, TOKENIZER_FILE

POOLING_MODES = ("mean", "cls", "max")
_SAMPLE = ["A short text.", "A somewhat longer text, so the sample batch carries padding as real batches do."]


class UnsupportedModelError(RuntimeError):
    """The model has a module the ONNX path does not reproduce."""


class _Hidden(torch.nn.Module):
    """The transformer with named inputs and one output, the token vectors (what ONNX export needs)."""

    def __init__(self, model: torch.nn.Module, names: list[str]) -> None:
        super().__init__()
        self.model, self.names = model, names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.names, inputs, strict=True))).last_hidden_state


def _pooling_mode(pooling: torch.nn.Module) -> str:
    mode = getattr(pooling, "pooling_mode", None)  # sentence-transformers 6: a string
    if not isinstance(mode, str):
        mode = pooling.get_pooling_mode_str()  # sentence-transformers 5
    return "mean" if mode == "mean_tokens" else mode.removesuffix("_token")


def _pipeline(model: SentenceTransformer) -> dict:
    """The tokenizer and pooling settings the ONNX path must repeat, read from the loaded model."""
    kinds = [type(module).__name__ for module in model]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise UnsupportedModelError(
            f"the ONNX embedder runs Transformer → Pooling [→ Normalize] models, not {' → '.join(kinds)}: "
            "set PVA_EMBEDDING_BACKEND=torch"
        )
    mode = _pooling_mode(model[1])
    if mode not in POOLING_MODES:
        raise UnsupportedModelError(
            f"pooling '{mode}' is not supported by the ONNX embedder: set PVA_EMBEDDING_BACKEND=torch"
        )
    transformer = model[0]
    return {
        "max_seq_length": int(model.max_seq_length),
        "do_lower_case": bool(getattr(transformer, "do_lower_case", False)),
        "pooling": mode,
        "inputs": list(transformer.tokenizer.model_input_names),
    }


def export_model(model_path: Path, target: Path) -> None:
    """Write ``model.onnx``, ``tokenizer.json`` and ``pipeline.json`` of the model at ``model_path`` into ``target``."""
    model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
    pipeline = _pipeline(model)
    transformer = model[0]
    tokenizer = transformer.tokenizer
    names = pipeline["inputs"]
    network = transformer.auto_model.eval()
    # Eager attention exports as plain MatMul/Softmax, which onnxruntime runs faster on 256-token chunks than the
    # graph traced from PyTorch's fused SDPA (≈40% less CPU on the corpus chunks); the vectors are the same.
    network.set_attn_implementation("eager")
    sample = tokenizer(_SAMPLE, padding=True, return_tensors="pt")
    dynamic = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            _Hidden(network, names),
            tuple(sample[name] for name in names),
            str(target / MODEL_FILE),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=dynamic,
            opset_version=17,
            dynamo=False,  # the TorchScript exporter: the dynamo one needs onnxscript
        )
    fuse(target / MODEL_FILE, network.config)
    tokenizer.backend_tokenizer.save(str(target / TOKENIZER_FILE))
    (target / PIPELINE_FILE).write_text(json.dumps(pipeline, indent=2), encoding="utf-8")


def fuse(model_file: Path, config: object) -> None:
    """Rewrite the exported graph with onnxruntime's transformer fusions (one Attention, SkipLayerNorm and
    BiasGelu node where the export has dozens of small ones): the same vectors (cosine 1.0 in fp32) for less CPU
    and less memory per batch. A model whose layers match no fusion pattern is left as exported."""
    heads = int(getattr(config, "num_attention_heads", 0) or 0)
    hidden = int(getattr(config, "hidden_size", 0) or 0)
    fused = optimizer.optimize_model(str(model_file), model_type="bert", num_heads=heads, hidden_size=hidden)
    fused.save_model_to_file(str(model_file))


def main(argv: list[str]) -> int:
    """``python -m assistant.models.onnx_export MODEL_DIR TARGET_DIR``: the error, if any, as the last stderr line."""
    model_path, target = (Path(arg) for arg in argv)
    try:
        export_model(model_path, target)
    except (UnsupportedModelError, OSError, ValueError) as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
