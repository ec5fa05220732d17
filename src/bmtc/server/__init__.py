"""The platform server: a REST API over the atlas and the engines (`bmtc serve`)."""

# Request handlers run on a thread pool. A small one serves more: on two cores, forty threads
# contending for the interpreter lock made a burst of searches queue until they timed out,
# where four kept up (bench/README.md). The dashboard's costly analyses hold at most two.
THREADS_ENV = "BMTC_THREADS"
DEFAULT_THREADS = 4
