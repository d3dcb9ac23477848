import torch.nn as nn

from uer.layers.causal_conv import conv_stack, run_conv_stack


class CnnEncoder(nn.Module):
    """layers_num + 1 causal convolutions of width kernel_size: `conv_1`, then `conv.0` .. `conv.{layers_num-1}`.

    UER-py's plain CNN builds layers_num convolutions after the first one (its gatedcnn, rcnn and crnn build
    layers_num - 1); the count is kept so its checkpoints load whole and compute what they computed there.

    As in the original UER-py, no non-linearity sits between the convolutions (published weights compute
    what they computed there). Left padding makes it causal, so it fits the lm target.
    """

    causal = True
    shape_keys = ("hidden_size", "layers_num")

    def __init__(self, args):
        super().__init__()
        self.conv_1, self.conv = conv_stack(args.emb_size, args.hidden_size, args.kernel_size,
                                               args.layers_num)

    def forward(self, emb, seg):
        return run_conv_stack(emb, self.conv_1, self.conv)
