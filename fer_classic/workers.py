"""How many workers the commands and functions that run in parallel use when none is asked for.

Light on purpose (nothing imported): training, batch jobs, the comparison, the CLI and the benchmarks all take
their default from here.
"""

# Worker processes (or threads) by default: two, the cores of the machines the records in benchmarks/results were
# measured on. Each worker holds its own model or feature block, so more only help with cores and memory to spare.
DEFAULT_JOBS = 2
