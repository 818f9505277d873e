"""Persistence, one package per part of the product, over one system database.

- ``store.core``: the system database (``SystemDatabase``): runs, steps, events, evidence,
  leases and workers, the durable record every part builds on;
- ``store.schema``: every table, on one ``metadata`` (migrations in ``store.migrations``);
- ``store.execmodel``, ``store.patches``, ``store.plans``, ``store.workflows``: each part's
  store, taking the ``Database`` handle of the system database;
- shared modules: ``database`` (the handle: engine, transactions, error translation),
  ``driver_sql`` (the hot-path idiom: named statements sent on the driver's cursor),
  ``types``, ``migrate``, ``blobs`` (evidence files), ``wake_signal``.

Code outside the store imports a package (``runwright.store.core``) or a shared module, never a
module inside a package (tests/unit/test_store_layering.py checks it).
"""
