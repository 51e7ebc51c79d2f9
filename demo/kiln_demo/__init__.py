"""kiln_demo: trains a small convolutional autoencoder on scikit-image's bundled sample images, exports it
with kiln_export, runs it through kiln and through PyTorch on whole images, and writes PNG grids and a
report comparing the two (demo/README.md).

    python3 -m kiln_demo --out out/demo
"""
