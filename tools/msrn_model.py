"""Reference MSRN in PyTorch, structured exactly like the official MIVRC/MSRN-PyTorch code
(MSRN/Train/model/msrn.py at a0e038de), so its state_dict keys are the official ones:

  sub_mean.{weight,bias}, head.0.*, body.<i>.{conv_3_1,conv_3_2,conv_5_1,conv_5_2,confusion}.*,
  tail.0.* (1x1 fusion), tail.1.* (3x3), tail.2.<2j>.* (upsampler convs), tail.3.*, add_mean.*

n_feats, n_blocks and scale are parameters (the official file hard-codes 64 / 8). Scale 2^k
builds k stages of conv(n, 4n) + PixelShuffle(2); scale 3 one stage of conv(n, 9n) + PixelShuffle(3),
as EDSR's common.Upsampler does.

MeanShift is a real 1x1 conv. The official code writes `self.requires_grad = False`, which sets a
module attribute and leaves the parameters trainable, so trained checkpoints may hold a mean shift
that is not exactly identity/mean: keep them as parameters and export them as stored.
"""
import math

import torch
import torch.nn as nn

RGB_MEAN = (0.4488, 0.4371, 0.4040)


def default_conv(in_channels, out_channels, kernel_size, bias=True):
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=bias)


class MeanShift(nn.Conv2d):
    def __init__(self, rgb_range, rgb_mean, rgb_std, sign=-1):
        super().__init__(3, 3, kernel_size=1)
        std = torch.Tensor(rgb_std)
        self.weight.data = torch.eye(3).view(3, 3, 1, 1)
        self.weight.data.div_(std.view(3, 1, 1, 1))
        self.bias.data = sign * rgb_range * torch.Tensor(rgb_mean)
        self.bias.data.div_(std)
        # Same (ineffective) line as the official code: parameters stay trainable.
        self.requires_grad = False


class Upsampler(nn.Sequential):
    def __init__(self, conv, scale, n_feat):
        m = []
        if scale & (scale - 1) == 0:
            for _ in range(int(math.log2(scale))):
                m.append(conv(n_feat, 4 * n_feat, 3))
                m.append(nn.PixelShuffle(2))
        elif scale == 3:
            m.append(conv(n_feat, 9 * n_feat, 3))
            m.append(nn.PixelShuffle(3))
        else:
            raise ValueError(f"unsupported scale {scale}: use 2, 3, 4 or 8")
        super().__init__(*m)


class MSRB(nn.Module):
    def __init__(self, conv=default_conv, n_feats=64):
        super().__init__()
        self.conv_3_1 = conv(n_feats, n_feats, 3)
        self.conv_3_2 = conv(n_feats * 2, n_feats * 2, 3)
        self.conv_5_1 = conv(n_feats, n_feats, 5)
        self.conv_5_2 = conv(n_feats * 2, n_feats * 2, 5)
        self.confusion = nn.Conv2d(n_feats * 4, n_feats, 1, padding=0, stride=1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        output_3_1 = self.relu(self.conv_3_1(x))
        output_5_1 = self.relu(self.conv_5_1(x))
        input_2 = torch.cat([output_3_1, output_5_1], 1)
        output_3_2 = self.relu(self.conv_3_2(input_2))
        output_5_2 = self.relu(self.conv_5_2(input_2))
        input_3 = torch.cat([output_3_2, output_5_2], 1)
        output = self.confusion(input_3)
        output = output + x
        return output


class MSRN(nn.Module):
    def __init__(self, n_feats=16, n_blocks=2, scale=2, rgb_range=255, n_colors=3, rgb_mean=RGB_MEAN):
        super().__init__()
        self.n_feats, self.n_blocks, self.scale, self.rgb_range = n_feats, n_blocks, scale, rgb_range
        self.rgb_mean = tuple(rgb_mean)
        rgb_std = (1.0, 1.0, 1.0)
        self.sub_mean = MeanShift(rgb_range, rgb_mean, rgb_std)
        self.head = nn.Sequential(default_conv(n_colors, n_feats, 3))
        self.body = nn.ModuleList([MSRB(n_feats=n_feats) for _ in range(n_blocks)])
        self.tail = nn.Sequential(
            nn.Conv2d(n_feats * (n_blocks + 1), n_feats, 1, padding=0, stride=1),
            default_conv(n_feats, n_feats, 3),
            Upsampler(default_conv, scale, n_feats),
            default_conv(n_feats, n_colors, 3),
        )
        self.add_mean = MeanShift(rgb_range, rgb_mean, rgb_std, 1)

    def forward(self, x):
        x = self.sub_mean(x)
        x = self.head(x)
        res = x
        block_outputs = []
        for block in self.body:
            x = block(x)
            block_outputs.append(x)
        block_outputs.append(res)
        x = self.tail(torch.cat(block_outputs, 1))
        return self.add_mean(x)


def count_parameters(model, include_mean_shift=False):
    return sum(p.numel() for name, p in model.named_parameters()
               if include_mean_shift or not name.startswith(("sub_mean", "add_mean")))


if __name__ == "__main__":
    m = MSRN()
    print("MSRN(16, 2, x2) parameters:", count_parameters(m))
