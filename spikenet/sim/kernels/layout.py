"""Layout constants shared by the network kernel and the code that builds its arrays.

Kept apart from :mod:`spikenet.sim.kernels.network` so that building and
running a network can read them without importing Numba (a network served by
the ahead-of-time compiled kernel, :mod:`spikenet.sim.aot`, never does).
"""

# Population kinds.
LIF_KIND = 0
HH_KIND = 1
# Populations of NeuronModel neurons: model class m of the network's sorted set has kind GEN_KIND + m.
GEN_KIND = 2
# LIF and HH populations with per-neuron parameters (spikenet.sim.kernels.generic).
LIFPN_KIND = 100
HHPN_KIND = 101
# Columns of pop_par for LIF: a = exp(-dt/tau_m), 1/(1-a), tau_m, tau_ref, v_th, v_reset.
# Columns for HH: c_m, g_na, g_k, g_l, e_na, e_k, e_l, v_spike.
N_POP_PAR = 8
# Recordable states.
REC_V = 0
REC_ISYN = 1
REC_M = 2
REC_H = 3
REC_N = 4
REC_REF = 5
# State row r of a NeuronModel population.
REC_GEN = 16
# Connection kinds (conn_kind): CSR rows with one weight per synapse (w_sdata
# at CSR position + conn_data_off), a dense pre-major block in w_dense (from
# conn_data_off), or CSR rows sharing one weight w_dense[conn_data_off].
CONN_SPARSE = 0
CONN_DENSE = 1
CONN_SPARSE_UNIFORM = 2
# CSR rows with one weight and one delay per synapse, both at CSR position +
# conn_data_off: conn_delay is the connection's shortest delay (the ring) and
# w_sdelay (uint16, steps) what each synapse adds to it.
CONN_SPARSE_DELAYED = 3
# Neurons per block of the LIF update: large enough to amortise the views
# and calls made per block, small enough that its state stays in L2 while
# its events are handled. A multiple of 8 (flags are read 8 at a time). The
# caller passes per-copy buffers of this length (``flags``, uint8, and
# ``flag_words``, the same memory as uint64; ``zeros`` in the state dtype), so
# that the kernel allocates nothing (cold-start compile time).
LIF_BLOCK = 1024
# Slots of the int64 ``sync`` array the parts of a network split over threads
# share (see kernels/atomics.py): arrival count, generation (on its own
# 64-byte line: the waiting threads spin on it) and the step at which every
# part stops so that the caller can grow the spike buffers.
SYNC_COUNT = 0
SYNC_GEN = 8
SYNC_STOP = 16
SYNC_SIZE = 24
NO_STOP = 2**62  # SYNC_STOP at the start of a call: larger than any step
