"""The execution model's pure types and rules (SPEC §3): modes, operators, checks, op runs,
blocks, debug packets, stop rules and evidence patterns. No I/O, no clock, no database."""
