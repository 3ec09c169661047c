"""Model types by config name, and what each offers the optimisation loop.

``type: vae`` in a config (and ``"class": "vae"`` in a checkpoint) names an entry here. The
traits say what the model offers, so the config checks ask capabilities: a GMM constraint
needs a model with an encoder, the discriminator constraint one with a discriminator, the
``codes`` optimiser one whose latent points are grids of codes. ``tests/test_architecture.py``
checks that every class agrees with its traits (``has_encoder``, ``latent_kind``).

Standard library only: the Snakefile reads it (see :mod:`lso.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lso.registry import Entry, Registry


@dataclass(frozen=True)
class ModelTraits:
    """What a model type offers.

    ``family`` is the data it makes (``digits``, ``faces``; None for the pipeline's own
    auxiliary networks, which no config names). ``latent`` is ``continuous`` (vectors that the
    BO and trust-region optimisers search) or ``codes`` (grids of categorical codes).
    ``monitor`` is a module whose ``PretrainingMonitor`` watches pretraining (a GAN, with no
    encoder to show reconstructions, shows samples of fixed latent points and their Fréchet
    distance); it is a code input of that model's pretraining only.
    """

    family: str | None
    encoder: bool = True
    encoder_variance: bool = False  # a Gaussian posterior: gmm_full puts one on every datum
    latent: str = "continuous"
    discriminator: bool = False
    keeps_optimizer_state: bool = False  # its retrainings may continue their Adam states
    monitor: str | None = None

    @property
    def configurable(self) -> bool:
        """Whether a config's ``models.<name>.type`` may name it (generative models only)."""
        return self.family is not None


MODELS: Registry[ModelTraits] = Registry(
    "model type",
    {
        "vae": Entry("lso.models.mnist", "BinaryVAE", ModelTraits("digits", encoder_variance=True)),
        "rae": Entry("lso.models.mnist", "BinaryRAE", ModelTraits("digits")),
        "face_vae": Entry(
            "lso.models.face_vae", "FaceVAE", ModelTraits("faces", encoder_variance=True)
        ),
        "sn_gan": Entry(
            "lso.models.sngan",
            "SNGAN",
            ModelTraits(
                "faces",
                encoder=False,
                discriminator=True,
                keeps_optimizer_state=True,
                monitor="lso.core.monitor",
            ),
        ),
        "vq_vae": Entry("lso.models.vqvae", "VQVAE", ModelTraits("faces", latent="codes")),
        "joint_vae": Entry(
            "lso.models.joint_vae", "JointVAE", ModelTraits(None, encoder_variance=True)
        ),
        "classifier": Entry("lso.models.classifier", "MnistClassifier", ModelTraits(None)),
        "resnet_classifier": Entry("lso.models.resnet", "ResNetClassifier", ModelTraits(None)),
        "conv_classifier": Entry("lso.models.conv_classifier", "ConvClassifier", ModelTraits(None)),
    },
)
