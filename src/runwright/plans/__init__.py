"""Plans: test-first stage orchestration with gates, retry budgets, escalation and a
completion contract (SPEC §5), built on the durable engine and the patch pipeline."""
