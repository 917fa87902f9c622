"""The deep branch's networks: three ImageNet architectures and a compact FER CNN.

Every network takes the FER2013 face as it is, a (48, 48, 1) float tensor of
grey levels 0-255, and returns seven softmax probabilities in
:data:`~fer_classic.data.EMOTIONS` order. Whatever an architecture needs
(resizing, three channels, its own value range) happens inside the model, so
callers never preprocess and the saved weights carry no assumptions.

Input size, and why
-------------------
Every network runs on the 48x48 face itself. Upscaling to 96 px is common
for the ImageNet architectures, because their five stride-2 stages leave only
a 2x2 map (48/32, rounded up) before pooling; but a 48 px face holds no
detail that upscaling adds, and 96 px costs four times as much, which rules
out training on a CPU. Measured on the project's 2-core CPU, batch 64:
MobileNetV2 at 48 px 0.31 s per step, at 64 px 0.86 s.

``fer-cnn``
    Designed for the data: four VGG blocks of two 3x3 convolutions each
    (24-48-96-192 channels, batch normalisation, 2x2 max-pooling) leave a
    3x3 map, then global average pooling, a 256-unit dense layer and dropout.
    Unlike [1]_ there is no dropout inside the blocks: with it, the net was
    still at chance after three epochs on 4,000 faces; without it, it
    learned from the second (31% training accuracy) -- and a CPU budget
    allows only about ten epochs.
    It follows the VGG variant of Khaireddin & Chen [1]_ at three eighths of
    its width (0.7 M parameters, 0.43 s per batch of 64 on 2 cores), so that
    it trains on a CPU.
``mobilenetv2``, ``resnet50``, ``vgg19``
    ``keras.applications`` bases (``include_top=False``) [2]_.

The three ``keras.applications`` networks are built with ``weights=None``:
ImageNet weights cannot be downloaded offline, so they are trained from
scratch on FER2013. Each gets the same small head: global average pooling,
dropout, and a dense softmax layer.

References
----------
.. [1] Y. Khaireddin and Z. Chen, "Facial Emotion Recognition: State of the
   Art Performance on FER2013", arXiv:2105.03588, 2021.
.. [2] M. Sandler et al., "MobileNetV2: Inverted Residuals and Linear
   Bottlenecks", CVPR 2018.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..data import EMOTIONS, FACE_SIZE


@dataclass(frozen=True)
class Architecture:
    """How to build one network.

    Attributes
    ----------
    name : str
    channels : int
        1 (grey) or 3 (the grey face repeated, as ImageNet networks expect).
    scale : tuple of float
        ``(multiplier, offset)`` applied to 0-255 grey levels.
    """

    name: str
    channels: int
    scale: tuple


ARCHITECTURES = {
    "fer-cnn": Architecture("fer-cnn", 1, (1 / 255, 0.0)),
    "mobilenetv2": Architecture("mobilenetv2", 3, (1 / 127.5, -1.0)),
    "resnet50": Architecture("resnet50", 3, (1 / 127.5, -1.0)),
    "vgg19": Architecture("vgg19", 3, (1 / 127.5, -1.0)),
}


def check_architecture(name):
    """The :class:`Architecture` called ``name``; a clear error otherwise."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown CNN architecture {name!r}; choose from {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[name]


FER_CNN_WIDTHS = (24, 48, 96, 192)


def _vgg_block(x, filters, layers):
    for _ in range(2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    return layers.MaxPooling2D(2)(x)


def _fer_cnn_body(x, layers):
    for filters in FER_CNN_WIDTHS:
        x = _vgg_block(x, filters, layers)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def _application_body(name, x, keras):
    builders = {"mobilenetv2": keras.applications.MobileNetV2, "resnet50": keras.applications.ResNet50,
                "vgg19": keras.applications.VGG19}
    base = builders[name](include_top=False, weights=None, input_shape=(FACE_SIZE, FACE_SIZE, 3))
    return keras.layers.GlobalAveragePooling2D()(base(x))


def build_cnn(name, seed=0):
    """Build an untrained network.

    Parameters
    ----------
    name : str
        A key of :data:`ARCHITECTURES`.
    seed : int
        Seeds Keras' weight initialisation.

    Returns
    -------
    keras.Model
        Input (None, 48, 48, 1) grey levels 0-255; output (None, 7) softmax.
    """
    spec = check_architecture(name)
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    faces = keras.Input((FACE_SIZE, FACE_SIZE, 1), name="faces")
    x = layers.Rescaling(*spec.scale)(faces)
    if spec.channels == 3:
        x = layers.Concatenate()([x, x, x])
    x = _fer_cnn_body(x, layers) if name == "fer-cnn" else _application_body(name, x, keras)
    x = layers.Dropout(0.4)(x)
    probabilities = layers.Dense(len(EMOTIONS), activation="softmax", name="emotion")(x)
    return keras.Model(faces, probabilities, name=name.replace("-", "_"))
