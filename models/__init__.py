"""The models that ship with fer_classic, installed as the package ``fer_classic_models``.

``manifest.json`` lists each file with its sha256, method, parameters, data and
metrics; :mod:`fer_classic.store` finds this folder through the installed
package, so the same names work in a source checkout and after ``pip install``.
"""
