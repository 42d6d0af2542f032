"""The network kernel's grouped arguments: pruning, kernel keys and the ahead-of-time split."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from spikenet.sim import LIF, Network, PSCFilter
from spikenet.sim._aot_lookup import jit_only
from spikenet.sim.kernels import args as ka
from tests.sim.keys import key_entry


def _lif_net():
    net = Network(dt=1e-4, seed=0)
    e = net.add_population(40, LIF(), bias=1.1, init={"v": np.linspace(0.0, 0.9, 40)}, name="E")
    net.connect(e, e, 0.01, synapse=PSCFilter(0.005), p=0.2)
    return net


def _kernel_call_args(monkeypatch, net, duration=1e-3):
    """The arguments of the network's last kernel call (after ``b`` and ``t``)."""
    from spikenet.sim import network as nw

    seen = {}
    real = nw._kernel_for

    def spy(n_batch, key, aot):
        fn = real(n_batch, key, aot)

        def call(*args):
            seen["args"] = args
            return fn(*args)

        return call

    monkeypatch.setattr(nw, "_kernel_for", spy)
    net.run(duration)
    return seen["args"]


def _live_globals(arg_types):
    """Names of the globals the kernel's code still uses after Numba's dead-branch pass for these types."""
    from numba.core import ir
    from numba.core.analysis import compute_cfg_from_blocks, dead_branch_prune
    from numba.core.compiler import run_frontend

    from spikenet.sim.kernels.network import _run_copy

    func_ir = run_frontend(_run_copy.py_func)
    dead_branch_prune(func_ir, arg_types)
    dead = compute_cfg_from_blocks(func_ir.blocks).dead_nodes()
    names = set()
    for label, block in func_ir.blocks.items():
        if label in dead:
            continue
        for stmt in block.body:
            if isinstance(stmt, ir.Assign) and isinstance(stmt.value, (ir.Global, ir.FreeVar)):
                names.add(stmt.value.name)
    return names


def test_kernel_switches_and_features_stay_plain_arguments_that_numba_prunes(monkeypatch):
    # Numba's dead-branch pass, run on the kernel with the argument types of
    # a one-thread LIF network without recording, drops the code of
    # everything that network lacks; with an HH population added, the HH pass
    # stays. (Moving a switch into a NamedTuple would keep its code alive.)
    import numba

    from spikenet.sim.kernels.network import _run_copy

    args = _kernel_call_args(monkeypatch, _lif_net())
    types = tuple(numba.typeof(a) for a in (0, 0, *args))
    live = _live_globals(types)
    assert {"_lif_fused", "_lif_event"} <= live  # the fused LIF pass and its events: compiled
    lacking = {"_hh_population", "spin_barrier", "atomic_load", "atomic_store", "stp_deliver",
               "plast_step_begin", "plast_step_end", "_lif_jumps", "cond_population", "lif_pn_population",
               "hh_pn_population", "_drain", "_scaled_copy", "_scale", "gen_state_value"}
    assert not live & lacking
    # switched on (an array in place of None), a switch's code stays
    names = list(inspect.signature(_run_copy.py_func).parameters)
    on = numba.typeof(np.ones(1, np.int64))
    for switch, helper in (("with_hh", "_hh_population"), ("with_generic", "_scaled_copy"),
                           ("with_delays", "_drain"), ("sync", "spin_barrier")):
        changed = list(types)
        changed[names.index(switch)] = on
        assert helper in _live_globals(tuple(changed)) - live


def test_kernel_arguments_are_the_groups_of_args_in_signature_order(monkeypatch):
    from spikenet.sim.kernels.network import _run_copy

    args = _kernel_call_args(monkeypatch, _lif_net())
    names = list(inspect.signature(_run_copy.py_func).parameters)[2:]
    assert len(names) == len(args)
    groups = {"parts": ka.Parts, "state": ka.State, "work": ka.Work, "pops": ka.Pops, "groups": ka.Groups,
              "conns": ka.Conns, "ring": ka.Ring, "chunk": ka.Chunk, "rec": ka.Rec, "spk": ka.Spk}
    for name, value in zip(names, args):
        if name in groups:
            assert type(value) is groups[name]
            assert all(isinstance(x, (np.ndarray, int)) for x in value)
        else:  # scalars, kstart, switches and features: never one of the groups
            assert type(value) not in groups.values()
    # every field of the groups is a distinct array (or the part count)
    grouped = [x for name, value in zip(names, args) if name in groups for x in value]
    arrays = [x for x in grouped if isinstance(x, np.ndarray)]
    assert len({id(x) for x in arrays}) == len(arrays) == len(grouped) - 1


def test_kernel_key_writes_each_group_with_its_fields():
    net = _lif_net()
    net.run(1e-3)
    key64 = net.kernel_key
    assert key_entry(net, "parts") == "Parts(int64,int64:2C,int64:2C)"
    assert key_entry(net, "state") == "State(" + ",".join(["float64:2C"] * 7) + ")"
    assert key_entry(net, "spk") == "Spk(int64:2C,int32:2C,float64:2C,int64:1C)"
    assert key_entry(net, "with_hh") == "none"
    # a pure function of the configuration: another network of the same kind, other sizes, same key
    other = Network(dt=1e-4, seed=5)
    e = other.add_population(300, LIF(tau_m=0.01), bias=1.3, name="E")
    other.connect(e, e, 0.02, synapse=PSCFilter(0.002), p=0.05)
    other.run(2e-3)
    assert other.kernel_key == key64
    assert not jit_only(key64)  # only the kernel's own groups: the ahead-of-time module may serve it


def test_only_feature_namedtuples_send_a_configuration_to_the_jit_kernel():
    core = "Parts(int64,int64:2C,int64:2C)|none|int64|State(float64:2C)|none"
    assert not jit_only(core)
    assert not jit_only("int64|none|float64:1C")
    assert jit_only(core + "|STPArgs(int64:1C,float64:2C)")
    assert jit_only(core + "|SomeFutureArgs(int64:1C)")  # a feature the module does not know
    names = {"Parts", "State", "Work", "Pops", "Groups", "Conns", "Ring", "Chunk", "Rec", "Spk"}
    assert names == ka.CORE_GROUPS


@pytest.mark.slow
def test_lif_only_kernel_machine_code_calls_no_hh_or_barrier_helper(monkeypatch):
    # The same check as above on the compiled code itself (a fresh, uncached
    # compile: slow): the LIF helpers are linked in, the pruned ones are not.
    import numba

    from spikenet.sim.kernels.network import _run_copy

    args = _kernel_call_args(monkeypatch, _lif_net())
    sig = tuple(numba.typeof(a) for a in (0, 0, *args))
    fresh = numba.njit(nogil=True)(_run_copy.py_func)
    fresh.compile(sig)
    llvm = fresh.inspect_llvm(sig)
    assert "_lif_fused" in llvm and "_lif_event" in llvm
    for name in ("_hh_population", "hh_step", "spin_barrier", "stp_deliver", "_lif_jumps", "cond_population"):
        assert name not in llvm
