from uer.subencoders.avg_subencoder import AvgSubencoder
from uer.subencoders.rnn_subencoder import LstmSubencoder, GruSubencoder
from uer.subencoders.cnn_subencoder import CnnSubencoder

# Adding a subencoder: one file under uer/subencoders/ and one line here.
str2subencoder = {"avg": AvgSubencoder, "lstm": LstmSubencoder, "gru": GruSubencoder, "cnn": CnnSubencoder}
