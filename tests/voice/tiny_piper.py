"""A tiny random Piper voice, built with ``onnx``: a model file and its config that Piper's
own runtime loads and runs (``piper.voice.PiperVoice``), so the piper backend is tested
through the real code path without a downloaded voice.

The graph has a real Piper voice's interface (read from piper/voice.py,
``phoneme_ids_to_audio``): inputs ``input`` (int64 [1, N] phoneme ids), ``input_lengths``
(int64 [1]) and ``scales`` (float32 [3]: noise, length, noise_w); output float32 audio of
shape [1, 1, T]. Each phoneme id becomes ``HOP`` samples of a random waveform scaled by the
id, and the whole is stretched by the length scale, as a VITS voice's durations are.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HOP = 256
RATE = 16000


def write_tiny_voice(folder: Path, name: str = "tiny", *, language: str = "en-us") -> Path:
    """Writes ``NAME.onnx`` and ``NAME.onnx.json`` into ``folder``; returns the model's path."""
    import onnx
    from onnx import TensorProto, helper
    from piper.phoneme_ids import DEFAULT_PHONEME_ID_MAP

    rng = np.random.default_rng(31)
    wave = (rng.standard_normal(HOP) * 0.02).astype(np.float32).reshape(1, 1, HOP)
    initializers = [
        helper.make_tensor("wave", TensorProto.FLOAT, [1, 1, HOP], wave.flatten().tolist()),
        helper.make_tensor("axis2", TensorProto.INT64, [1], [2]),
        helper.make_tensor("flat", TensorProto.INT64, [3], [1, 1, -1]),
        helper.make_tensor("one_one", TensorProto.FLOAT, [2], [1.0, 1.0]),
        helper.make_tensor("s1", TensorProto.INT64, [1], [1]),
        helper.make_tensor("s2", TensorProto.INT64, [1], [2]),
    ]
    nodes = [
        helper.make_node("Cast", ["input"], ["ids"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["ids", "axis2"], ["ids3"]),  # [1, N, 1]
        helper.make_node("Mul", ["ids3", "wave"], ["frames"]),  # [1, N, HOP]
        helper.make_node("Tanh", ["frames"], ["shaped"]),
        helper.make_node("Reshape", ["shaped", "flat"], ["audio0"]),  # [1, 1, N * HOP]
        helper.make_node("Slice", ["scales", "s1", "s2"], ["length"]),  # the length scale
        helper.make_node("Concat", ["one_one", "length"], ["resize_scales"], axis=0),
        helper.make_node("Resize", ["audio0", "", "resize_scales"], ["output"], mode="linear"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_piper",
        [
            helper.make_tensor_value_info("input", TensorProto.INT64, [1, "n"]),
            helper.make_tensor_value_info("input_lengths", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("scales", TensorProto.FLOAT, [3]),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, "t"])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.onnx"
    onnx.save(model, str(path))
    config = {
        "audio": {"sample_rate": RATE},
        "espeak": {"voice": language},
        "phoneme_type": "espeak",
        "num_symbols": 1 + max(i for ids in DEFAULT_PHONEME_ID_MAP.values() for i in ids),
        "num_speakers": 1,
        "inference": {"noise_scale": 0.667, "length_scale": 1.0, "noise_w": 0.8},
        "phoneme_id_map": DEFAULT_PHONEME_ID_MAP,
        "piper_version": "1.8.0",
    }
    Path(f"{path}.json").write_text(json.dumps(config, ensure_ascii=False))
    return path
