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
