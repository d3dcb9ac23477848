from uer.encoders.bert_encoder import BertEncoder
from uer.encoders.gpt_encoder import GptEncoder

# Adding an encoder: one file under uer/encoders/ and one line here.
str2encoder = {"bert": BertEncoder, "gpt": GptEncoder}
