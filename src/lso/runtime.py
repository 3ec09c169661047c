"""Where and how torch runs: the device a job uses, seeds, the number of CPU threads, the
precision of forward passes (bf16 autocast on GPUs that have it), inference batch sizes, and
how 8-bit images held once on the host become float batches on the device."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from lso.utils import InputError

logger = logging.getLogger(__name__)


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch's CPU ops on one thread, then restore the caller's setting.

    Linear algebra on a few hundred points cannot use extra threads, and on busy cores the
    hand-off between threads dominates (one GP fit on 15 points took 1.2 s with 2 threads and
    0.05 s with 1 on a loaded 2-core machine).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so that the same seed gives the same numbers on CPU."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(name: str = "auto") -> torch.device:
    """Map the config's ``device`` value to a torch device; ``auto`` prefers CUDA when present."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"config key 'device' is {name!r} but no CUDA device is available")
    return torch.device(name)


# --- precision, batches and host-to-device copies ----------------------------------------------

PRECISIONS = ("fp32", "bf16")
GPU_BATCH_FACTOR = 8  # inference batches on a GPU are this many times the CPU's
_POLICY: dict[str, object] = {"device_type": "cpu", "dtype": None}


def configure_precision(precision: str, device: torch.device) -> None:
    """Set the arithmetic of this job's forward passes (the config's ``precision``).

    ``bf16`` turns on bfloat16 autocast (:func:`mixed_precision`) on a CUDA device that
    supports it; on the CPU, or a GPU without bf16, it is ignored with a log line and the job
    runs in float32 exactly as with ``fp32``.
    """
    if precision not in PRECISIONS:
        raise InputError(f"precision must be one of {list(PRECISIONS)}, got {precision!r}")
    dtype = None
    if precision == "bf16":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            dtype = torch.bfloat16
            logger.info("precision bf16: bfloat16 autocast on %s", device)
        else:
            logger.info("precision bf16 ignored on %s (no bfloat16 autocast): float32", device)
    _POLICY.update(device_type=device.type, dtype=dtype)


def job_device(name: str = "auto", precision: str = "fp32") -> torch.device:
    """A job's device (:func:`resolve_device`), with its precision policy set
    (:func:`configure_precision`) for the rest of the job."""
    device = resolve_device(name)
    configure_precision(precision, device)
    return device


@contextmanager
def precision_policy(precision: str, device: torch.device) -> Iterator[None]:
    """:func:`configure_precision` for a block, then the previous policy again."""
    before = dict(_POLICY)
    configure_precision(precision, device)
    try:
        yield
    finally:
        _POLICY.update(before)


@contextmanager
def mixed_precision() -> Iterator[None]:
    """The job's autocast around a forward pass (training losses, decoding, scoring); with
    ``fp32``, or on the CPU, nothing at all: the code runs exactly as without it."""
    if _POLICY["dtype"] is None:
        yield
        return
    with torch.autocast(str(_POLICY["device_type"]), dtype=_POLICY["dtype"]):
        yield


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of a model's parameters (the CPU for a model without any)."""
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def inference_batch_size(device: torch.device | str, cpu_size: int) -> int:
    """Rows per decoding, encoding or scoring batch: ``cpu_size`` on the CPU (sized for its
    caches), :data:`GPU_BATCH_FACTOR` times more on a GPU (sized to keep it busy)."""
    return cpu_size * GPU_BATCH_FACTOR if torch.device(device).type == "cuda" else cpu_size


def host_images(images: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    """Images kept on the host for batches to be copied from: pinned (page-locked) memory when
    the job runs on CUDA, so that copies can be asynchronous; as they are otherwise."""
    tensor = torch.as_tensor(images)
    if device.type == "cuda" and tensor.device.type == "cpu":
        return tensor.pin_memory()
    return tensor


def training_images(images: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    """Where a job keeps the images it trains on: 8-bit ones once on the host
    (:func:`host_images`), converted batch by batch (:func:`unit_batch`); float ones (digits:
    small) on ``device``, as they always were."""
    tensor = torch.as_tensor(images)
    if tensor.dtype == torch.uint8:
        return host_images(tensor, device)
    return tensor.to(device)


def unit_batch(
    images: torch.Tensor, index: torch.Tensor | slice, device: torch.device
) -> torch.Tensor:
    """``images[index]`` as float32 on ``device``: 8-bit images (kept once, 4 bytes in 1) are
    copied as bytes and divided by 255 there, which gives exactly the values of dividing the
    whole array (IEEE division is correctly rounded); float images are taken as they are. A
    copy from the host to CUDA is asynchronous from pinned memory."""
    if isinstance(index, torch.Tensor):
        index = index.to(images.device)
    batch = images[index]
    if batch.device != device:
        cuda = device.type == "cuda" and batch.device.type == "cpu"
        if cuda and not batch.is_pinned():
            batch = batch.pin_memory()
        batch = batch.to(device, non_blocking=cuda)
    return batch.float() / 255.0 if batch.dtype == torch.uint8 else batch
