"""The execution model on top of the core engine: modes, classifier, blocks, operators, checks,
op runs, stop rules, failure paths, debug packets and evidence patterns (SPEC §3)."""
