"""Fast on a GPU, unchanged on a CPU: the precision policy, 8-bit data converted batch by
batch, pinned host copies and GPU-sized inference batches.

Every check that can run on a CPU does: with ``fp32`` (or ``bf16`` on a CPU, where it is
ignored) every number is bitwise what the code gave before the policy existed. The CUDA checks
skip without a GPU.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from lso.core.objectives import score_in_chunks
from lso.core.training import evaluate_loss, fit
from lso.models.base import decode_queries
from lso.models.build import build_model
from lso.models.fitting import FitSettings
from lso.optimizers.base import image_keys
from lso.runtime import (
    configure_precision,
    host_images,
    inference_batch_size,
    job_device,
    mixed_precision,
    precision_policy,
    training_images,
    unit_batch,
)
from lso.utils import InputError

CPU = torch.device("cpu")
FACE_VAE = {"latent_dim": 8, "widths": [4, 8], "beta_warmup_steps": 2, "beta_step_every": 1}
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def faces(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 3, 64, 64), dtype=np.uint8)


def test_eight_bit_batches_equal_the_whole_array_converted() -> None:
    """x / 255 per batch (torch, on the device) == the whole array converted (numpy), bitwise,
    for every one of the 256 levels."""
    images = faces(300)
    images[0].flat[:256] = np.arange(256)
    whole = images.astype(np.float32) / 255.0
    stored = training_images(images, CPU)
    assert stored.dtype == torch.uint8 and stored.data_ptr() == torch.as_tensor(images).data_ptr()
    index = torch.randperm(300, generator=torch.Generator().manual_seed(0))[:64]
    batch = unit_batch(stored, index, CPU)
    assert batch.dtype == torch.float32
    np.testing.assert_array_equal(batch.numpy(), whole[index.numpy()])
    np.testing.assert_array_equal(unit_batch(stored, slice(0, 300), CPU).numpy(), whole)
    floats = torch.as_tensor(whole)  # float images are taken as they are
    assert torch.equal(unit_batch(floats, index, CPU), floats[index])
    assert image_keys(images) == image_keys(whole)  # the same identities either way


def test_fitting_on_eight_bit_images_equals_fitting_on_floats() -> None:
    images = faces(96)
    settings = FitSettings(epochs=2, batch_size=16, lr=1e-3)
    states, logs = [], []
    for data in (torch.as_tensor(images.astype(np.float32) / 255.0), torch.as_tensor(images)):
        torch.manual_seed(0)
        model = build_model("face_vae", FACE_VAE)
        log = fit(
            model,
            data,
            settings,
            generator=torch.Generator().manual_seed(1),
            val_images=data[:20],
        )
        states.append(model.state_dict())
        logs.append(log)
        logs.append(evaluate_loss(model, data[20:40]))
    for key, value in states[0].items():
        assert torch.equal(value, states[1][key]), key
    assert logs[0].equals(logs[2]) and logs[1] == logs[3]


def _trained(policy: str | None) -> tuple[dict, np.ndarray]:
    """A short fit and a decode, under ``policy`` (None: no policy set at all)."""
    torch.manual_seed(0)
    model = build_model("face_vae", FACE_VAE)
    data = torch.as_tensor(faces(64))

    def run():
        fit(model, data, FitSettings(1, 16, 1e-3), generator=torch.Generator().manual_seed(2))
        latents = np.random.default_rng(3).standard_normal((40, 8))
        return model.state_dict(), decode_queries(model, latents, CPU, batch_size=16)

    if policy is None:
        return run()
    with precision_policy(policy, CPU):
        return run()


def test_fp32_and_bf16_on_a_cpu_give_the_numbers_of_no_policy_at_all(caplog) -> None:
    reference_state, reference_images = _trained(None)
    for policy in ("fp32", "bf16"):
        with caplog.at_level(logging.INFO):
            state, images = _trained(policy)
        for key, value in reference_state.items():
            assert torch.equal(value, state[key]), (policy, key)
        np.testing.assert_array_equal(images, reference_images)
        assert images.dtype == np.float32
    assert "precision bf16 ignored on cpu" in caplog.text


def test_the_policy_is_off_on_a_cpu_and_restored_after_a_block() -> None:
    with precision_policy("bf16", CPU), mixed_precision():
        assert not torch.is_autocast_enabled("cpu")
        assert torch.ones(2, 2).matmul(torch.ones(2, 2)).dtype == torch.float32
    with pytest.raises(InputError, match="precision must be one of"):
        configure_precision("fp16", CPU)
    assert job_device("cpu", "bf16") == CPU
    configure_precision("fp32", CPU)


def test_inference_batches_are_sized_for_the_device() -> None:
    assert inference_batch_size(CPU, 256) == 256
    assert inference_batch_size("cuda", 256) == 2048  # no GPU needed to size one
    assert inference_batch_size(torch.device("cuda:1"), 512) == 4096
    images = torch.as_tensor(faces(4))
    assert host_images(images, CPU) is images or not host_images(images, CPU).is_pinned()


def test_scoring_in_chunks_equals_scoring_the_whole_float_array() -> None:
    images = faces(70)
    calls = []

    def objective(batch: np.ndarray) -> np.ndarray:
        calls.append(len(batch))
        return batch.reshape(len(batch), 3 * 64 * 64).astype(np.float64).sum(axis=1)

    whole = objective(images.astype(np.float32) / 255.0)
    np.testing.assert_array_equal(score_in_chunks(objective, images, chunk=32), whole)
    assert calls[1:] == [32, 32, 6]
    assert len(score_in_chunks(objective, images[:0])) == 0


@cuda
def test_bf16_autocast_on_a_gpu_that_has_it() -> None:
    device = torch.device("cuda")
    if not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bfloat16")
    model = build_model("face_vae", FACE_VAE).to(device)
    with precision_policy("bf16", device):
        with mixed_precision():
            assert torch.is_autocast_enabled("cuda")
            assert model.decode(torch.zeros(2, 8, device=device)).dtype == torch.bfloat16
        images = decode_queries(model, np.zeros((3, 8)), device)
    assert images.dtype == np.float32  # quantised to 8-bit levels in float32


@cuda
def test_pinned_host_images_copy_to_the_gpu_with_the_same_values() -> None:
    device = torch.device("cuda")
    images = faces(50)
    stored = training_images(images, device)
    assert stored.device.type == "cpu" and stored.is_pinned()
    batch = unit_batch(stored, torch.arange(10), device)
    assert batch.device.type == "cuda"
    np.testing.assert_array_equal(batch.cpu().numpy(), images[:10].astype(np.float32) / 255.0)
