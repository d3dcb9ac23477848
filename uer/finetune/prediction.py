"""Predictions over a set of examples in batches, in input order, by the one process or split over the
processes of a run and gathered."""
import torch

from uer.finetune.data import evaluation_batches
from uer.monitor.progress import progress
from uer.runtime.distributed import Placement
from uer.runtime.runtime import Runtime


def predict(model, examples, batch_size, runtime, outputs, desc="predicting"):
    """outputs(model, examples, indices, src, seg) -> per-example rows; returned in input order. runtime: the
    Runtime the model runs in (under torchrun each process predicts every size-th batch and all get every row),
    or the device of a model in this process alone."""
    if not isinstance(runtime, Runtime):
        runtime = Runtime(Placement(device=str(runtime)))
    model.eval()
    result = [None] * len(examples)
    batches = runtime.evaluation_share(evaluation_batches(examples.length, batch_size))
    with torch.no_grad():
        for indices in progress(batches, desc=desc, unit="batch"):
            src, seg = examples.batch(indices, runtime.device)
            rows = outputs(model, examples, indices, src, seg)
            for i, row in zip(indices, rows):
                result[i] = row
    return runtime.gathered(result)
