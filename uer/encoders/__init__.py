from uer.encoders.bert_encoder import BertEncoder
from uer.encoders.transformer_encoder import TransformerEncoder
from uer.encoders.gpt_encoder import GptEncoder
from uer.encoders.lstm_encoder import LstmEncoder
from uer.encoders.gru_encoder import GruEncoder
from uer.encoders.bilstm_encoder import BilstmEncoder
from uer.encoders.cnn_encoder import CnnEncoder
from uer.encoders.gatedcnn_encoder import GatedcnnEncoder
from uer.encoders.attn_encoder import AttnEncoder
from uer.encoders.synt_encoder import SyntEncoder
from uer.encoders.rcnn_encoder import RcnnEncoder
from uer.encoders.crnn_encoder import CrnnEncoder

# Adding an encoder: one file under uer/encoders/ and one line here.
str2encoder = {"bert": BertEncoder, "gpt": GptEncoder, "lstm": LstmEncoder, "gru": GruEncoder,
               "bilstm": BilstmEncoder, "cnn": CnnEncoder, "gatedcnn": GatedcnnEncoder, "attn": AttnEncoder,
               "synt": SyntEncoder, "rcnn": RcnnEncoder, "crnn": CrnnEncoder, "transformer": TransformerEncoder}
