"""The console's command lines, above the door: each parses its arguments, takes the door (and,
where it runs jobs, a runner) from `console.runtime`, calls it and prints. `python -m
console.jobs`, `console.golden`, `console.backfill` and `console.canary` start these."""
