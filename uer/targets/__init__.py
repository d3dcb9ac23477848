from uer.targets.mlm_target import MlmTarget
from uer.targets.bert_target import BertTarget
from uer.targets.albert_target import AlbertTarget
from uer.targets.lm_target import LmTarget
from uer.targets.cls_target import ClsTarget
from uer.targets.bilm_target import BilmTarget
from uer.targets.cls_mlm_target import ClsMlmTarget

# Adding a target: one file under uer/targets/ and one line here.
str2target = {"mlm": MlmTarget, "bert": BertTarget, "albert": AlbertTarget, "lm": LmTarget, "cls": ClsTarget,
              "bilm": BilmTarget, "cls_mlm": ClsMlmTarget}
