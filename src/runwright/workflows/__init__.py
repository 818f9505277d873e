"""Event workflows: topics, producers and consumers, the mutation ledger, reconciliation, tools.

Authoring names are re-exported from ``runwright``: ``Workflow``, ``Prepared``,
``MutationResult``, ``Tool``, ``read``, ``mutation``, ``Reconciliation``, ``MutationCall`` and
the error classes.
"""
