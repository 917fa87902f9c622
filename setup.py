"""Build script: the package, plus the repository's models/ folder installed as ``fer_classic_models``."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["fer_classic", "fer_classic.*"]), "fer_classic_models"],
      package_dir={"fer_classic_models": "models"})
