"""Fine-tuning tasks by name. Each is a module of uer/tasks/ declaring its options (fine_tuning_options and, where
it has an inference script, inference_options, over the shared ones of uer/opts.py), its fine-tuning
(fine_tune(args): its reader, model, loss and evaluator on the one loop, uer/finetune/loop.py) and its prediction
(infer(args): the fine-tuned model's predictions and their file). run_NAME.py and inference/run_NAME_infer.py
are shims over script(). Adding a task is one module and one line here."""
import importlib

TASKS = ("classifier", "classifier_cv", "classifier_multi_label", "classifier_prompt", "classifier_siamese",
         "regression", "simcse", "mt_classifier", "dbqa", "ner", "cmrc", "c3", "text2text", "dpo", "classifier_grid", "chid")


def task(name):
    if name not in TASKS:
        raise KeyError(f"no fine-tuning task {name!r}; the tasks: {', '.join(TASKS)}")
    return importlib.import_module(f"uer.tasks.{name}")


def script(doc, name, inference=False):
    """(build_parser, main) of the fine-tuning script of task `name`, or of its inference script."""
    from uer.core.cli import ScriptMain
    module = task(name)

    def build_parser():
        return (module.inference_options if inference else module.fine_tuning_options)(doc)

    def parsed(parser, argv):
        from uer.opts import parse
        return parse(parser, argv)
    return build_parser, ScriptMain(build_parser, module.infer if inference else module.fine_tune, parsed)
