"""How each network is trained: one :class:`Recipe` per architecture.

A recipe holds every choice that shapes training (input size, optimiser,
schedule, batch size, regularisation, epochs). The defaults in
:data:`RECIPES` were chosen by short pilot runs scored on PublicTest;
``benchmarks/cnn_pilots.py`` runs them and ``benchmarks/results/*-cnn-pilots/``
records what each pilot scored, so the reasons live with the measurements.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .architectures import NETWORK_OPTION_OWNERS, check_architecture, check_network_options

OPTIMIZERS = ("adam", "adamw", "sgd")
MIXING = ("none", "mixup", "cutmix")


@dataclass(frozen=True)
class Recipe:
    """Everything that decides how a network is trained.

    Attributes
    ----------
    epochs : int
        Length of the learning-rate schedule, and the most epochs run.
    batch_size : int
    optimizer : {"adam", "adamw", "sgd"}
        Adam, Adam with decoupled weight decay, or SGD with Nesterov
        momentum 0.9.
    learning_rate : float
        Peak learning rate, reached after the warm-up.
    weight_decay : float
        Decoupled weight decay (``adamw`` and ``sgd``).
    warmup_epochs : float
        Linear warm-up from zero; then a cosine decay to zero at ``epochs``.
    label_smoothing : float
        Mass spread evenly over the seven classes of each target.
    mixing : {"none", "mixup", "cutmix"}
        Mix pairs of faces and their targets within each batch [1]_ [2]_.
    mixing_alpha : float
        The Beta(alpha, alpha) distribution of the mixing proportion.
    erasing : float
        Probability of random erasing per face.
    patience : int
        Epochs without a better PublicTest accuracy before stopping.
    input_size : int
        Side the 48x48 face is resized to inside the network.
    width : int or None
        ``fer-cnn`` only: channels of its first block (doubling per block).
    batch_norm : bool
        ``vgg19`` only: batch normalisation after every convolution (VGG19-BN).
    stem_stride : int or None
        ``resnet50`` only: a 3x3 stem of this stride (1 or 2) with no
        max-pooling, made for 48 px faces, instead of Keras's ImageNet stem.

    References
    ----------
    .. [1] H. Zhang et al., "mixup: Beyond Empirical Risk Minimization",
       ICLR 2018.
    .. [2] S. Yun et al., "CutMix: Regularization Strategy to Train Strong
       Classifiers with Localizable Features", ICCV 2019.
    """

    epochs: int = 40
    batch_size: int = 64
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    warmup_epochs: float = 1.0
    label_smoothing: float = 0.0
    mixing: str = "none"
    mixing_alpha: float = 0.2
    erasing: float = 0.5
    patience: int = 10
    input_size: int = 48
    width: int | None = None
    batch_norm: bool = False
    stem_stride: int | None = None

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose from {', '.join(OPTIMIZERS)}")
        if self.mixing not in MIXING:
            raise ValueError(f"unknown mixing {self.mixing!r}; choose from {', '.join(MIXING)}")
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "learning_rate": self.learning_rate,
                    "patience": self.patience, "input_size": self.input_size}
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value}")
        for name in ("label_smoothing", "erasing"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")

    def replace(self, **changes):
        """A copy with ``changes``; ``None`` values are ignored (unset command-line options)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def as_dict(self):
        return dataclasses.asdict(self)

    def network_options(self):
        """The options that change the network's shape, for :func:`~fer_classic.cnn.architectures.build_cnn`."""
        options = {"input_size": self.input_size}
        if self.width is not None:
            options["width"] = self.width
        if self.batch_norm:
            options["batch_norm"] = True
        if self.stem_stride is not None:
            options["stem_stride"] = self.stem_stride
        return options


RECIPES = {
    # Pilots of 3 epochs (benchmarks/results/cnn-pilots/): width 32 beat 24 by 2.2 points; label smoothing 0.1
    # matched the base; mixup 0.2, SGD 0.01 and batch 128 with Adam 2e-3 trailed it.
    "fer-cnn": Recipe(width=32, label_smoothing=0.1),
    # Pilots of 3 epochs at 48 and 64 px scored PublicTest 0.2494 (one class) because of BatchNorm momentum
    # 0.999 (see architectures), so they did not decide the size; 48 px costs about half as much. With the
    # momentum fixed, this recipe trained 40 epochs to PublicTest 0.5963 (manifest), nearly flat over the last ten.
    "mobilenetv2": Recipe(),
    # Pilots of 2 epochs: 48 px scored PublicTest 0.297, 64 px 0.272 (both still far from converged), so the
    # upscaled input bought nothing early on, for 1.8 times the pixels. 30 epochs of about 6 minutes on this
    # CPU: MobileNetV2 gained little over the last ten of its 40, and 40 would cost four hours.
    "resnet50": Recipe(epochs=30),
    # Pilots of 2 epochs: plain VGG19 predicted one class with Adam 1e-3 and with 1e-4 (PublicTest 0.2494);
    # VGG19-BN reached 0.390. 14 epochs: a bare step takes 1.08 s on a quiet machine (8.0 minutes an epoch), so
    # the whole schedule fits one working session; no checkpoint of the earlier 20-epoch run survived to this machine.
    "vgg19": Recipe(epochs=14, batch_norm=True),
}


def recipe_for(architecture, **changes):
    """The recipe of ``architecture`` with ``changes`` applied (``None`` values ignored).

    Raises
    ------
    ValueError
        For an unknown architecture, or an option that belongs to another network (before any training starts).
    """
    check_architecture(architecture)
    recipe = RECIPES[architecture].replace(**changes)
    check_network_options(architecture, **{option: getattr(recipe, option) for option in NETWORK_OPTION_OWNERS})
    return recipe
