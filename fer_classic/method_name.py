"""A method's name, parsed once: ``<features>/<classifier>``, ``cnn/<architecture>``, ``peer/<package>``, ``ensemble``.

Every part of fer_classic that reads a method name (training, the comparison,
the CLI, the GUI's overlays, file names) goes through :class:`MethodName`, so
a name means one thing and gives one file name everywhere. Whether its parts
are registered (a known feature, classifier or architecture) is checked by
the registries that own them: :func:`fer_classic.classify.parse_method` and
:mod:`fer_classic.cnn.architectures`.

>>> name = MethodName.parse("hog+lbp/svm-local")
>>> name.family, name.features, name.classifier
('classical', ('hog', 'lbp'), 'svm-local')
>>> name.file_stem
'hog-lbp_svm-local'
"""

from __future__ import annotations

from dataclasses import dataclass

FAMILIES = ("cnn", "peer")  # a first part naming a family; any other first part lists features
ENSEMBLE = "ensemble"  # the comparison's average of the shipped CNNs: a name of its own


@dataclass(frozen=True)
class MethodName:
    """One method.

    Attributes
    ----------
    family : {"classical", "cnn", "peer", "ensemble"}
    features : tuple of str
        The feature sets a classical method joins (empty for the others).
    classifier : str
        The classifier (classical), the architecture (cnn) or the package (peer).
    """

    family: str
    features: tuple
    classifier: str

    @classmethod
    def parse(cls, text):
        """The :class:`MethodName` that ``text`` spells; a ValueError naming ``text`` if it has no such shape."""
        if str(text) == ENSEMBLE:
            return cls(ENSEMBLE, (), "")
        head, slash, tail = str(text).partition("/")
        parts = head.split("+") if head else []
        if not slash or not tail or "/" in tail or not parts or "" in parts or len(set(parts)) < len(parts):
            raise ValueError(f"unknown method {str(text)!r}: expected <features>/<classifier> such as "
                             "'hog+lbp/svm-local', or cnn/<architecture> such as 'cnn/fer-cnn'")
        if head in FAMILIES:
            return cls(head, (), tail)
        return cls("classical", tuple(parts), tail)

    def __str__(self):
        if self.family == ENSEMBLE:
            return ENSEMBLE
        return f"{self.family if self.family in FAMILIES else '+'.join(self.features)}/{self.classifier}"

    @property
    def train_command(self):
        """The command line that trains this method."""
        return f"fer-classic train --method {self}"

    @property
    def file_stem(self):
        """The name as a file name: ``hog+lbp/mlp`` gives ``hog-lbp_mlp``."""
        return str(self).replace("/", "_").replace("+", "-")
