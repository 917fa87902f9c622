"""A shipped network's penultimate layer as a phase-2 feature, so an SVM can use learned and handcrafted features.

Georgescu, Ionescu & Popescu [1]_ joined CNN embeddings with bags of visual
words and classified each test face by local learning: an SVM trained on its
nearest training faces. :class:`CNNEmbeddings` is the learned half of that
recipe: the features a network's softmax layer reads (for ``fer-cnn``, 256
ReLU units), computed by LiteRT from the network's shipped ``.tflite`` file
(:mod:`fer_classic.cnn.litert`, no TensorFlow), as a scikit-learn transformer that composes in the classical
``FeatureUnion`` beside HOG, LBP, landmarks and Fisher vectors.

Registering it here, from the deep branch, keeps phase 3 free of Keras: the
classical registry learns the ``cnn-<network>`` feature names only once this
module is imported (:func:`fer_classic.classify.methods.register_feature`).

The network saw every Training face while it learned, so its embeddings of
those faces are cleaner than of a face it never saw. Training the local SVMs
on embeddings of warped training faces, to make them look like test faces,
cost 0.8 points on PublicTest (2026-12-06 kernel study, ``experiments/``), so
the plain embeddings are used.

References
----------
.. [1] M.-I. Georgescu, R. T. Ionescu and M. Popescu, "Local learning with
       deep and handcrafted features for facial expression recognition",
       IEEE Access 7, 2019.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from ..classify.methods import FeatureSpec, register_feature
from ..extract.cache import cached_map
from ..faces import check_faces
from ..model_files import packaged_models_dir
from .litert import LiteRTNetwork, litert_path

# Feature name -> shipped network.
EMBEDDING_NETWORKS = {"cnn-fer": "fer-cnn", "cnn-vgg19": "vgg19"}
EMBEDDING_PRECISION = "float32"
_NETWORKS = {}
_DIGESTS = {}


def network_file(network):
    """The shipped float32 LiteRT file of ``network``: embeddings barely depend on it, so the exact one is used."""
    path = litert_path(packaged_models_dir() / network, EMBEDDING_PRECISION)
    if not path.is_file():
        raise FileNotFoundError(f"no shipped network {network!r} ({path} is missing)")
    return path


def _file_digest(path):
    """The file's sha256, hashed once per process while its size and modification time stay the same."""
    from ..store import sha256

    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = sha256(path)
    return _DIGESTS[key]


def _embed(path, faces):
    key = str(path)
    if key not in _NETWORKS:       # one interpreter per process and file
        _NETWORKS[key] = LiteRTNetwork(path)
    return _NETWORKS[key].run_batches(faces)[1]


class CNNEmbeddings(TransformerMixin, BaseEstimator):
    """Penultimate-layer activations of a shipped network (learned, global method).

    Parameters
    ----------
    network : str
        A shipped network's name, e.g. ``"fer-cnn"``.

    Attributes
    ----------
    network_sha256_ : str
        The weights the features were fitted with; :meth:`transform` refuses
        others, since a classifier trained on one network's features is
        meaningless on another's.
    """

    learns_in_fit = False            # the network is fixed: features may be extracted once for every fold

    def __init__(self, network="fer-cnn"):
        self.network = network

    def fit(self, X, y=None):
        check_faces(X)
        self.network_sha256_ = _file_digest(network_file(self.network))
        return self

    def transform(self, X):
        """Features of faces (n, 48, 48) uint8, shape (n, d) float32."""
        faces = check_faces(X)
        path = network_file(self.network)
        digest = _file_digest(path)
        if digest != self.network_sha256_:
            raise ValueError(f"the shipped {self.network} network has changed since this model was trained on its "
                             "features: retrain the model")
        return cached_map("CNNEmbeddings", {"network_sha256": digest}, partial(_embed, path), [faces],
                          desc=f"{self.network} embeddings")


def _embedding_extractor(network, landmark_model=None, n_jobs=1):
    # The network runs in this process (LiteRT uses every core itself); it needs no landmarks.
    return CNNEmbeddings(network)


for _name, _network in EMBEDDING_NETWORKS.items():
    register_feature(_name, FeatureSpec(partial(_embedding_extractor, _network), "standardize", None))
