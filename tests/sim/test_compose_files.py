"""Generated kernel files: written once, imported, replaced (not accumulated) when their source changes."""

from spikenet.sim.kernels import compose


def _module_text(value):
    return f"run = {value!r}\n"


def test_a_new_version_of_a_generated_module_removes_the_old_file_and_its_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(compose, "_folder", lambda: tmp_path)
    monkeypatch.setattr(compose, "_loaded", {})
    (tmp_path / "__pycache__").mkdir()
    old, new = "spikenet_gen_demo_" + "a" * 16, "spikenet_gen_demo_" + "b" * 16
    other_stem = "spikenet_gen_demo_model_" + "c" * 16  # a different stem that starts the same way
    assert compose._load(old, _module_text(1)).run == 1
    (tmp_path / "__pycache__" / f"{old}.run-3.py311.nbi").write_text("")
    (tmp_path / f"{other_stem}.py").write_text(_module_text(3))

    assert compose._load(new, _module_text(2)).run == 2

    assert not (tmp_path / f"{old}.py").exists()
    assert not list((tmp_path / "__pycache__").glob(f"{old}.*"))
    assert (tmp_path / f"{new}.py").read_text() == _module_text(2)
    assert (tmp_path / f"{other_stem}.py").exists()


def test_loading_the_same_module_twice_in_a_process_imports_it_once(tmp_path, monkeypatch):
    monkeypatch.setattr(compose, "_folder", lambda: tmp_path)
    monkeypatch.setattr(compose, "_loaded", {})
    name = "spikenet_gen_once_" + "d" * 16
    first = compose._load(name, _module_text(5))
    (tmp_path / f"{name}.py").write_text(_module_text(6))  # not re-read within the process
    assert compose._load(name, _module_text(5)) is first


def test_a_change_in_any_kernel_helper_module_names_new_generated_kernels(tmp_path, monkeypatch):
    # Numba caches a generated loop with the compiled code of the helpers it
    # calls, keyed by the generated file only: the file's name must change
    # when any helper source changes (an edit, or an upgrade of spikenet).
    from spikenet.sim.models import Izhikevich

    names = []
    monkeypatch.setattr(compose, "_load", lambda name, text: names.append((name, text)))
    for h in ("0" * 16, "1" * 16):
        monkeypatch.setattr(compose, "kernel_sources_hash", lambda h=h: h)
        compose.network_kernel([Izhikevich])
    assert names[0][0] != names[1][0]
    assert "0" * 16 in names[0][1] and "1" * 16 in names[1][1]


def test_kernel_sources_hash_covers_every_kernel_module():
    import hashlib
    from pathlib import Path

    here = Path(compose.__file__).resolve().parent
    files = [*sorted(here.glob("*.py")), here.parent / "models" / "base.py"]
    assert {"release.py", "generic.py", "inputs.py", "network.py"} <= {f.name for f in files}
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    assert compose.kernel_sources_hash() == h.hexdigest()[:16]
