"""The data side of each preprocess.py --target (its instances and its pre-training batches), by name."""
from uer.data.instances import BertData, AlbertData, MlmData, LmData, ClsData, BilmData, ClsMlmData
from uer.data.seq2seq_data import MtData, T5Data, BartData, GsgData, PrefixLmData
from uer.data.llm_data import LlmPretrainData, LlmSftData, ChatData

# Adding a target's data: a class beside these and one entry here.
str2data = {"bert": BertData(), "albert": AlbertData(), "mlm": MlmData(), "lm": LmData(), "cls": ClsData(),
            "bilm": BilmData(), "mt": MtData(), "t5": T5Data(), "bart": BartData(), "gsg": GsgData(),
            "prefixlm": PrefixLmData(), "llm_pretrain": LlmPretrainData(), "llm_sft": LlmSftData(),
            "chat": ChatData(), "cls_mlm": ClsMlmData()}
LABELLED_TARGETS = ("cls", "cls_mlm")  # their datasets say how many labels the model's classifier has
