import torch
import torch.nn as nn

from uer.layers.causal_conv import conv_stack, causal_conv


class GatedcnnEncoder(nn.Module):
    """Gated convolutional network (Dauphin et al.): each layer is (conv(x) + b) * sigmoid(gate(x) + c), with
    a residual connection around every block_size layers. Causal (left padding), so it fits the lm target.

    Keys follow UER: `conv_1`/`gate_1` and `conv_b1`/`gate_b1` for the first layer, `conv.{i}`, `gate.{i}`,
    `conv_b.{i}`, `gate_b.{i}` for the others (the extra biases are UER's, kept for its published weights).
    """

    causal = True
    shape_keys = ("hidden_size", "layers_num")

    def __init__(self, args):
        super().__init__()
        self.block_size = args.block_size
        hidden, kernel, layers = args.hidden_size, args.kernel_size, args.layers_num
        self.conv_1, self.conv = conv_stack(args.emb_size, hidden, kernel, layers - 1)
        self.gate_1, self.gate = conv_stack(args.emb_size, hidden, kernel, layers - 1)

        # Stored as [1, hidden, 1, 1] like UER's 4-D convolutions.
        self.conv_b1 = nn.Parameter(torch.zeros(1, hidden, 1, 1))
        self.gate_b1 = nn.Parameter(torch.zeros(1, hidden, 1, 1))
        self.conv_b = nn.ParameterList(nn.Parameter(torch.zeros(1, hidden, 1, 1)) for _ in range(layers - 1))
        self.gate_b = nn.ParameterList(nn.Parameter(torch.zeros(1, hidden, 1, 1)) for _ in range(layers - 1))

    @staticmethod
    def glu(x, conv, gate, conv_b, gate_b):
        return (causal_conv(x, conv) + conv_b.squeeze(3)) * torch.sigmoid(causal_conv(x, gate) + gate_b.squeeze(3))

    def forward(self, emb, seg):
        hidden = self.glu(emb.transpose(1, 2), self.conv_1, self.gate_1, self.conv_b1, self.gate_b1)
        residual = hidden
        for i in range(len(self.conv)):
            hidden = self.glu(hidden, self.conv[i], self.gate[i], self.conv_b[i], self.gate_b[i])
            if (i + 1) % self.block_size == 0:
                hidden = hidden + residual
                residual = hidden
        return hidden.transpose(1, 2)
