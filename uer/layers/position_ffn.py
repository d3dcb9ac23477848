import torch.nn as nn
import torch.nn.functional as F

# hidden_act of a config: the feed-forward activation. gelu is the exact erf form (UER-py's BERT configs);
# relu is what UER-py's ALBERT configs name; gelu_fast/gelu_new (tanh approximation) and silu come from later
# generations of the toolkit and from HuggingFace configs.
ACTIVATIONS = {"gelu": F.gelu, "relu": F.relu, "silu": F.silu,
               "gelu_fast": lambda x: F.gelu(x, approximate="tanh"),
               "gelu_new": lambda x: F.gelu(x, approximate="tanh")}


class PositionwiseFeedForward(nn.Module):
    def __init__(self, hidden_size, feedforward_size, hidden_act="gelu"):
        super().__init__()
        self.linear_1 = nn.Linear(hidden_size, feedforward_size)
        self.linear_2 = nn.Linear(feedforward_size, hidden_size)
        self.act = ACTIVATIONS[hidden_act]

    def forward(self, x):
        return self.linear_2(self.act(self.linear_1(x)))
