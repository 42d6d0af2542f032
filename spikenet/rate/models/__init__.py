"""Special architectures: Hopfield, autoencoders, VAE, RNN/LSTM, CNN, GAN."""
