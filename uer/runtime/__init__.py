"""What a training process runs on: processes and devices, signals, precision, memory, the resumable state."""
