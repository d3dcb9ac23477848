import torch.nn as nn
import torch.nn.functional as F
from uer.core.model_config import model_config

# hidden_act of a config: the feed-forward activation. gelu is the exact erf form (UER-py's BERT configs);
# relu is what UER-py's ALBERT configs name; gelu_fast/gelu_new (tanh approximation) and silu come from later
# generations of the toolkit and from HuggingFace configs.
ACTIVATIONS = {"gelu": F.gelu, "relu": F.relu, "silu": F.silu,
               "gelu_fast": lambda x: F.gelu(x, approximate="tanh"),
               "gelu_new": lambda x: F.gelu(x, approximate="tanh")}


class PositionwiseFeedForward(nn.Module):
    """"feed_forward": "dense" (the default): linear_2(act(linear_1(x)))."""

    def __init__(self, hidden_size, feedforward_size, hidden_act="gelu", bias=True):
        super().__init__()
        self.linear_1 = nn.Linear(hidden_size, feedforward_size, bias=bias)
        self.linear_2 = nn.Linear(feedforward_size, hidden_size, bias=bias)
        self.act = ACTIVATIONS[hidden_act]

    def forward(self, x):
        return self.linear_2(self.act(self.linear_1(x)))


class GatedFeedForward(nn.Module):
    """"feed_forward": "gated": linear_2(act(linear_gate(x)) * linear_1(x)); SwiGLU with "hidden_act": "silu"
    (LLaMA), GEGLU with gelu / gelu_fast (T5 v1.1)."""

    def __init__(self, hidden_size, feedforward_size, hidden_act="silu", bias=True):
        super().__init__()
        self.linear_gate = nn.Linear(hidden_size, feedforward_size, bias=bias)
        self.linear_1 = nn.Linear(hidden_size, feedforward_size, bias=bias)
        self.linear_2 = nn.Linear(feedforward_size, hidden_size, bias=bias)
        self.act = ACTIVATIONS[hidden_act]

    def forward(self, x):
        return self.linear_2(self.act(self.linear_gate(x)) * self.linear_1(x))


def feed_forward_from_args(args):
    args = model_config(args)
    kind = GatedFeedForward if args.feed_forward == "gated" else PositionwiseFeedForward
    return kind(args.hidden_size, args.feedforward_size, args.hidden_act,
                bias=not args.remove_transformer_bias)
