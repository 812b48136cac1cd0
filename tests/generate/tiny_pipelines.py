"""Tiny randomly initialised diffusers pipelines, saved as real model folders.

The diffusers backend loads model folders from disk and never downloads, so its
tests (and ``bench/diffusers_throughput.py``) build their models here: the
components diffusers' own tests use in ``get_dummy_components()``, with random
weights, a CLIP tokenizer made from a vocabulary written on the spot, and
``save_pretrained`` into a folder that the backend then loads like any other.
Everything is seeded, so two builds of one folder are byte-identical.

The builders import torch, diffusers and transformers when called, not on import.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = [
    "SD15",
    "TINY",
    "build_animatediff",
    "build_sd",
    "build_svd",
    "write_ip_adapter",
    "write_lora",
    "write_tokenizer",
]

# Shapes of the Stable-Diffusion-style pipeline: tiny for tests, SD 1.5's for the GPU bench.
TINY: dict[str, Any] = {
    "unet": {
        "block_out_channels": (4, 8),
        "layers_per_block": 1,
        "sample_size": 16,
        "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
        "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
        "cross_attention_dim": 8,
        "norm_num_groups": 2,
        "attention_head_dim": 2,
    },
    "vae": {
        "block_out_channels": (4, 8),
        "down_block_types": ("DownEncoderBlock2D",) * 2,
        "up_block_types": ("UpDecoderBlock2D",) * 2,
        "norm_num_groups": 2,
        "sample_size": 32,
    },
    "text": {
        "hidden_size": 8,
        "intermediate_size": 16,
        "num_attention_heads": 2,
        "num_hidden_layers": 2,
        "max_position_embeddings": 77,
    },
}

SD15: dict[str, Any] = {
    "unet": {
        "block_out_channels": (320, 640, 1280, 1280),
        "layers_per_block": 2,
        "sample_size": 64,
        "down_block_types": (
            "CrossAttnDownBlock2D",
            "CrossAttnDownBlock2D",
            "CrossAttnDownBlock2D",
            "DownBlock2D",
        ),
        "up_block_types": (
            "UpBlock2D",
            "CrossAttnUpBlock2D",
            "CrossAttnUpBlock2D",
            "CrossAttnUpBlock2D",
        ),
        "cross_attention_dim": 768,
        "norm_num_groups": 32,
        "attention_head_dim": 8,
    },
    "vae": {
        "block_out_channels": (128, 256, 512, 512),
        "down_block_types": ("DownEncoderBlock2D",) * 4,
        "up_block_types": ("UpDecoderBlock2D",) * 4,
        "norm_num_groups": 32,
        "layers_per_block": 2,
        "sample_size": 512,
    },
    "text": {
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_attention_heads": 12,
        "num_hidden_layers": 12,
        "max_position_embeddings": 77,
    },
}


def _bytes_to_unicode() -> list[str]:
    """GPT-2's byte-to-character table, which CLIP's byte-level BPE uses."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    chars = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return [chr(c) for c in chars]


def write_tokenizer(folder: Path) -> Path:
    """Writes a CLIP BPE vocabulary (every byte, alone and word-final, and a few merges)."""
    folder.mkdir(parents=True, exist_ok=True)
    merges = ["t h", "th e</w>", "a n", "an d</w>", "s h", "o t</w>"]
    tokens = ["<|startoftext|>", "<|endoftext|>"]
    for char in _bytes_to_unicode():
        tokens += [char, char + "</w>"]
    tokens += ["".join(merge.split()) for merge in merges]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    return folder


def _text_encoder_and_tokenizer(shape: dict[str, Any], scratch: Path) -> tuple[Any, Any]:
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(str(write_tokenizer(scratch)), model_max_length=77)
    torch.manual_seed(0)
    config = CLIPTextConfig(
        vocab_size=len(tokenizer),
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
        layer_norm_eps=1e-5,
        **shape["text"],
    )
    return CLIPTextModel(config), tokenizer


def build_sd(folder: Path, shape: dict[str, Any] = TINY, dtype: str = "float32") -> Path:
    """Saves a randomly initialised ``StableDiffusionPipeline`` of ``shape`` into ``folder``,
    its weights in ``dtype`` (float16 halves the 4 GB of an SD 1.5 shape)."""
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )

    torch.manual_seed(0)
    unet = UNet2DConditionModel(in_channels=4, out_channels=4, **shape["unet"])
    torch.manual_seed(0)
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, **shape["vae"])
    text_encoder, tokenizer = _text_encoder_and_tokenizer(shape, folder.parent / "_tokenizer")
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipe = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        image_encoder=None,
        requires_safety_checker=False,
    )
    if dtype != "float32":
        pipe.to(dtype=getattr(torch, dtype))
    pipe.save_pretrained(folder)
    return folder


def write_ip_adapter(folder: Path, cross_attention_dim: int = 8) -> Path:
    """Adds a random IP-Adapter to a tiny SD folder: ``ip_adapter/ip-adapter.safetensors``
    and its CLIP image encoder in ``ip_adapter/image_encoder`` (the layout the backend reads).

    The weights follow h94/IP-Adapter's file: ``image_proj.*`` (the image projection) and
    ``ip_adapter.N.to_k_ip/to_v_ip.weight`` for each cross-attention layer, numbered as
    diffusers' own test helper ``create_ip_adapter_state_dict`` numbers them.
    """
    import torch
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    unet = UNet2DConditionModel.from_pretrained(folder / "unet")
    torch.manual_seed(1)
    tensors: dict[str, torch.Tensor] = {}
    key_id = 1
    reversed_channels = list(reversed(unet.config.block_out_channels))
    for name in unet.attn_processors:
        if name.startswith("mid_block"):
            hidden = unet.config.block_out_channels[-1]
        elif name.startswith("up_blocks"):
            hidden = reversed_channels[int(name[len("up_blocks.")])]
        else:
            hidden = unet.config.block_out_channels[int(name[len("down_blocks.")])]
        if not name.endswith("attn1.processor"):
            for which in ("to_k_ip", "to_v_ip"):
                tensors[f"ip_adapter.{key_id}.{which}.weight"] = (
                    torch.randn(hidden, cross_attention_dim) * 0.5
                )
            key_id += 2
    tokens = 4
    tensors["image_proj.proj.weight"] = torch.randn(tokens * cross_attention_dim, 8) * 0.5
    tensors["image_proj.proj.bias"] = torch.zeros(tokens * cross_attention_dim)
    tensors["image_proj.norm.weight"] = torch.ones(cross_attention_dim)
    tensors["image_proj.norm.bias"] = torch.zeros(cross_attention_dim)
    target = folder / "ip_adapter"
    target.mkdir(exist_ok=True)
    save_file(tensors, target / "ip-adapter.safetensors")
    torch.manual_seed(2)
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=8,
            projection_dim=8,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=32,
            intermediate_size=16,
            patch_size=4,
        )
    )
    encoder.save_pretrained(target / "image_encoder")
    return target


def write_lora(path: Path, model: Path, rank: int = 4) -> Path:
    """Writes a random LoRA for the UNet of ``model`` with peft: ``path`` is a folder
    (``pytorch_lora_weights.safetensors`` inside) or a ``.safetensors`` file."""
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    unet = UNet2DConditionModel.from_pretrained(model / "unet")
    torch.manual_seed(3)
    # init_lora_weights=False: peft's default starts B at zero, a LoRA that changes nothing.
    config = LoraConfig(
        r=rank,
        lora_alpha=rank,
        target_modules=["to_q", "to_k", "to_v", "to_out.0"],
        init_lora_weights=False,
    )
    unet.add_adapter(config)
    layers = get_peft_model_state_dict(unet)
    if path.suffix == ".safetensors":
        StableDiffusionPipeline.save_lora_weights(
            path.parent, unet_lora_layers=layers, weight_name=path.name
        )
    else:
        StableDiffusionPipeline.save_lora_weights(path, unet_lora_layers=layers)
    return path


def build_animatediff(folder: Path) -> Path:
    """Saves a tiny random ``AnimateDiffPipeline`` (text-to-video) into ``folder``."""
    import torch
    from diffusers import (
        AnimateDiffPipeline,
        AutoencoderKL,
        DDIMScheduler,
        MotionAdapter,
        UNet2DConditionModel,
    )

    channels = (8, 8)
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=channels,
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=8,
        norm_num_groups=2,
    )
    torch.manual_seed(0)
    vae = AutoencoderKL(
        block_out_channels=channels,
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4,
        norm_num_groups=2,
    )
    torch.manual_seed(0)
    motion_adapter = MotionAdapter(
        block_out_channels=channels,
        motion_layers_per_block=1,
        motion_norm_num_groups=2,
        motion_num_attention_heads=2,
    )
    text_encoder, tokenizer = _text_encoder_and_tokenizer(TINY, folder.parent / "_tokenizer")
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="linear",
        clip_sample=False,
        steps_offset=1,
    )
    pipe = AnimateDiffPipeline(
        unet=unet,
        vae=vae,
        motion_adapter=motion_adapter,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=scheduler,
        feature_extractor=None,
        image_encoder=None,
    )
    pipe.save_pretrained(folder)
    return folder


def build_svd(folder: Path) -> Path:
    """Saves a tiny random ``StableVideoDiffusionPipeline`` (image-to-video) into ``folder``."""
    import torch
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    # Its blocks normalise in 32 groups: 32 channels is the least they take.
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=16,
        in_channels=8,
        out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=8,
        num_attention_heads=4,
        projection_class_embeddings_input_dim=24,
        addition_time_embed_dim=8,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        latent_channels=4,
    )
    torch.manual_seed(0)
    # The pipeline resizes the first frame to 224 pixels for its encoder, whatever its config.
    image_encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=8,
            projection_dim=8,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=224,
            intermediate_size=16,
            patch_size=32,
        )
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        interpolation_type="linear",
        num_train_timesteps=1000,
        prediction_type="v_prediction",
        sigma_max=700.0,
        sigma_min=0.002,
        steps_offset=1,
        timestep_spacing="leading",
        timestep_type="continuous",
        use_karras_sigmas=True,
    )
    pipe = StableVideoDiffusionPipeline(
        unet=unet,
        image_encoder=image_encoder,
        scheduler=scheduler,
        vae=vae,
        feature_extractor=CLIPImageProcessor(crop_size=224, size=224),
    )
    pipe.save_pretrained(folder)
    return folder
