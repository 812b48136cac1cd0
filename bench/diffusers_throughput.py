"""Stills per second: Setpiece's batched diffusers backend against a plain diffusers loop.

One randomly initialised Stable Diffusion model, saved to a temporary folder,
rendered twice in the same run: by a plain diffusers loop (the pipeline loaded
with ``AutoPipelineForText2Image``, same device, dtype and SDPA attention, one
image per call, each saved as a PNG) and by Setpiece's backend through the
registry (``render_batch``: takes of one shot in calls of ``--batch`` images,
each written atomically as a PNG). Both get one warm-up call first, and the two
are timed alternately ``--rounds`` times; the best round of each is compared.

On a GPU: UNet, VAE and text encoder of SD 1.5's shape (random weights, saved in
float16), 1024x1024, 50 steps, bfloat16, with the GPU's utilisation sampled
from ``nvidia-smi`` during each timed phase. The goal: Setpiece at least 1.3x
the plain loop. On a CPU, ``--tiny`` runs the tests' tiny model at 32x32 in a few
steps, only to show that the bench works.

    python bench/diffusers_throughput.py            # GPU, SD 1.5 shape
    python bench/diffusers_throughput.py --tiny     # anywhere, seconds
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from _timing import machine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "generate"))

import tiny_pipelines


class Utilisation:
    """Samples ``nvidia-smi --query-gpu=utilization.gpu`` every 0.2 s while in use."""

    def __init__(self) -> None:
        self.available = shutil.which("nvidia-smi") is not None
        self.samples: list[float] = []

    def _sample(self) -> float | None:
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                capture_output=True,
                text=True,
                timeout=5,
                check=True,
            ).stdout
            return float(out.split()[0])
        except (OSError, subprocess.SubprocessError, ValueError, IndexError):
            return None

    @contextmanager
    def during(self) -> Iterator[list[float]]:
        samples: list[float] = []
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(0.2):
                value = self._sample()
                if value is not None:
                    samples.append(value)

        thread = threading.Thread(target=loop, daemon=True) if self.available else None
        if thread:
            thread.start()
        try:
            yield samples
        finally:
            stop.set()
            if thread:
                thread.join()


def timed(
    work: Callable[[], None], gpu: Utilisation, sync: Callable[[], None]
) -> tuple[float, str]:
    with gpu.during() as samples:
        sync()
        started = time.perf_counter()
        work()
        sync()
        elapsed = time.perf_counter() - started
    busy = f"{statistics.mean(samples):.0f}% GPU" if samples else "GPU n/a"
    return elapsed, busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="the tests' tiny model (CPU proof)")
    parser.add_argument("--images", type=int, default=None, help="stills per timed phase")
    parser.add_argument("--batch", type=int, default=4, help="Setpiece batch_size")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--size", type=int, default=None, help="width and height in pixels")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    import diffusers
    import torch
    from diffusers import AutoPipelineForText2Image
    from diffusers.models.attention_processor import AttnProcessor2_0

    from setpiece.generate.base import Mode, RenderRequest
    from setpiece.generate.registry import get_generator

    cuda = torch.cuda.is_available()
    if not args.tiny and not cuda:
        sys.exit("no CUDA GPU here: run with --tiny to check the bench on the CPU")
    size = args.size or (32 if args.tiny else 1024)
    steps = args.steps or (4 if args.tiny else 50)
    images = args.images or (16 if args.tiny else 8)
    shape = tiny_pipelines.TINY if args.tiny else tiny_pipelines.SD15
    device = "cuda" if cuda else "cpu"
    dtype = torch.bfloat16 if cuda else torch.float32
    prompt = "INT. KITCHEN - NIGHT. Ana at the window, rain on the glass, 35mm, low key"

    with tempfile.TemporaryDirectory(prefix="setpiece-bench-") as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        folder = tiny_pipelines.build_sd(
            root / ("tiny-sd" if args.tiny else "sd15-random"),
            shape,
            dtype="float32" if args.tiny else "float16",
        )
        built = time.perf_counter() - started

        plain = AutoPipelineForText2Image.from_pretrained(
            str(folder), dtype=dtype, local_files_only=True
        ).to(device)
        plain.unet.set_attn_processor(AttnProcessor2_0())
        plain.vae.set_attn_processor(AttnProcessor2_0())
        plain.set_progress_bar_config(disable=True)

        generator = get_generator(
            "diffusers", {"model": str(folder), "batch_size": args.batch, "steps": steps}
        )

        def request(seed: int) -> RenderRequest:
            return RenderRequest(
                mode=Mode.TEXT_TO_IMAGE, prompt=prompt, seed=seed, width=size, height=size
            )

        def plain_loop(out: Path, seeds: range) -> None:
            out.mkdir(parents=True, exist_ok=True)
            for seed in seeds:
                image = plain(
                    prompt,
                    num_inference_steps=steps,
                    width=size,
                    height=size,
                    generator=torch.Generator("cpu").manual_seed(seed),
                ).images[0]
                image.save(out / f"plain-{seed}.png")

        def setpiece(out: Path, seeds: range) -> None:
            generator.render_batch([request(seed) for seed in seeds], out)

        sync = torch.cuda.synchronize if cuda else (lambda: None)
        gpu = Utilisation()
        plain_loop(root / "warm", range(1))  # kernels, allocator, caches
        setpiece(root / "warm", range(1))
        results: dict[str, list[tuple[float, str]]] = {"plain": [], "setpiece": []}
        for round_ in range(args.rounds):
            seeds = range(1000 * round_, 1000 * round_ + images)
            results["plain"].append(timed(lambda s=seeds: plain_loop(root / "plain", s), gpu, sync))
            results["setpiece"].append(
                timed(lambda s=seeds: setpiece(root / "setpiece", s), gpu, sync)
            )
        generator.close()

    best = {name: min(runs) for name, runs in results.items()}
    rate = {name: images / seconds for name, (seconds, _) in best.items()}
    gpu_name = torch.cuda.get_device_name() if cuda else "none"
    unet_params = sum(p.numel() for p in plain.unet.parameters())
    print(f"machine: {machine()}; GPU: {gpu_name}")
    print(
        f"torch {torch.__version__}, diffusers {diffusers.__version__}; {device}, "
        f"{str(dtype).removeprefix('torch.')}, SDPA attention"
    )
    print(
        f"model: {'tiny' if args.tiny else 'SD 1.5 shape'} random weights "
        f"(UNet {unet_params:,} parameters), built in {built:.1f} s"
    )
    print(
        f"{images} stills of {size}x{size}, {steps} steps, one prompt, seeds differing;"
        f" best of {args.rounds} rounds"
    )
    for name, label in (("plain", "plain diffusers loop, batch 1"), ("setpiece", "")):
        seconds, busy = best[name]
        label = label or f"setpiece render_batch, batch {args.batch}"
        print(f"{label:<34} {seconds:8.2f} s  {rate[name]:8.2f} stills/s  {busy}")
    ratio = rate["setpiece"] / rate["plain"]
    goal = "" if args.tiny else f" (goal >= 1.3x: {'met' if ratio >= 1.3 else 'not met'})"
    print(f"ratio setpiece / plain: {ratio:.2f}x{goal}")


if __name__ == "__main__":
    main()
