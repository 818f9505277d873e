"""Small example jobs shipped with runwright (used by `runwright demo` and the docs)."""
