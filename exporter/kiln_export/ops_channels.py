"""Lowering of tensor ops along the channel dimension (slicing, chunk/split, channel shuffle) to kiln ops.
FUNCTIONS and METHODS use ops_functions.py's table format."""

FUNCTIONS = []

# Tensor methods: the tensor itself is the first parameter, "input".
METHODS = []
