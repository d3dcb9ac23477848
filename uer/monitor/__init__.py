"""What a person watching a run sees: progress bars, report lines, the metrics file and TensorBoard curves."""
