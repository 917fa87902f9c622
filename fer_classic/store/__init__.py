"""Storage: trained models on disk, how they are trusted and loaded, and where results come from.

- :mod:`.catalogue`: shipped and user models located, listed, and trusted or
  refused by sha256 before any unpickling;
- :mod:`.loading`: a model loaded by name or file, and warmed up;
- :mod:`.half_precision`: large weight arrays kept in float16 on disk;
- :mod:`.provenance`: commit, date, machine, data and library versions of a
  result;
- :mod:`.results_index`: the index of benchmark records, kept true as records
  are written, and the speeds the committed comparisons measured.
"""

from ..model_files import ModelError, shipped_models_dir
from .catalogue import (MANIFEST, UntrustedModelError, check_integrity, list_models, model_output,
                        read_manifest, record_landmark_predictor, resolve_model, save_model, sha256, unpickle, user_models_dir,
                        user_registry_path)
from .loading import load_model, warm_up, warm_up_detector

__all__ = ["MANIFEST", "ModelError", "UntrustedModelError", "check_integrity", "list_models", "load_model",
           "model_output", "read_manifest", "record_landmark_predictor", "resolve_model", "save_model", "sha256", "shipped_models_dir",
           "unpickle", "user_models_dir", "user_registry_path", "warm_up", "warm_up_detector"]
