"""The diffusers backend on tiny random pipelines, loaded from disk through the registry.

The models are built in ``tiny_pipelines`` and saved with ``save_pretrained``;
the backend then loads them as it loads any model folder (``get_generator``,
``local_files_only``). Renders are 32x32 in two steps on the CPU, so what is
tested is the plumbing (modes, batching, seeds, adapters, files, errors), not
pictures. Skipped where torch, diffusers or transformers are not installed.
"""

from __future__ import annotations

import functools
import json
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

for _module in ("torch", "diffusers", "transformers"):
    pytest.importorskip(
        _module, reason=f"{_module} is not installed: pip install 'setpiece[diffusers]'"
    )

from generate import tiny_pipelines  # noqa: E402
from mediafactory import write_png  # noqa: E402
from setpiece.errors import InvalidInputError  # noqa: E402
from setpiece.generate.backends._diffusers_model import files_hash, weight_files  # noqa: E402
from setpiece.generate.base import Mode, RenderError, RenderRequest, RenderResult  # noqa: E402
from setpiece.generate.registry import get_generator, list_generators  # noqa: E402

pytestmark = [
    # diffusers' Euler scheduler builds an array from a tensor the NumPy 1 way.
    pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning"),
    # peft says so when a second LoRA joins the first in one UNet, which is what we want.
    pytest.mark.filterwarnings("ignore:Already found a `peft_config`:UserWarning"),
]


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    """Tiny models gain nothing from threads, and two cores shared with other work lose a lot
    to OpenMP threads spinning for one another."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny model folders: SD with an IP-Adapter, SD without, AnimateDiff, SVD."""
    root = tmp_path_factory.mktemp("models")
    sd = tiny_pipelines.build_sd(root / "tiny-sd")
    plain = root / "tiny-sd-plain"
    shutil.copytree(sd, plain)
    tiny_pipelines.write_ip_adapter(sd)
    return {
        "sd": sd,
        "plain": plain,
        "animatediff": tiny_pipelines.build_animatediff(root / "tiny-animatediff"),
        "svd": tiny_pipelines.build_svd(root / "tiny-svd"),
    }


@pytest.fixture(scope="module")
def loras(models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two random LoRAs for the SD model: a folder and a single file (made with peft)."""
    pytest.importorskip("peft", reason="peft is not installed: pip install 'setpiece[diffusers]'")
    root = tmp_path_factory.mktemp("loras")
    return {
        "folder": tiny_pipelines.write_lora(root / "style-lora", models["sd"]),
        "file": tiny_pipelines.write_lora(root / "grain.safetensors", models["sd"]),
    }


@pytest.fixture(scope="module")
def sd(models: dict[str, Path]) -> Iterator[Any]:
    """One generator for the SD model, shared so its pipelines load once for the module."""
    generator = get_generator("diffusers", {"model": str(models["sd"]), "steps": 2})
    yield generator
    generator.close()


def still(seed: int, **fields: Any) -> RenderRequest:
    fields.setdefault("mode", Mode.TEXT_TO_IMAGE)
    fields.setdefault("prompt", "the hat and the cat")
    return RenderRequest(seed=seed, width=32, height=32, **fields)


def pixels(result: RenderResult) -> np.ndarray:
    return np.asarray(Image.open(result.path)).astype(np.int16)


def same(a: RenderResult, b: RenderResult) -> bool:
    return bool(np.array_equal(pixels(a), pixels(b)))


def alike(batched: RenderResult, single: RenderResult) -> bool:
    """The same image made in batches of different sizes: batched float32 matrix products
    may differ from unbatched ones in the last bit (about 1e-7), which can move a value
    across a rounding boundary of the 8-bit PNG: at most one level, on a handful of values
    (which values depends on the CPU's vector unit)."""
    difference = np.abs(pixels(batched).astype(int) - pixels(single).astype(int))
    return bool(difference.max() <= 1 and (difference > 0).mean() < 0.01)


class Calls:
    """Counts pipeline calls (and their batch sizes) by wrapping the pipeline class's __call__."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, pipe: Any) -> None:
        self.sizes: list[int] = []
        original = type(pipe).__call__

        @functools.wraps(original)  # the backend reads the signature
        def counted(this: Any, *args: Any, **kwargs: Any) -> Any:
            self.sizes.append(kwargs.get("num_images_per_prompt", 1))
            return original(this, *args, **kwargs)

        monkeypatch.setattr(type(pipe), "__call__", counted)


def loaded_pipe(generator: Any, mode: Mode = Mode.TEXT_TO_IMAGE) -> Any:
    return next(p.pipe for (_, m), p in generator._pipelines.items() if m is mode)


# Registry and import --------------------------------------------------------------------------


def test_listed_available_and_module_import_does_not_import_torch() -> None:
    info = next(g for g in list_generators() if g.name == "diffusers")
    assert info.available and info.install_hint is None
    assert info.capabilities is not None and info.capabilities["reference_images"] is True
    code = (
        "import sys, setpiece.generate.backends.diffusers as d; "
        "assert d.DiffusersGenerator.requires == ('torch', 'diffusers', 'transformers'); "
        "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# Stills ---------------------------------------------------------------------------------------


def test_text_to_image_writes_a_png_with_its_recipe(sd: Any, tmp_path: Path) -> None:
    result = sd.render(still(7), tmp_path)
    assert result.path.parent == tmp_path and result.path.suffix == ".png"
    assert Image.open(result.path).size == (32, 32)
    assert [p.name for p in tmp_path.iterdir()] == [result.path.name]  # no temporary left over
    assert result.model == "tiny-sd"
    assert result.model_hash is not None and len(result.model_hash) == 64
    assert result.parameters == {
        "pipeline": "StableDiffusionPipeline",
        "steps": 2,
        "guidance": 7.5,
        "scheduler": "DDIMScheduler",
        "device": "cpu",
        "dtype": "float32",
        "attention": "sdpa",
        "batch": 1,
        "width": 32,
        "height": 32,
    }
    from diffusers.models.attention_processor import AttnProcessor2_0

    pipe = loaded_pipe(sd)
    for model in (pipe.unet, pipe.vae):
        assert {type(p) for p in model.attn_processors.values()} == {AttnProcessor2_0}


def test_a_seed_gives_one_image_and_another_seed_another(sd: Any, tmp_path: Path) -> None:
    first, again, other = (sd.render(still(seed), tmp_path) for seed in (11, 11, 12))
    assert first.path != again.path
    assert same(first, again)
    assert not same(first, other)


def test_takes_differing_in_seed_alone_are_one_call_and_each_matches_its_seed_alone(
    sd: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each image of a batch is its seed's image. Batched float32 matrix products may differ
    from unbatched ones in the last bit (about 1e-7 here), which can move a value across a
    rounding boundary of the 8-bit PNG: at most one level, on a handful of values."""
    sd.render(still(1), tmp_path)  # loaded before counting
    calls = Calls(monkeypatch, loaded_pipe(sd))
    batch = sd.render_batch([still(21), still(22), still(23)], tmp_path)
    assert calls.sizes == [3]
    alone = [sd.render(still(seed), tmp_path) for seed in (21, 22, 23)]
    for together, single in zip(batch, alone, strict=True):
        assert alike(together, single)
        assert together.parameters["batch"] == 3
    assert not same(batch[0], batch[1])
    assert len({r.path for r in batch + alone}) == 6
    # Measured cost: one call's wall time shared by its 3 takes, in compute seconds on the CPU.
    assert {r.cost.unit for r in batch + alone if r.cost} == {"compute_seconds"}
    assert len({r.cost for r in batch}) == 1 and batch[0].cost and batch[0].cost.amount > 0
    assert sd.quote(still(1)) is None  # billed by measured time: it cannot quote


def test_batches_follow_batch_size_and_keep_request_order(
    models: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generator = get_generator("diffusers", {"model": str(models["plain"]), "batch_size": 2})
    requests = [
        still(1, parameters={"steps": 2}),
        still(2, prompt="the ship", parameters={"steps": 2}),
        still(3, parameters={"steps": 2}),
        still(4, parameters={"steps": 2}),
    ]
    generator.render(requests[0], tmp_path)
    calls = Calls(monkeypatch, loaded_pipe(generator))
    seen: list[float] = []
    results = generator.render_batch(requests, tmp_path, seen.append)
    assert sorted(calls.sizes) == [1, 1, 2]  # seeds 1, 3 together; 4 alone; the ship alone
    assert [int(r.path.name.split("-s")[-1].split("-")[0]) for r in results] == [1, 2, 3, 4]
    assert seen == sorted(seen) and seen[-1] == 1.0
    generator.close()
    assert generator._pipelines == {}


def test_image_to_image_takes_the_init_image_at_the_take_size(sd: Any, tmp_path: Path) -> None:
    init = write_png(tmp_path / "init.png", w=48, h=40, seed=3)
    request = still(5, mode=Mode.IMAGE_TO_IMAGE, init_image=init, parameters={"strength": 0.5})
    result = sd.render(request, tmp_path / "out")
    assert Image.open(result.path).size == (32, 32)
    assert result.parameters["pipeline"] == "StableDiffusionImg2ImgPipeline"
    assert result.parameters["strength"] == 0.5
    assert result.parameters["init_image_resized_from"] == [48, 40]
    assert same(result, sd.render(request, tmp_path / "out"))
    other = write_png(tmp_path / "other.png", w=32, h=32, seed=4)
    changed = sd.render(still(5, mode=Mode.IMAGE_TO_IMAGE, init_image=other), tmp_path / "out")
    assert not same(result, changed) and "init_image_resized_from" not in changed.parameters


def test_scheduler_parameter_swaps_the_scheduler_for_one_take(sd: Any, tmp_path: Path) -> None:
    base = sd.render(still(8), tmp_path)
    euler = sd.render(still(8, parameters={"scheduler": "EulerDiscreteScheduler"}), tmp_path)
    assert euler.parameters["scheduler"] == "EulerDiscreteScheduler"
    assert not same(base, euler)
    assert same(base, sd.render(still(8), tmp_path))  # back to the folder's own
    with pytest.raises(RenderError, match="no NoSuchScheduler") as caught:
        sd.render(still(8, parameters={"scheduler": "NoSuchScheduler"}), tmp_path)
    assert not caught.value.transient


# Adapters -------------------------------------------------------------------------------------


def test_lora_from_a_folder_or_a_file_changes_the_take_and_switches_off(
    sd: Any, loras: dict[str, Path], tmp_path: Path
) -> None:
    base = sd.render(still(9), tmp_path)
    styled = sd.render(still(9, parameters={"lora": str(loras["folder"])}), tmp_path)
    assert not same(base, styled)
    assert styled.parameters["lora"] == str(loras["folder"])
    assert styled.parameters["lora_scale"] == 1.0
    assert len(styled.parameters["lora_hash"]) == 64
    again = sd.render(still(9, parameters={"lora": str(loras["folder"])}), tmp_path)
    assert same(styled, again)
    grain = sd.render(
        still(9, parameters={"lora": str(loras["file"]), "lora_scale": 0.5}), tmp_path
    )
    assert not same(grain, styled) and not same(grain, base)
    assert grain.parameters["lora_hash"] != styled.parameters["lora_hash"]
    assert same(base, sd.render(still(9), tmp_path))  # every LoRA off again
    with pytest.raises(RenderError, match="cannot load LoRA") as caught:
        sd.render(still(9, parameters={"lora": str(tmp_path / "missing")}), tmp_path)
    assert not caught.value.transient


def test_reference_images_go_through_the_models_ip_adapter(
    sd: Any, models: dict[str, Path], tmp_path: Path
) -> None:
    assert sd.capabilities().reference_images
    refs = (write_png(tmp_path / "anna.png", seed=1), write_png(tmp_path / "boat.png", seed=2))
    base = sd.render(still(10), tmp_path / "out")
    guided = sd.render(still(10, references=refs), tmp_path / "out")
    assert not same(base, guided)
    assert guided.parameters["references"] == 2
    assert guided.parameters["ip_adapter"] == str(
        models["sd"] / "ip_adapter/ip-adapter.safetensors"
    )
    assert guided.parameters["ip_adapter_scale"] == 0.6
    assert len(guided.parameters["ip_adapter_hash"]) == 64
    assert same(base, sd.render(still(10), tmp_path / "out"))  # unloaded for a take without
    assert same(guided, sd.render(still(10, references=refs), tmp_path / "out"))  # and back
    batch = sd.render_batch([still(41, references=refs), still(42, references=refs)], tmp_path)
    for together, seed in zip(batch, (41, 42), strict=True):
        alone = sd.render(still(seed, references=refs), tmp_path / "out")
        assert np.abs(pixels(together) - pixels(alone)).max() <= 1
    weaker = sd.render(
        still(10, references=refs, parameters={"ip_adapter_scale": 0.1}), tmp_path / "out"
    )
    assert not same(weaker, guided)
    init = write_png(tmp_path / "init.png", w=32, h=32, seed=5)
    both = sd.render(
        still(10, mode=Mode.IMAGE_TO_IMAGE, init_image=init, references=refs), tmp_path / "out"
    )
    assert both.parameters["pipeline"] == "StableDiffusionImg2ImgPipeline"
    assert both.parameters["references"] == 2


# Video ----------------------------------------------------------------------------------------


def decoded(path: Path) -> tuple[int, Fraction, tuple[int, int]]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        return len(frames), Fraction(stream.average_rate), (frames[0].width, frames[0].height)


def test_text_to_video_with_a_video_pipeline(models: dict[str, Path], tmp_path: Path) -> None:
    generator = get_generator("diffusers", {"model": str(models["animatediff"]), "steps": 2})
    assert generator.capabilities().modes == {Mode.TEXT_TO_VIDEO}
    request = RenderRequest(
        mode=Mode.TEXT_TO_VIDEO,
        prompt="the ship",
        seed=3,
        width=32,
        height=32,
        frames=4,
        fps=Fraction(24000, 1001),
    )
    result = generator.render(request, tmp_path)
    assert result.path.suffix == ".mp4"
    assert decoded(result.path) == (4, Fraction(24000, 1001), (32, 32))
    assert result.parameters["pipeline"] == "AnimateDiffPipeline"
    assert result.parameters["frames"] == 4 and result.parameters["fps"] == "24000/1001"
    generator.close()


def test_image_to_video_with_a_video_pipeline(models: dict[str, Path], tmp_path: Path) -> None:
    generator = get_generator("diffusers", {"model": str(models["svd"]), "steps": 2})
    assert generator.capabilities().modes == {Mode.IMAGE_TO_VIDEO}
    first = write_png(tmp_path / "first.png", w=32, h=32, seed=6)
    request = RenderRequest(
        mode=Mode.IMAGE_TO_VIDEO, prompt="", seed=4, width=32, height=32, frames=3, init_image=first
    )
    result = generator.render(request, tmp_path)
    assert decoded(result.path) == (3, Fraction(24), (32, 32))
    assert result.parameters["pipeline"] == "StableVideoDiffusionPipeline"
    assert "prompt_ignored" not in result.parameters  # an empty prompt is not one ignored
    generator.close()


# Refusals and errors --------------------------------------------------------------------------


def test_a_folder_that_is_not_a_diffusers_model_is_a_permanent_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model_index.json").write_text("{not json")
    nameless = tmp_path / "nameless"
    nameless.mkdir()
    (nameless / "model_index.json").write_text(json.dumps({"unet": ["diffusers", "UNet"]}))
    for folder, words in [
        (empty, "has no model_index.json"),
        (broken, "not a usable diffusers model folder"),
        (nameless, "names no pipeline class"),
        (tmp_path / "missing", "does not exist"),
    ]:
        generator = get_generator("diffusers", {"model": str(folder)})
        with pytest.raises(RenderError) as caught:
            generator.render(still(1), tmp_path / "out")
        assert not caught.value.transient
        assert str(folder) in str(caught.value) and words in str(caught.value)
        assert "\n" not in str(caught.value)
    with pytest.raises(RenderError, match="needs a model folder"):
        get_generator("diffusers").render(still(1), tmp_path / "out")


def test_a_folder_whose_weights_are_missing_is_a_permanent_error(
    models: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "no-unet"
    shutil.copytree(models["plain"], folder)
    shutil.rmtree(folder / "unet")
    with pytest.raises(RenderError, match="cannot load diffusers model") as caught:
        get_generator("diffusers", {"model": str(folder)}).render(still(1), tmp_path / "out")
    assert not caught.value.transient and str(folder) in str(caught.value)


def test_what_the_model_cannot_do_is_refused_before_loading(
    models: dict[str, Path], tmp_path: Path
) -> None:
    generator = get_generator("diffusers", {"model": str(models["plain"])})
    assert generator.capabilities().modes == {Mode.TEXT_TO_IMAGE, Mode.IMAGE_TO_IMAGE}
    assert not generator.capabilities().reference_images  # no ip_adapter folder
    ref = write_png(tmp_path / "ref.png", seed=1)
    refused = [
        (still(1, mode=Mode.TEXT_TO_VIDEO, frames=8), "cannot do text-to-video"),
        (still(1, references=(ref,)), "takes no reference images"),
        (still(1, mode=Mode.IMAGE_TO_IMAGE), "needs an init image"),
        (still(1, init_image=ref), "takes no init image"),
        (still(-1), "seeds run from 0"),
        (still(1, parameters={"setps": 20}), "no parameter setps"),
        (still(1, parameters={"steps": 0}), "steps must be"),
    ]
    for request, words in refused:
        with pytest.raises(InvalidInputError, match=words):
            generator.check(request)
        with pytest.raises(RenderError, match=words) as caught:
            generator.render(request, tmp_path / "out")
        assert not caught.value.transient
    assert generator._pipelines == {}  # nothing was loaded for any of them
    # The request's model wins over the configured one.
    video = still(1, mode=Mode.TEXT_TO_VIDEO, frames=8, model=str(models["animatediff"]))
    generator.check(video)
    with pytest.raises(InvalidInputError, match=r"\[generators.diffusers\] batch_size: expected"):
        get_generator("diffusers", {"batch_size": 0})


def test_a_bad_init_image_is_a_permanent_error(sd: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(RenderError, match="cannot read image") as caught:
        sd.render(still(1, mode=Mode.IMAGE_TO_IMAGE, init_image=bad), tmp_path / "out")
    assert not caught.value.transient and str(bad) in str(caught.value)


def test_out_of_memory_halves_the_batch_then_is_transient(
    sd: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    expected = sd.render_batch([still(31), still(32)], tmp_path)
    pipe = loaded_pipe(sd)
    original = type(pipe).__call__
    sizes: list[int] = []

    @functools.wraps(original)
    def small_memory(this: Any, *args: Any, **kwargs: Any) -> Any:
        sizes.append(kwargs["num_images_per_prompt"])
        if kwargs["num_images_per_prompt"] > limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return original(this, *args, **kwargs)

    monkeypatch.setattr(type(pipe), "__call__", small_memory)
    limit = 1
    halved = sd.render_batch([still(31), still(32)], tmp_path)
    assert sizes == [2, 1, 1]
    assert all(alike(a, b) for a, b in zip(expected, halved, strict=True))
    limit = 0
    with pytest.raises(RenderError, match="out of memory") as caught:
        sd.render(still(31), tmp_path)
    assert caught.value.transient


# Model hash and lifecycle ---------------------------------------------------------------------


def test_model_hash_covers_the_weights_and_stays_stable(
    models: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(models["plain"], folder)
    expected = files_hash(folder, weight_files(folder))
    names = [p.relative_to(folder).as_posix() for p in weight_files(folder)]
    assert names == sorted(names) and "model_index.json" in names
    assert "scheduler/scheduler_config.json" not in names
    assert all(n.endswith((".safetensors", "model_index.json")) for n in names)
    one = get_generator("diffusers", {"model": str(folder), "steps": 1})
    first = one.render(still(1), tmp_path / "out")
    second = get_generator("diffusers", {"model": str(folder), "steps": 1}).render(
        still(2), tmp_path / "out"
    )
    assert first.model_hash == second.model_hash == expected
    # The copy of the same weights under another name hashes the same: the hash is of content.
    assert files_hash(models["plain"], weight_files(models["plain"])) == expected
    weights = folder / "vae" / "diffusion_pytorch_model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    os.utime(weights, ns=(1, 1))
    assert one._hash(folder, weight_files(folder)) != expected
    one.close()


def test_loading_and_rendering_never_touch_the_network(
    models: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"the diffusers backend opened a connection: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    generator = get_generator("diffusers", {"model": str(models["plain"]), "steps": 1})
    assert generator.render(still(1), tmp_path).path.is_file()
    with pytest.raises(RenderError, match="does not exist"):  # never taken for a hub repo id
        generator.render(still(1, model="runwayml/stable-diffusion-v1-5"), tmp_path)
    generator.close()


def test_a_pickled_generator_leaves_its_pipelines_behind(sd: Any, tmp_path: Path) -> None:
    sd.render(still(1), tmp_path)
    copy = pickle.loads(pickle.dumps(sd))
    assert copy._pipelines == {} and sd._pipelines
    assert same(copy.render(still(1), tmp_path), sd.render(still(1), tmp_path))
    copy.close()
