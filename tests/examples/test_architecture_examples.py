"""Run the architecture example scripts with --quick (one subprocess for all of them)."""

from tests.examples._runner import run_examples

SCRIPTS = {
    "hopfield.py": ("hopfield_letters.png", "hopfield_capacity.png"),
    "autoencoder.py": ("autoencoder_binary_world.png", "autoencoder_denoising.png"),
    "vae.py": ("vae_latent_grid.png",),
    "rnn.py": ("rnn.png",),
    "gan.py": ("gan.png",),
    "adversarial.py": ("adversarial_digits.png", "adversarial_robustness.png"),
}



def test_architecture_examples_run_quick_and_save_figures(tmp_path):
    stdout = run_examples(SCRIPTS, tmp_path, torch_threads=1)
    for figures in SCRIPTS.values():
        for figure in figures:
            assert (tmp_path / figure).stat().st_size > 5_000, figure
    # Each script prints the numbers behind its claims.
    for text in ("recall rate", "orthogonal set: X W == 3 X: True", "bits wrong", "denoising",
                 "test ELBO", "next element of 0, 2, 4, 6", "delayed recall", "modes covered",
                 "targeted success rate", "CNN: test accuracy"):
        assert text in stdout, text
