"""A detector's model, loaded on first use and left out of pickles."""

from __future__ import annotations


class LazyModel:
    """Mixin: :meth:`_model` builds the model once, by the subclass's ``_load()``, and caches it.

    OpenCV's and dlib's detectors cannot be pickled, so a detector that is
    sent to worker processes (``fer-classic batch``) travels without its
    model and loads it where it runs. Loading lazily also keeps a bad
    parameter's error at the first detection, where the image is known.
    """

    def _model(self):
        if getattr(self, "_loaded", None) is None:
            self._loaded = self._load()
        return self._loaded

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_loaded", None)
        return state
