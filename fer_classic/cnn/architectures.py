"""The deep branch's networks: three ImageNet architectures and a compact FER CNN.

Every network takes the FER2013 face as it is, a (48, 48, 1) float tensor of
grey levels 0-255, and returns seven softmax probabilities in
:data:`~fer_classic.faces.EMOTIONS` order. Whatever an architecture needs
(resizing, three channels, its own value range) happens inside the model, so
callers never preprocess and the saved weights carry no assumptions.

Input size
----------
Each network can resize the face inside the model (``input_size``): the
ImageNet architectures' five stride-2 stages leave a 2x2 map of a 48 px
face, so upscaling buys spatial resolution in the last stages at a cost
that grows with the square of the size. Which size each network uses is its
recipe's choice (:mod:`fer_classic.cnn.recipes`), made by pilots.

``fer-cnn``
    Designed for the data: four VGG blocks of two 3x3 convolutions each
    (``width`` channels doubling per block, 24-48-96-192 by default, batch
    normalisation, 2x2 max-pooling) leave a 3x3 map, then global average
    pooling, a 256-unit dense layer and dropout.
    Unlike [1]_ there is no dropout inside the blocks: with it, the net was
    still at chance after three epochs on 4,000 faces; without it, it
    learned from the second (31% training accuracy).
    It follows the VGG variant of Khaireddin & Chen [1]_, whose width is 64;
    the default 24 (0.7 M parameters) trains quickly on a CPU.
``mobilenetv2``, ``resnet50``, ``vgg19``
    ``keras.applications`` bases (``include_top=False``) [2]_. ``vgg19``
    with ``batch_norm=True`` is VGG19-BN instead: the same 16 convolutions
    (configuration E of [3]_), each followed by batch normalisation, built
    from ``fer-cnn``'s blocks; plain VGG19 has no normalisation, which makes
    it hard to train from scratch.
``resnet50`` with ``stem_stride``
    ResNet50's bottleneck stages (3, 4, 6 and 3 blocks, 64-128-256-512
    channels wide, four times that out) [4]_ behind a stem made for 48 px
    faces: one 3x3 convolution of stride ``stem_stride`` (1 or 2) and no
    max-pooling. Keras's stem, a 7x7 convolution of stride 2 then a stride-2
    max-pooling, was made for 224 px: at 48 px it leaves the first stage a
    12x12 map and the last 2x2. With stride 1 the stages see 48, 24, 12 and
    6 px maps; with 2, 24 to 3. Blocks downsample in their 3x3 convolution
    (ResNet v1.5), and each block's last batch normalisation starts at zero,
    so every block starts as the identity [5]_.

The three ``keras.applications`` networks are built with ``weights=None``:
ImageNet weights cannot be downloaded offline, so they are trained from
scratch on FER2013. Each gets the same small head: global average pooling,
dropout, and a dense softmax layer. Their batch normalisation layers get
momentum 0.99 (:data:`APPLICATION_BN_MOMENTUM`) instead of
``keras.applications``' 0.999: with 0.999 the moving statistics average over
about 1,000 steps, two epochs here, and lag behind a network trained from
scratch. MobileNetV2 then scored 0.36 on PublicTest with each batch's own
statistics but predicted one class with the moving ones; re-estimating them
gave the 0.36 back (``experiments/2026-11-24-mobilenetv2-batchnorm-check/``).

References
----------
.. [1] Y. Khaireddin and Z. Chen, "Facial Emotion Recognition: State of the
   Art Performance on FER2013", arXiv:2105.03588, 2021.
.. [2] M. Sandler et al., "MobileNetV2: Inverted Residuals and Linear
   Bottlenecks", CVPR 2018.
.. [3] K. Simonyan and A. Zisserman, "Very Deep Convolutional Networks for
   Large-Scale Image Recognition", ICLR 2015.
.. [4] K. He et al., "Deep Residual Learning for Image Recognition", CVPR
   2016.
.. [5] P. Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in
   1 Hour", arXiv:1706.02677, 2017.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..faces import EMOTIONS, FACE_SIZE


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


FER_CNN_WIDTH = 24
NETWORK_OPTION_OWNERS = {"width": "fer-cnn", "batch_norm": "vgg19", "stem_stride": "resnet50"}  # one network's


def check_network_options(name, **options):
    """Refuse an option of :data:`NETWORK_OPTION_OWNERS` set (not None or False) for another network."""
    for option, value in options.items():
        owner = NETWORK_OPTION_OWNERS[option]
        if value not in (None, False) and name != owner:
            raise ValueError(f"{option} applies to {owner} only, not {name}")


def _vgg_block(x, filters, layers, convolutions=2):
    for _ in range(convolutions):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    return layers.MaxPooling2D(2)(x)


def _fer_cnn_body(x, layers, width):
    for block in range(4):
        x = _vgg_block(x, width * 2 ** block, layers)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


VGG19_BLOCKS = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))  # (channels, convolutions): configuration E


def _vgg19_bn_body(x, layers):
    for filters, convolutions in VGG19_BLOCKS:
        x = _vgg_block(x, filters, layers, convolutions)
    return layers.GlobalAveragePooling2D()(x)


APPLICATION_BN_MOMENTUM = 0.99
RESNET50_STAGES = ((64, 3), (128, 4), (256, 6), (512, 3))  # (bottleneck width, blocks); a block outputs 4x width
STEM_STRIDES = (1, 2)


def _bottleneck(x, width, stride, layers, project):
    shortcut = x
    if project:
        shortcut = layers.Conv2D(4 * width, 1, strides=stride, use_bias=False)(x)
        shortcut = layers.BatchNormalization(momentum=APPLICATION_BN_MOMENTUM)(shortcut)
    y = x
    for filters, size, step in ((width, 1, 1), (width, 3, stride), (4 * width, 1, 1)):
        if y is not x:
            y = layers.Activation("relu")(y)
        y = layers.Conv2D(filters, size, strides=step, padding="same", use_bias=False)(y)
        last = filters == 4 * width
        y = layers.BatchNormalization(momentum=APPLICATION_BN_MOMENTUM,
                                      gamma_initializer="zeros" if last else "ones")(y)
    return layers.Activation("relu")(layers.Add()([shortcut, y]))


def _resnet50_small_stem_body(x, layers, stem_stride):
    x = layers.Conv2D(64, 3, strides=stem_stride, padding="same", use_bias=False)(x)
    x = layers.Activation("relu")(layers.BatchNormalization(momentum=APPLICATION_BN_MOMENTUM)(x))
    for stage, (width, blocks) in enumerate(RESNET50_STAGES):
        for block in range(blocks):
            x = _bottleneck(x, width, 2 if stage and not block else 1, layers, project=not block)
    return layers.GlobalAveragePooling2D()(x)


def _application_body(name, x, keras, size):
    builders = {"mobilenetv2": keras.applications.MobileNetV2, "resnet50": keras.applications.ResNet50,
                "vgg19": keras.applications.VGG19}
    base = builders[name](include_top=False, weights=None, input_shape=(size, size, 3))
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = APPLICATION_BN_MOMENTUM  # read at every call, and saved in the layer's config
    return keras.layers.GlobalAveragePooling2D()(base(x))


def build_cnn(name, seed=0, input_size=FACE_SIZE, width=None, batch_norm=False, stem_stride=None):
    """Build an untrained network.

    Parameters
    ----------
    name : str
        A key of :data:`ARCHITECTURES`.
    seed : int
        Seeds Keras' weight initialisation.
    input_size : int
        Side the face is resized to (bilinear) before the first layer.
    width : int, optional
        ``fer-cnn``'s first-block channels (default 24); other networks
        refuse it.
    batch_norm : bool
        ``vgg19`` only: build VGG19-BN instead of ``keras.applications``'
        VGG19.
    stem_stride : {1, 2}, optional
        ``resnet50`` only: ResNet50's stages behind a 3x3 stem of this
        stride instead of Keras's ImageNet stem.

    Returns
    -------
    keras.Model
        Input (None, 48, 48, 1) grey levels 0-255; output (None, 7) softmax.
    """
    spec = check_architecture(name)
    check_network_options(name, width=width, batch_norm=batch_norm, stem_stride=stem_stride)
    if stem_stride is not None and stem_stride not in STEM_STRIDES:
        raise ValueError(f"stem_stride must be one of {STEM_STRIDES}, got {stem_stride!r}")
    if input_size < 32:
        raise ValueError(f"input_size must be at least 32, got {input_size}")
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    faces = keras.Input((FACE_SIZE, FACE_SIZE, 1), name="faces")
    x = layers.Rescaling(*spec.scale)(faces)
    if input_size != FACE_SIZE:
        x = layers.Resizing(input_size, input_size, interpolation="bilinear")(x)
    if spec.channels == 3:
        x = layers.Concatenate()([x, x, x])
    if name == "fer-cnn":
        x = _fer_cnn_body(x, layers, width or FER_CNN_WIDTH)
    elif batch_norm:
        x = _vgg19_bn_body(x, layers)
    elif stem_stride is not None:
        x = _resnet50_small_stem_body(x, layers, stem_stride)
    else:
        x = _application_body(name, x, keras, input_size)
    x = layers.Dropout(0.4)(x)
    probabilities = layers.Dense(len(EMOTIONS), activation="softmax", name="emotion")(x)
    return keras.Model(faces, probabilities, name=name.replace("-", "_"))
